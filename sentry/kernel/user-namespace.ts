/**
 * The container's user namespace as the sentry enforces it: linux.uidMappings and
 * gidMappings (user_namespaces(7)). Tasks hold container ids; an id that no range covers
 * has no kernel id, so the calls that take an id from the application (set*id,
 * setgroups, chown) refuse it with EINVAL, as make_kuid's invalid result makes Linux
 * answer. The gofer maps the ids it writes and reads with the same ranges (oci/idmap.ts).
 * Without mappings every id is valid (no user namespace of the container's own).
 */
import type { Spec } from '../../oci/config';
import { IDENTITY_MAPS, IdMap, type IdMaps } from '../../oci/idmap';
import { Errno, fail } from './errors';
import type { Kernel } from './kernel';

const maps = new WeakMap<Kernel, IdMaps>();

/** configureUserNamespace records the mappings of sandbox k from its spec; boot calls it once. */
export function configureUserNamespace(k: Kernel, spec: Spec): void {
  const l = spec.linux;
  if (!l?.uidMappings?.length && !l?.gidMappings?.length) return;
  maps.set(k, { uid: IdMap.of(l.uidMappings ?? []), gid: IdMap.of(l.gidMappings ?? []) });
}

/** idMapsOf returns sandbox k's mappings (the identity without a user namespace). */
export function idMapsOf(k: Kernel): IdMaps {
  return maps.get(k) ?? IDENTITY_MAPS;
}

/** checkMapped fails with EINVAL unless the container id `id` of `kind` has a kernel id
 * in sandbox k (make_kuid/make_kgid succeed). */
export function checkMapped(k: Kernel, kind: 'uid' | 'gid', id: number): void {
  if (idMapsOf(k)[kind].toHost(id) < 0) fail(Errno.EINVAL);
}
