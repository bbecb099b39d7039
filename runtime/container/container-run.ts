/**
 * container-run.ts implements `run` (runc's create + start, then, in the foreground, wait
 * for the container to exit, delete it unless --keep, and return its exit status).
 *
 * In the foreground the signals runc forwards go to init (forward-signals.ts) from before
 * the sandbox exists until the container is deleted, so that no signal the runtime can
 * catch leaves a sandbox, a state directory or a cgroup behind.
 */
import { Container, type ContainerEnv } from './container';
import { createContainer, type CreateOptions } from './container-create';
import { deleteContainer } from './container-delete';
import { startContainer } from './container-start';
import { SignalForwarder } from './forward-signals';

/** RunOptions are `run`'s arguments: create's, plus detach, keep and a hook for `do`. */
export interface RunOptions extends CreateOptions {
  detach?: boolean;
  /** keep leaves a foreground container, once exited, stopped rather than deleted (runc run --keep). */
  keep?: boolean;
  /**
   * created, when given, runs once the sandbox has read the bundle and init runs (`do`
   * removes its throwaway bundle there).
   */
  created?: () => void;
}

/** runContainer runs a container; it resolves with the exit status (0 when detached). */
export async function runContainer(env: ContainerEnv, opts: RunOptions): Promise<number> {
  const forwarder = opts.detach ? undefined : new SignalForwarder((signo, err) => env.log.debug(`run ${opts.id}: signal ${signo} not delivered: ${err.message}`));
  forwarder?.install();
  try {
    const c = await createContainer(env, { ...opts, startAtOnce: true });
    try {
      // Created already running when nothing had to happen in between (CreateOptions.startAtOnce).
      if (c.record.status !== 'running') await Container.locked(env, c.id, startContainer);
    } catch (err) {
      await deleteContainer(env, c.id, true).catch(() => {});
      throw err;
    } finally {
      opts.created?.();
    }
    if (opts.detach) return 0;
    const ref = c.sandboxRef();
    forwarder!.deliverTo((signo) => env.sandbox.signal(ref, signo, false));
    if (env.sandbox.waitInit) await env.sandbox.waitInit(ref);
    else while (!(await env.sandbox.wait(ref, 60_000))) { /* keep waiting: a foreground run has no deadline */ }
    forwarder!.close();
    const status = await env.sandbox.exitStatus(ref);
    if (!opts.keep) await deleteContainer(env, c.id, true);
    return status ?? 255;
  } finally {
    forwarder?.uninstall();
  }
}
