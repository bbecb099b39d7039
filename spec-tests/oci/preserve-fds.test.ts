/**
 * `run --preserve-fds N` (runc's convention, used by systemd socket activation and by
 * conmon): the caller's descriptors 3 .. 3+N-1 become the container process's 3 ... The
 * same bundle runs under runc and tvisor; what the container reads from fd 3 and writes
 * to fd 4 must be the same, and a count beyond the open descriptors is refused by tvisor
 * with one line, leaving nothing under --root.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from './harness';

const REPO = path.resolve(__dirname, '..', '..');
const TVISOR = path.join(REPO, 'bin', 'tvisor');
const isRoot = process.getuid?.() === 0;
const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]];

/** runWithFds runs `run` with extra descriptors after stdio (they become fds 3, 4, ...). */
function runWithFds(rt: OciRuntime, extra: number[], ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = path.join(rt.dir, 'out');
  const err = path.join(rt.dir, 'err');
  const outFd = fs.openSync(out, 'w');
  const errFd = fs.openSync(err, 'w');
  try {
    const r = spawnSync(rt.bin, [...rt.globals, ...args], { stdio: ['ignore', outFd, errFd, ...extra], timeout: 60_000 });
    return { status: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
}

const usable = isRoot && fs.existsSync(BUSYBOX) && fs.existsSync(TVISOR);

(usable ? describe.each(RUNTIMES) : describe.skip.each(RUNTIMES))('%s run --preserve-fds', (name, bin) => {
  let rt: OciRuntime;
  beforeEach(() => { rt = new OciRuntime(name, bin); });
  afterEach(() => { rt.cleanup(); });

  test('fds 3 and 4 of the caller are the container process\'s fds 3 and 4', () => {
    const bundle = rt.bundle('b', ['sh', '-c', 'read line <&3; echo "read: $line"; echo "written through 4" >&4; ls /proc/self/fd | wc -l']);
    const input = path.join(rt.dir, 'input');
    const output = path.join(rt.dir, 'output');
    fs.writeFileSync(input, 'from the caller\n');
    const inFd = fs.openSync(input, 'r');
    const outFd = fs.openSync(output, 'w');
    try {
      const r = runWithFds(rt, [inFd, outFd], 'run', '--preserve-fds', '2', '--bundle', bundle, 'p1');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // 0, 1, 2, 3, 4 and the one ls opens on /proc/self/fd: nothing else of the caller.
      expect(r.stdout).toBe('read: from the caller\n6\n');
    } finally {
      fs.closeSync(inFd);
      fs.closeSync(outFd);
    }
    expect(fs.readFileSync(output, 'utf8')).toBe('written through 4\n');
  });

  test('without --preserve-fds the caller\'s extra descriptors stay outside', () => {
    const bundle = rt.bundle('b', ['sh', '-c', 'ls /proc/self/fd | wc -l; echo x >&3']);
    const inFd = fs.openSync(path.join(rt.dir, 'spare'), 'w');
    try {
      const r = runWithFds(rt, [inFd], 'run', '--bundle', bundle, 'p2');
      // 0, 1, 2 and ls's own; writing to fd 3 fails in the container.
      expect(r.stdout).toBe('4\n');
      expect(r.stderr).toMatch(/3: Bad file descriptor|bad file descriptor/i);
    } finally {
      fs.closeSync(inFd);
    }
    expect(fs.readFileSync(path.join(rt.dir, 'spare'), 'utf8')).toBe('');
  });
});

(usable ? describe : describe.skip)('tvisor --preserve-fds bad input', () => {
  test('a count beyond the open descriptors is one error line, and nothing is left', () => {
    const rt = new OciRuntime('tvisor', TVISOR);
    try {
      const bundle = rt.bundle('b', ['true']);
      const r = runWithFds(rt, [], 'run', '--preserve-fds', '2', '--bundle', bundle, 'bad');
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('tvisor: --preserve-fds 2: descriptor 3 was not passed to tvisor\n');
      expect(fs.existsSync(rt.root) ? fs.readdirSync(rt.root) : []).toEqual([]);
      const neg = runWithFds(rt, [], 'run', '--preserve-fds', '-1', '--bundle', bundle, 'bad');
      expect(neg.status).toBe(1);
      expect(neg.stderr).toContain('--preserve-fds: -1 is not a count');
    } finally {
      rt.cleanup();
    }
  });
});
