/**
 * container-exec.ts implements `exec`: a new process in a running container. In the
 * foreground the CLI itself carries the process's stdio and exit status; with --detach it
 * starts a copy of itself in the background that does so (its pid goes to --pid-file, so
 * a shim can wait for it as for runc's exec), and returns once the process has started.
 * With a terminal (process.terminal) the sandbox opens a new pty for the process and its
 * master goes to --console-socket before exec reports the start, as with runc.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Process } from '../../oci/config';
import { runExec } from '../sandbox/sentry-exec';
import type { Container } from './container';
import { ContainerError, StatusError } from './errors';
import { writeAtomic } from './store';
import { profileMark } from '../../native/startup-profile';
import { pipeCloexec, spawnProcess } from '../../native/spawn';
import { closeFd } from '../../native/unixsock';

/** ExecOptions are the parts of `exec` that are not the process. */
export interface ExecOptions {
  detach: boolean;
  pidFile?: string;
  /** consoleSocket receives the pty master of a process with a terminal (runc's --console-socket). */
  consoleSocket?: string;
  /** ignorePaused allows an exec in a paused container (runc's --ignore-paused). */
  ignorePaused?: boolean;
  /** launcher and globals re-run tvisor for --detach. */
  launcher: string;
  globals: string[];
}

/** READY_ENV names the descriptor a detached exec reports its start on. */
export const READY_ENV = 'TVISOR_EXEC_READY_FD';

/** execInContainer runs proc in c; it resolves with the exit code (0 once started, with detach). */
export async function execInContainer(c: Container, proc: Process, o: ExecOptions): Promise<number> {
  const status = c.status();
  // As runc's --ignore-paused: the process is made in the paused container and runs at resume.
  if (status !== 'running' && !(status === 'paused' && o.ignorePaused)) throw new StatusError(`cannot exec in container "${c.id}": container is ${status}`, status);
  if (proc.terminal && !o.consoleSocket) throw new ContainerError('exec: process.terminal (--tty) needs --console-socket');
  if (!proc.terminal && o.consoleSocket) throw new ContainerError('exec: --console-socket needs a terminal (--tty or process.terminal)');
  const consoleSocket = o.consoleSocket ? path.resolve(o.consoleSocket) : undefined;
  const ref = c.sandboxRef();
  if (!o.detach) {
    const readyFd = Number(process.env[READY_ENV] ?? -1);
    let told = false;
    const tell = (line: string) => {
      if (readyFd < 0 || told) return;
      told = true;
      try {
        fs.writeSync(readyFd, `${line}\n`);
        fs.closeSync(readyFd);
      } catch {
        // the detaching parent went away
      }
    };
    if (o.pidFile) writeAtomic(path.resolve(o.pidFile), String(process.pid));
    profileMark('state-read');
    try {
      return await runExec(ref.stateDir, proc, () => {
        profileMark('exec-started');
        tell('ok');
      }, { consoleSocket, container: typeof ref.data?.pod === 'string' ? c.id : undefined });
    } catch (e) {
      // A detached exec's reason is said once, by the parent that detached it (on its
      // stderr and as the last error of --log, which containerd's shim reads): here it only
      // goes up the ready pipe (unless it has said the process started: then it is this
      // copy's own to report, on the stderr and --log it inherited).
      if (readyFd < 0 || told) throw e;
      tell(`error ${(e as Error).message}`);
      return 1;
    }
  }
  // Loaded here: only a detached exec needs a random name (crypto costs a foreground exec ~2 ms).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const procFile = path.join(ref.stateDir, `exec-${randomBytes(6).toString('hex')}.json`);
  writeAtomic(procFile, JSON.stringify(proc));
  const args = [o.launcher, ...o.globals, 'exec', '--process', procFile, '--remove-process-file', ...(o.ignorePaused ? ['--ignore-paused'] : []), ...(consoleSocket ? ['--console-socket', consoleSocket] : []), c.id];
  // With a terminal the process's stdio is the pty: the background copy keeps none of the
  // caller's (containerd's shim reads exec's output pipe to its end before going on).
  const stdio = proc.terminal ? [null, null, null] : [0, 1, 2];
  // posix_spawn (native/spawn.ts), not child_process: a fork of this Node process costs
  // 5-7 ms of page-table copying, on the path of every detached exec (containerd's). In a
  // session of its own; reparented to the caller's subreaper when this process exits.
  const [readyR, readyW] = pipeCloexec();
  let pid: number | undefined;
  let said = '';
  try {
    pid = spawnProcess({ file: process.execPath, argv: [process.execPath, ...args], env: { ...process.env, [READY_ENV]: '3' }, fds: [...stdio, readyW], setsid: true });
  } catch (e) {
    said = `error ${(e as Error).message}`;
  } finally {
    closeFd(readyW);
  }
  try {
    // The copy writes one line and closes its end (or dies): read to the end, blocking
    // (this process has nothing else to do meanwhile).
    if (pid !== undefined) said = readToEnd(readyR).trim();
  } finally {
    closeFd(readyR);
  }
  if (said !== 'ok') {
    fs.rmSync(procFile, { force: true });
    // The background copy's ready line says why; without one, it died before it could tell.
    const why = said.startsWith('error ') ? said.slice(6) : `the process did not start (${said || 'the background exec ended without a word'})`;
    throw new ContainerError(why.startsWith('exec') ? why : `exec: ${why}`);
  }
  if (o.pidFile) writeAtomic(path.resolve(o.pidFile), String(pid));
  return 0;
}

/** readToEnd reads a descriptor until end-of-file (blocking) and returns what came, as UTF-8. */
function readToEnd(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINTR' || (e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) return Buffer.concat(chunks).toString('utf8');
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
}
