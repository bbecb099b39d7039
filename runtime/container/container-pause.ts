/**
 * container-pause.ts implements runc's `pause` and `resume`: the sandbox stops (or
 * resumes) scheduling the container's processes; the status shows `paused` meanwhile.
 */
import type { Container } from './container';
import { ContainerError, StatusError } from './errors';

/** pauseContainer pauses a running container (resume: a paused one). The caller holds the lock. */
export async function pauseContainer(c: Container, pause: boolean): Promise<void> {
  const status = c.status();
  const want = pause ? 'running' : 'paused';
  if (status !== want) throw new StatusError(`cannot ${pause ? 'pause' : 'resume'} container "${c.id}": it is ${status}, not ${want}`, status);
  const sb = c.env.sandbox;
  if (!sb.pause || !sb.resume) throw new ContainerError(`${pause ? 'pause' : 'resume'} is not supported by this sandbox`);
  if (pause) await sb.pause(c.sandboxRef());
  else await sb.resume(c.sandboxRef());
  c.record.status = pause ? 'paused' : 'running';
  c.save();
}
