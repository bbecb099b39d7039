/**
 * The facts about the sandbox that /proc shows and that the sentry learns once, at boot:
 * from config.json (user namespace mappings, oomScoreAdj) and from the host before the
 * sentry is confined (the container's cgroups as runc names them, fsimpl/sys/cgroupfs.ts;
 * the host's CPUs, kernel/cpus.ts).
 */
import { randomUUID } from '../../../native/random';
import { hostFile } from '../../kernel/host-files';
import type { Spec } from '../../../oci/config';
import { readHostCpus } from '../../kernel/cpus';
import type { Kernel } from '../../kernel/kernel';
import { cgroupViewOf, procCgroupText } from '../sys/cgroupfs';

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
  return hostFile(path) ?? '';
}

/** CAP_SYS_RESOURCE's bit in /proc/self/status's CapEff. */
const SYS_RESOURCE_BIT = 1n << 24n;

/** hostHasSysResource tells whether this process holds CAP_SYS_RESOURCE on the host. */
function hostHasSysResource(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readHost('/proc/self/status'));
  return m !== null && (BigInt(`0x${m[1]}`) & SYS_RESOURCE_BIT) !== 0n;
}

/** configureProcView records what /proc shows of sandbox k; boot calls it before the
 * sentry is confined. */
export function configureProcView(k: Kernel, spec: Spec): void {
  views.set(k, {
    // The container's cgroups as runc names them (fsimpl/sys/cgroupfs.ts), once boot has built them.
    cgroup: ((v) => (v ? procCgroupText(v) : readHost('/proc/self/cgroup')))(cgroupViewOf(k)),
    cgroups: readHost('/proc/cgroups'),
    uidMap: idMapText(spec.linux?.uidMappings),
    gidMap: idMapText(spec.linux?.gidMappings),
    bootId: randomUUID(),
  });
  readHostCpus(spec.linux?.resources?.cpu?.cpus);
  const adj = spec.process?.oomScoreAdj;
  // runc's init writes oomScoreAdj with the caller's capabilities: with CAP_SYS_RESOURCE
  // that also sets the floor to it. The sentry has the caller's until it is confined.
  if (adj !== undefined && k.init) k.init.oom = { adj, min: hostHasSysResource() ? adj : 0 };
}

/** procViewOf is sandbox k's view (a default one when boot configured none: unit tests). */
export function procViewOf(k: Kernel): ProcView {
  let v = views.get(k);
  if (!v) views.set(k, (v = { cgroup: '', uidMap: IDENTITY_MAP, gidMap: IDENTITY_MAP, bootId: randomUUID(), cgroups: '' }));
  return v;
}
