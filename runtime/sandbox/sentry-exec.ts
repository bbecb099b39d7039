/**
 * The client side of `exec`: connect to a running sandbox's exec socket, hand it the
 * process description and this process's stdin, stdout and stderr (SCM_RIGHTS), forward
 * the signals this process receives, and resolve with the exec'd process's exit code.
 */
import * as net from 'node:net';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import type { Process } from '../oci/config';
import { connectUnix, MsgBuffers, closeFd } from '../../native/unixsock';

/** EXEC_SOCKET is the exec socket's name in the container's state directory. */
export const EXEC_SOCKET = 'sandbox.sock.exec';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const;

/**
 * runExec starts `proc` in the sandbox whose state directory is `stateDir`; `onStarted`
 * learns the sandbox pid of the new process. It resolves with the exit code.
 */
export function runExec(stateDir: string, proc: Process, onStarted: (pid: number) => void = () => undefined): Promise<number> {
  const fd = connectUnix(path.join(stateDir, EXEC_SOCKET));
  const io = new MsgBuffers(64);
  const req = Buffer.from(`${JSON.stringify({ process: proc })}\n`);
  const n = io.send(fd, req, req.length, [0, 1, 2]);
  if (n !== req.length) {
    closeFd(fd);
    return Promise.reject(new Error(`cannot send the exec request to the sandbox (${n})`));
  }
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
    sock.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { pid?: number; exit?: number; error?: string };
        buf = buf.slice(nl + 1);
        if (msg.error) return done(() => reject(new Error(msg.error)));
        if (msg.pid !== undefined) onStarted(msg.pid);
        if (msg.exit !== undefined) return done(() => resolve(msg.exit!));
      }
    });
    sock.on('error', (e) => done(() => reject(new Error(`the sandbox went away: ${e.message}`))));
    sock.on('end', () => done(() => reject(new Error('the sandbox went away before the process exited'))));
  });
}
