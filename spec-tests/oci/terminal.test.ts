/**
 * Terminals: process.terminal with --console-socket, the way containerd's shim and runc
 * use it. The test listens on a Unix socket, receives the pty master that `create` sends
 * (one SCM_RIGHTS message with one descriptor), starts the container and reads what the
 * container writes to its terminal. Run against runc as the reference and tvisor.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accept, closeFd, listenUnix, MsgBuffers } from '../../native/unixsock';
import { OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const runtimes = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]].filter(([, bin]) => fs.existsSync(bin));
if (runtimes.length < 2) console.warn('terminal tests: runc or bin/tvisor is missing; running what exists');

/** readAll reads the pty master until the container side closes (EIO) or 10 s pass. */
function readAll(master: number): Promise<string> {
  return new Promise((resolve) => {
    const rs = fs.createReadStream('', { fd: master });
    let out = '';
    const timer = setTimeout(() => { rs.destroy(); resolve(out); }, 10_000);
    const done = () => { clearTimeout(timer); resolve(out); };
    rs.on('data', (d) => { out += d; });
    rs.on('error', done);
    rs.on('end', done);
  });
}

/** holders returns the other processes that have `file` open. */
function holders(file: string): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid).map(Number).filter((pid) => {
    try {
      return fs.readdirSync(`/proc/${pid}/fd`).some((f) => {
        try {
          return fs.readlinkSync(`/proc/${pid}/fd/${f}`) === file;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

describe.each(runtimes)('%s with a terminal', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  afterAll(() => rt.cleanup());

  test('the pty master arrives on the console socket and the process sees a terminal', async () => {
    const bundle = rt.bundle('tty', ['sh', '-c', 'tty; stty size; echo done; exit 3'], (s) => {
      s.process!.terminal = true;
      s.process!.consoleSize = { height: 24, width: 100 };
    });
    const sock = path.join(rt.dir, 'console.sock');
    const lfd = listenUnix(sock);
    try {
      const created = rt.run('create', '--bundle', bundle, '--console-socket', sock, 'tty1');
      expect(created.stderr).toBe('');
      expect(created.status).toBe(0);
      const conn = accept(lfd);
      expect(conn).toBeGreaterThanOrEqual(0);
      const io = new MsgBuffers(4096);
      expect(io.recv(conn)).toBeGreaterThan(0);
      closeFd(conn);
      expect(io.fds).toHaveLength(1);
      const output = readAll(io.fds[0]);
      expect(rt.run('start', 'tty1').status).toBe(0);
      const text = (await output).replace(/\r\n/g, '\n');
      expect(text).toBe('/dev/pts/0\n24 100\ndone\n');
      for (let i = 0; i < 100 && rt.state('tty1')?.status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(rt.state('tty1')?.status).toBe('stopped');
    } finally {
      closeFd(lfd);
      rt.run('delete', '--force', 'tty1');
    }
  }, 60_000);

  // containerd's runc shim gives `create` pipes for its output when the container has a
  // terminal and reads them to their end before it calls `start`: nothing of the sandbox
  // may keep them (docker run -t stalled so). The container's stdio is the pty.
  test('create leaves no process holding its stdout and stderr once it exits', async () => {
    const bundle = rt.bundle('tty-pipes', ['true'], (s) => {
      s.process!.terminal = true;
    });
    const sock = path.join(rt.dir, 'console-pipes.sock');
    const lfd = listenUnix(sock);
    try {
      // A file rather than a pipe, so that /proc names the same thing in every process.
      const output = path.join(rt.dir, 'create-output');
      const fd = fs.openSync(output, 'w');
      const child = spawn(bin, ['--root', rt.root, 'create', '--bundle', bundle, '--console-socket', sock, 'tty2'], { stdio: ['ignore', fd, fd] });
      fs.closeSync(fd);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(fs.readFileSync(output, 'utf8')).toBe('');
      expect(code).toBe(0);
      expect(holders(output)).toEqual([]);
      const conn = accept(lfd);
      const io = new MsgBuffers(4096);
      expect(io.recv(conn)).toBeGreaterThan(0);
      closeFd(conn);
      for (const fd of io.fds) closeFd(fd);
    } finally {
      closeFd(lfd);
      rt.run('delete', '--force', 'tty2');
    }
  }, 60_000);
});
