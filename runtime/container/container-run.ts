/**
 * container-run.ts implements `run` (runc's create + start, then, in the foreground, wait
 * for the container to exit, delete it and return its exit status).
 */
import { Container, type ContainerEnv } from './container';
import { createContainer, type CreateOptions } from './container-create';
import { deleteContainer } from './container-delete';
import { startContainer } from './container-start';

/** runContainer runs a container; it resolves with the exit status (0 when detached). */
export async function runContainer(env: ContainerEnv, opts: CreateOptions & { detach?: boolean }): Promise<number> {
  const c = await createContainer(env, { ...opts, startAtOnce: true });
  try {
    // Created already running when nothing had to happen in between (CreateOptions.startAtOnce).
    if (c.record.status !== 'running') await Container.locked(env, c.id, startContainer);
  } catch (err) {
    await deleteContainer(env, c.id, true).catch(() => {});
    throw err;
  }
  if (opts.detach) return 0;
  const ref = c.sandboxRef();
  if (env.sandbox.waitInit) await env.sandbox.waitInit(ref);
  else while (!(await env.sandbox.wait(ref, 60_000))) { /* keep waiting: a foreground run has no deadline */ }
  const status = await env.sandbox.exitStatus(ref);
  await deleteContainer(env, c.id, true);
  return status ?? 255;
}
