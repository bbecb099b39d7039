/**
 * The facts about the sandbox that /proc shows and that the sentry learns once, at boot:
 * from config.json (user namespace mappings, oomScoreAdj) and from the host before the
 * sentry is confined (the cgroups its host processes were put in, which are the
 * container's cgroups as runc's container sees them: the sandbox has no cgroup namespace,
 * as runc's default spec has none; the host's CPUs, kernel/cpus.ts).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Spec } from '../../../oci/config';
import { readHostCpus } from '../../kernel/cpus';
import type { Kernel } from '../../kernel/kernel';

/** ProcView is what /proc shows of the sandbox itself. */
export interface ProcView {
  /** cgroup is the text of /proc/<pid>/cgroup (the same for every process). */
  cgroup: string;
  /** uidMap and gidMap are the texts of /proc/<pid>/uid_map and gid_map. */
  uidMap: string;
  gidMap: string;
  /** bootId is /proc/sys/kernel/random/boot_id: one per sandbox boot. */
  bootId: string;
  /** cgroups is /proc/cgroups: the host's hierarchies, which the sandbox's processes are in. */
  cgroups: string;
}

/** IDENTITY_MAP is the map of a process in the initial user namespace. */
const IDENTITY_MAP = mapLine(0, 0, 4294967295);

const views = new WeakMap<Kernel, ProcView>();

function mapLine(inside: number, outside: number, count: number): string {
  return `${String(inside).padStart(10)} ${String(outside).padStart(10)} ${String(count).padStart(10)}\n`;
}

/** idMapText renders linux.uidMappings/gidMappings as uid_map shows them; none is the identity. */
export function idMapText(maps: { containerID: number; hostID: number; size: number }[] | undefined): string {
  if (!maps?.length) return IDENTITY_MAP;
  return maps.map((m) => mapLine(m.containerID, m.hostID, m.size)).join('');
}

/** readHost reads a file of the host's /proc (empty when it cannot). */
function readHost(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** configureProcView records what /proc shows of sandbox k; boot calls it before the
 * sentry is confined. */
export function configureProcView(k: Kernel, spec: Spec): void {
  views.set(k, {
    cgroup: readHost('/proc/self/cgroup'),
    cgroups: readHost('/proc/cgroups'),
    uidMap: idMapText(spec.linux?.uidMappings),
    gidMap: idMapText(spec.linux?.gidMappings),
    bootId: randomUUID(),
  });
  readHostCpus(spec.linux?.resources?.cpu?.cpus);
  const adj = spec.process?.oomScoreAdj;
  // runc writes oomScoreAdj with CAP_SYS_RESOURCE, which also sets the floor to it.
  if (adj !== undefined && k.init) k.init.oom = { adj, min: adj };
}

/** procViewOf is sandbox k's view (a default one when boot configured none: unit tests). */
export function procViewOf(k: Kernel): ProcView {
  let v = views.get(k);
  if (!v) views.set(k, (v = { cgroup: '', uidMap: IDENTITY_MAP, gidMap: IDENTITY_MAP, bootId: randomUUID(), cgroups: '' }));
  return v;
}
