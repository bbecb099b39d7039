/**
 * The client side of `exec`: connect to a running sandbox's exec socket, hand it the
 * process description and this process's stdin, stdout and stderr (SCM_RIGHTS) or, with a
 * terminal, pass the pty master it gets back on to the console socket; forward the
 * signals this process receives, and resolve with the exec'd process's exit code.
 */
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import type { Process } from '../../oci/config';
import { connectUnix, MsgBuffers, closeFd } from '../../native/unixsock';
import { sendConsoleFd } from '../../native/console-socket';

/** EXEC_SOCKET is the exec socket's name in the container's state directory. */
export const EXEC_SOCKET = 'sandbox.sock.exec';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;

/** ExecIo says where the process's stdio comes from. */
export interface ExecIo {
  /** consoleSocket, with proc.terminal, receives the new terminal's pty master (runc's protocol). */
  consoleSocket?: string;
  /** container names the pod member the process joins (its sandbox is its pod's: pod-member.ts). */
  container?: string;
}

/**
 * runExec starts `proc` in the sandbox whose state directory is `stateDir`; `onStarted`
 * learns the sandbox pid of the new process. It resolves with the exit code. Without a
 * terminal the process gets this process's stdin, stdout and stderr; with one
 * (proc.terminal) the sandbox opens a pty and its master goes to io.consoleSocket.
 */
export function runExec(stateDir: string, proc: Process, onStarted: (pid: number) => void = () => undefined, io: ExecIo = {}): Promise<number> {
  if (proc.terminal && !io.consoleSocket) return Promise.reject(new Error('exec: a terminal (--tty, process.terminal) needs --console-socket'));
  const fd = connectUnix(path.join(stateDir, EXEC_SOCKET));
  const msg = new MsgBuffers(4096);
  const req = Buffer.from(`${JSON.stringify({ process: proc, ...(io.container !== undefined ? { container: io.container } : {}) })}\n`);
  const n = msg.send(fd, req, req.length, proc.terminal ? [] : [0, 1, 2]);
  if (n !== req.length) {
    closeFd(fd);
    return Promise.reject(new Error(`cannot send the exec request to the sandbox (${n})`));
  }
  let early = '';
  if (proc.terminal) {
    try {
      early = receiveConsole(fd, msg, io.consoleSocket!);
    } catch (e) {
      closeFd(fd);
      return Promise.reject(e);
    }
  }
  // Loaded here: pod-member.ts imports this module on every command's path, and net (with
  // the streams under it) costs ~3 ms of a command that never talks to a sentry.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net');
  const sock = new net.Socket({ fd, readable: true, writable: true });
  return new Promise((resolve, reject) => {
    const handlers = FORWARDED.map((sig) => {
      const h = () => sock.write(`${JSON.stringify({ signal: osConstants.signals[sig] })}\n`);
      process.on(sig, h);
      return [sig, h] as const;
    });
    const done = (fn: () => void) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      sock.destroy();
      fn();
    };
    let buf = '';
    const take = (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const reply = JSON.parse(buf.slice(0, nl)) as { pid?: number; exit?: number; error?: string };
        buf = buf.slice(nl + 1);
        if (reply.error) return done(() => reject(new Error(reply.error)));
        if (reply.pid !== undefined) onStarted(reply.pid);
        if (reply.exit !== undefined) return done(() => resolve(reply.exit!));
      }
    };
    sock.on('data', (d) => take(String(d)));
    if (early) take(early);
    sock.on('error', (e) => done(() => reject(new Error(`the sandbox went away: ${e.message}`))));
    sock.on('end', () => done(() => reject(new Error('the sandbox went away before the process exited'))));
  });
}

/**
 * readLineWithFds reads from a connected socket (blocking) until a whole line has come, with
 * the descriptors that came along (the caller closes them). A closed or failed socket (n, 0
 * or -errno) closes them and throws what `failed` makes of it.
 */
export function readLineWithFds(fd: number, msg: MsgBuffers, failed: (n: number) => Error): { text: string; fds: number[] } {
  let text = '';
  const fds: number[] = [];
  while (!text.includes('\n')) {
    const n = msg.recv(fd);
    fds.push(...msg.fds);
    if (n <= 0) {
      for (const f of fds) closeFd(f);
      throw failed(n);
    }
    text += msg.data.toString('utf8', 0, n);
  }
  return { text, fds };
}

/**
 * receiveConsole waits for the sandbox's first reply to a terminal exec: the pid line
 * with the pty master attached. The master goes to `consoleSocket` before the pid line is
 * handled (so a detached exec reports its start only once the caller has its console),
 * and is then closed here. It returns what was read (the pid line, or an error line).
 */
function receiveConsole(fd: number, msg: MsgBuffers, consoleSocket: string): string {
  const { text, fds } = readLineWithFds(fd, msg, (n) => new Error(n === 0 ? 'the sandbox went away before the process started' : `reading from the sandbox: errno ${-n}`));
  if (fds.length === 0) return text;
  try {
    const reply = JSON.parse(text.slice(0, text.indexOf('\n'))) as { tty?: string };
    sendConsoleFd(consoleSocket, fds[0], reply.tty ?? '/dev/ptmx');
  } catch (e) {
    throw new Error(`exec: ${(e as Error).message}`);
  } finally {
    for (const f of fds) closeFd(f);
  }
  return text;
}
