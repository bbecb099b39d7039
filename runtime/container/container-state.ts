/**
 * container-state.ts implements `state` and `list` (runtime.md "Query State"): they read
 * records without locking (records are replaced atomically) and report live statuses.
 */
import type { StateOutput } from '../../oci/state';
import { Container, type ContainerEnv } from './container';
import { NotExistError } from './errors';

/** containerState returns the state of container `id`; NotExistError when unknown. */
export function containerState(env: ContainerEnv, id: string): StateOutput {
  return Container.load(env, id).stateOutput();
}

/** listContainers returns the state of every container under --root, sorted by id. */
export function listContainers(env: ContainerEnv): StateOutput[] {
  const out: StateOutput[] = [];
  for (const id of env.store.list()) {
    try {
      out.push(containerState(env, id));
    } catch (err) {
      if (!(err instanceof NotExistError)) throw err; // deleted while we listed
    }
  }
  return out;
}
