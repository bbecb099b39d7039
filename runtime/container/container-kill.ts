/**
 * container-kill.ts implements `kill` (runtime.md "Kill"): a signal may only be sent to a
 * container that is `created` or `running`; anything else is an error that changes
 * nothing. The message keeps runc's "container not running", which containerd's shim
 * matches to treat the process as already gone. As runc's, `--all` of a container that
 * is already stopped succeeds (nothing is left to signal), and signal 0 only checks that
 * the init is there.
 */
import type { Container } from './container';
import { StatusError } from './errors';

/** killContainer sends `signo` to the container's init (or all processes). The caller holds the lock. */
export async function killContainer(c: Container, signo: number, all = false): Promise<void> {
  const status = c.status();
  if (all && status === 'stopped') return;
  if (status !== 'created' && status !== 'running' && status !== 'paused') {
    throw new StatusError(`cannot kill container "${c.id}": container not running (it is ${status})`, status);
  }
  if (signo === 0) return;
  await c.env.sandbox.signal(c.sandboxRef(), signo, all);
}
