/**
 * container-start.ts implements `start` (runtime.md "Start", lifecycle steps 6-9): only a
 * `created` container can start. The startContainer hooks run first; if one fails the
 * container is stopped and destroyed (with its poststop hooks) as the spec requires. If
 * the sandbox cannot start init, the container stays `created`, as if start had not been
 * attempted. poststart hooks run after init runs; their failures are warnings only.
 */
import type { Container } from './container';
import { deleteStopped, stopAndWait } from './container-delete';
import { StatusError } from './errors';
import { HookError, runHooks } from './hooks';
import { profileMark } from '../../native/startup-profile';

/** startContainer runs the user program of a created container. The caller holds the lock. */
export async function startContainer(c: Container): Promise<void> {
  const status = c.status();
  if (status !== 'created') {
    throw new StatusError(`cannot start container "${c.id}": it is ${status}, not created`, status);
  }
  const spec = c.config();
  try {
    await runHooks(spec.hooks, 'startContainer', c.ociState(), c.env.log);
  } catch (err) {
    if (err instanceof HookError) {
      await stopAndWait(c);
      await deleteStopped(c);
    }
    throw err;
  }
  profileMark('state-read');
  await c.env.sandbox.start(c.sandboxRef());
  profileMark('sandbox-started');
  c.record.status = 'running';
  c.save();
  profileMark('state-saved');
  await runHooks(spec.hooks, 'poststart', c.startedState(), c.env.log);
}
