/**
 * container-delete.ts implements `delete` (runtime.md "Delete", lifecycle steps 11-13):
 * only a `stopped` container is deleted, by undoing what create did (sandbox resources,
 * the container directory), and then its poststop hooks run (failures are warnings).
 *
 * Deviations shared with runc, which callers rely on: deleting a `created` container
 * kills its sandbox first and deletes it; `--force` does the same for a `running` one;
 * and `delete --force` of an unknown id succeeds after removing any leftover directory.
 */
import { Container, type ContainerEnv } from './container';
import { SANDBOX_EXIT_TIMEOUT_MS } from './container-create';
import { ContainerError, NotExistError, StatusError } from './errors';
import { runHooks } from './hooks';
import { validateID } from './id';
import { isProcessAlive } from './proc';
import { profileMark } from '../../native/startup-profile';

const SIGKILL = 9;

/** stopAndWait kills every process of the sandbox and waits until it has exited. */
export async function stopAndWait(c: Container): Promise<void> {
  const { pid, pidStartTime } = c.record;
  if (pid === undefined || !isProcessAlive(pid, pidStartTime)) return;
  const ref = c.sandboxRef();
  await c.env.sandbox.signal(ref, SIGKILL, true);
  if (!(await c.env.sandbox.wait(ref, SANDBOX_EXIT_TIMEOUT_MS))) {
    throw new ContainerError(`container "${c.id}": sandbox process ${ref.pid} did not exit after SIGKILL`);
  }
}

/** deleteStopped destroys a stopped container and runs its poststop hooks. The caller holds the lock. */
export async function deleteStopped(c: Container): Promise<void> {
  const spec = c.config();
  if (c.record.pid !== undefined) await c.env.sandbox.destroy(c.sandboxRef());
  const state = c.ociState('stopped');
  c.env.store.remove(c.id);
  await runHooks(spec.hooks, 'poststop', state, c.env.log);
}

/** deleteContainer deletes container `id`; see the module comment for `force`. */
export async function deleteContainer(env: ContainerEnv, id: string, force = false): Promise<void> {
  validateID(id);
  try {
    await Container.locked(env, id, async (c) => {
      const status = c.status();
      if (status === 'running' && !force) {
        throw new StatusError(`cannot delete container "${id}" that is not stopped: it is running`, status);
      }
      profileMark('state-read');
      await stopAndWait(c);
      profileMark('sandbox-stopped');
      await deleteStopped(c);
      profileMark('state-removed');
    });
  } catch (err) {
    if (!(err instanceof NotExistError)) throw err;
    // A create that died before writing state.json may leave a directory: clean it up.
    env.store.remove(id);
    if (!force) throw err;
  }
}
