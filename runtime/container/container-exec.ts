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
  const stdio = proc.terminal ? 'ignore' : 'inherit';
  // Loaded here, as hooks.ts does: only a detached exec spawns (child_process costs every
  // other exec ~2 ms).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(process.execPath, args, {
    stdio: [stdio, stdio, stdio, 'pipe'],
    detached: true,
    env: { ...process.env, [READY_ENV]: '3' },
  });
  const said = await new Promise<string>((resolve) => {
    let text = '';
    const ready = child.stdio[3] as NodeJS.ReadableStream;
    ready.on('data', (d) => { text += d; });
    ready.on('end', () => resolve(text.trim()));
    child.on('error', (e) => resolve(`error ${e.message}`));
  });
  if (said !== 'ok') {
    fs.rmSync(procFile, { force: true });
    // The background copy's ready line says why; without one, it died before it could tell.
    const why = said.startsWith('error ') ? said.slice(6) : `the process did not start (${said || 'the background exec ended without a word'})`;
    throw new ContainerError(why.startsWith('exec') ? why : `exec: ${why}`);
  }
  if (o.pidFile) writeAtomic(path.resolve(o.pidFile), String(child.pid));
  child.unref();
  return 0;
}
