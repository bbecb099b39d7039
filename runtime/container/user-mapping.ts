/**
 * validateProcessUser checks at create, before anything exists, and at exec (for the
 * process exec runs: --user, --additional-gids, --process), that config.json's
 * process.user has ids inside linux.uidMappings/gidMappings when the container has them:
 * the sentry could not give the process an unmapped id (set*id answer EINVAL there, as
 * in a user namespace). The errors are runc's texts.
 */
import type { Spec } from '../../oci/config';
import { IdMap } from '../../oci/idmap';
import { ContainerError } from './errors';

/** validateProcessUser throws runc's one-line error for an unmapped process.user id. */
export function validateProcessUser(spec: Spec): void {
  const l = spec.linux, u = spec.process?.user;
  if (!u || (!l?.uidMappings?.length && !l?.gidMappings?.length)) return;
  let uids: IdMap, gids: IdMap;
  try {
    [uids, gids] = [IdMap.of(l.uidMappings ?? []), IdMap.of(l.gidMappings ?? [])];
  } catch (e) {
    throw new ContainerError(`config.json: linux: ${(e as Error).message}`, { cause: e });
  }
  if (uids.toHost(u.uid) < 0) throw new ContainerError('unable to setup user: cannot set uid to unmapped user in user namespace');
  if (gids.toHost(u.gid) < 0) throw new ContainerError('unable to setup user: cannot set gid to unmapped user in user namespace');
  if ((u.additionalGids ?? []).some((g) => gids.toHost(g) < 0)) throw new ContainerError('unable to setup user: setgroups: invalid argument');
}
