/**
 * container-exec.ts implements `exec`: a new process in a running container. In the
 * foreground the CLI itself carries the process's stdio and exit status; with --detach it
 * starts a copy of itself in the background that does so (its pid goes to --pid-file, so
 * a shim can wait for it as for runc's exec), and returns once the process has started.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Process } from '../oci/config';
import { runExec } from '../sandbox/sentry-exec';
import type { Container } from './container';
import { ContainerError, StatusError } from './errors';
import { writeAtomic } from './store';

/** ExecOptions are the parts of `exec` that are not the process. */
export interface ExecOptions {
  detach: boolean;
  pidFile?: string;
  /** launcher and globals re-run tvisor for --detach. */
  launcher: string;
  globals: string[];
}

/** READY_ENV names the descriptor a detached exec reports its start on. */
export const READY_ENV = 'TVISOR_EXEC_READY_FD';

/** execInContainer runs proc in c; it resolves with the exit code (0 once started, with detach). */
export async function execInContainer(c: Container, proc: Process, o: ExecOptions): Promise<number> {
  const status = c.status();
  if (status !== 'running') throw new StatusError(`cannot exec in container "${c.id}": container is ${status}`, status);
  if (proc.terminal) throw new ContainerError('exec: process.terminal: terminals are not supported by this build yet');
  const ref = c.sandboxRef();
  if (!o.detach) {
    const readyFd = Number(process.env[READY_ENV] ?? -1);
    if (o.pidFile) writeAtomic(path.resolve(o.pidFile), String(process.pid));
    return runExec(ref.stateDir, proc, () => {
      if (readyFd >= 0) {
        fs.writeSync(readyFd, 'ok\n');
        fs.closeSync(readyFd);
      }
    });
  }
  const procFile = path.join(ref.stateDir, `exec-${crypto.randomBytes(6).toString('hex')}.json`);
  writeAtomic(procFile, JSON.stringify(proc));
  const child = spawn(process.execPath, [o.launcher, ...o.globals, 'exec', '--process', procFile, '--remove-process-file', c.id], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    detached: true,
    env: { ...process.env, [READY_ENV]: '3' },
  });
  const started = await new Promise<boolean>((resolve) => {
    let said = '';
    const ready = child.stdio[3] as NodeJS.ReadableStream;
    ready.on('data', (d) => { said += d; });
    ready.on('end', () => resolve(said.trim() === 'ok'));
    child.on('error', () => resolve(false));
  });
  if (!started) {
    fs.rmSync(procFile, { force: true });
    throw new ContainerError('exec: the process did not start (see the error above)');
  }
  if (o.pidFile) writeAtomic(path.resolve(o.pidFile), String(child.pid));
  child.unref();
  return 0;
}
