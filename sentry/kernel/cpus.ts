/**
 * The CPUs the sandbox sees, learnt from the host once at boot (before the sentry is
 * confined), so that a program counts them as it would under runc: the host's online,
 * possible and present CPUs (/sys/devices/system/cpu, /proc/cpuinfo, /proc/stat: runc's
 * container sees the host's), and the CPUs its tasks may run on (sched_getaffinity: the
 * sentry's own host affinity, which the container's cpuset cgroup and
 * linux.resources.cpu.cpus bound, as a process under runc gets).
 */
import { hostFile } from './host-files';

/** CpuTopology are the files of /sys/devices/system/cpu/cpuN/topology. */
export type CpuTopology = Map<string, string>;

/** SandboxCpus are the CPU facts the sandbox shows. */
export interface SandboxCpus {
  /** online, possible, present: lists such as "0-1" (/sys/devices/system/cpu). */
  online: string;
  possible: string;
  present: string;
  /** kernelMax is /sys/devices/system/cpu/kernel_max. */
  kernelMax: string;
  /** onlineCpus are the numbers of the online CPUs. */
  onlineCpus: number[];
  /** allowed are the CPUs the sandbox's tasks may run on (sched_setaffinity's choice: the cpuset). */
  allowed: number[];
  /** initial is the affinity tasks start with when narrower than allowed (inherited from the sentry's caller), else null. */
  initial: number[] | null;
  /** cpuinfo is each online CPU's block of /proc/cpuinfo, by CPU number. */
  cpuinfo: Map<number, string>;
  /** topology is each online CPU's topology files. */
  topology: Map<number, CpuTopology>;
}

/** TOPOLOGY_FILES are the topology files the sandbox shows, when the host has them. */
const TOPOLOGY_FILES = ['core_id', 'physical_package_id', 'die_id', 'cluster_id', 'core_cpus_list', 'core_siblings_list',
  'package_cpus_list', 'thread_siblings_list', 'die_cpus_list', 'cluster_cpus_list'];

/** parseCpuList reads a CPU list such as "0-3,8,10-11" (cpuset.cpus, Cpus_allowed_list);
 * a malformed one gives null. */
export function parseCpuList(text: string): number[] | null {
  const out = new Set<number>();
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (hi < lo || hi > 8191) return null;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** formatCpuList writes CPU numbers (ascending) as a list such as "0-3,8" (cpuset.cpus, Cpus_allowed_list: Linux's %*pbl). */
export function formatCpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * formatBitmap writes the set bits (ascending numbers below nbits) as Linux's %*pb does
 * (Cpus_allowed, Mems_allowed): 32-bit words in hex, the most significant first, separated
 * by commas, each 8 digits but the first, which has the digits its bits need.
 */
export function formatBitmap(bits: readonly number[], nbits: number): string {
  const words = Math.max(1, Math.ceil(nbits / 32));
  const w = new Array<number>(words).fill(0);
  for (const b of bits) if (b < nbits) w[b >> 5] = (w[b >> 5] | (1 << (b & 31))) >>> 0;
  const firstDigits = Math.ceil((nbits % 32 || 32) / 4);
  return w.reverse().map((x, i) => x.toString(16).padStart(i === 0 ? firstDigits : 8, '0')).join(',');
}

/** taskCpus is a task's affinity: what it set (sched_setaffinity), else what the sandbox's tasks start with. */
export function taskCpus(t: { cpus: number[] | null }): number[] {
  return t.cpus ?? current.initial ?? current.allowed;
}

/** cpuIds is Linux's nr_cpu_ids: one past the highest possible CPU (the width of an affinity mask). */
export function cpuIds(): number {
  return Math.max(...(parseCpuList(current.possible) ?? [0]), ...current.allowed) + 1;
}

/** ONE_CPU is what the sandbox shows when the host cannot be read (unit tests). */
const ONE_CPU: SandboxCpus = {
  online: '0', possible: '0', present: '0', kernelMax: '0', onlineCpus: [0], allowed: [0], initial: null, cpuinfo: new Map(), topology: new Map(),
};

let current: SandboxCpus = ONE_CPU;

/** cpuinfoBlocks splits the host's /proc/cpuinfo into its per-CPU blocks. */
function cpuinfoBlocks(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const block of text.split(/\n\n+/)) {
    const n = /^processor\s*:\s*(\d+)/m.exec(block);
    if (n) m.set(Number(n[1]), `${block.trimEnd()}\n\n`);
  }
  return m;
}

/** readAffinity is the sentry's Cpus_allowed_list now (its main thread's), or null. */
function readAffinity(): number[] | null {
  const line = /^Cpus_allowed_list:\s*(.*)$/m.exec(hostFile('/proc/self/status') ?? '');
  return line ? parseCpuList(line[1]) : null;
}

/** cgroupCpus are the CPUs of the sentry's cpuset cgroup (v1 cpuset.effective_cpus, v2 cpuset.cpus.effective), or null. */
function cgroupCpus(): number[] | null {
  const cgroups = hostFile('/proc/self/cgroup') ?? '';
  const v1 = /^\d+:(?:[^:]*,)?cpuset(?:,[^:]*)?:(.*)$/m.exec(cgroups);
  const v2 = /^0::(.*)$/m.exec(cgroups);
  const text = v1 ? hostFile(`/sys/fs/cgroup/cpuset${v1[1]}/cpuset.effective_cpus`) : v2 ? hostFile(`/sys/fs/cgroup${v2[1]}/cpuset.cpus.effective`) : null;
  const cpus = text ? parseCpuList(text.trim()) : null;
  return cpus?.length ? cpus : null;
}

let startAffinity: number[] | null = null;

/**
 * noteStartAffinity records the sentry's CPU affinity before the platform runs anything
 * (the affinity its caller gave it, which the sandbox's tasks start with): the ptrace
 * platform later holds its tracing thread (the main one) on one CPU, and the sandbox's
 * affinity must not be read from that hold. Boot calls it first.
 */
export function noteStartAffinity(): void {
  startAffinity = readAffinity();
}

/**
 * readHostCpus learns the sandbox's CPUs from the host; `cpuset` is config.json's
 * linux.resources.cpu.cpus, which bounds the affinity even where no cgroup applied it.
 */
export function readHostCpus(cpuset: string | undefined): SandboxCpus {
  const sys = '/sys/devices/system/cpu';
  const online = hostFile(`${sys}/online`)?.trim();
  const onlineCpus = online ? parseCpuList(online) : null;
  if (!online || !onlineCpus?.length) return (current = ONE_CPU);
  // The CPUs tasks may ask for: the sentry's cpuset (its cgroup's, as a process under runc
  // may widen its affinity to its cpuset), bounded by config.json's; the mask they start
  // with: the sentry's inherited affinity within those, as runc's init inherits runc's.
  let allowed = cgroupCpus() ?? onlineCpus;
  const wanted = cpuset ? parseCpuList(cpuset) : null;
  if (wanted) allowed = allowed.filter((c) => wanted.includes(c));
  allowed = allowed.filter((c) => onlineCpus.includes(c));
  if (!allowed.length) allowed = onlineCpus;
  const inherited = (startAffinity ?? readAffinity() ?? allowed).filter((c) => allowed.includes(c));
  const initial = inherited.length && inherited.length < allowed.length ? inherited : null;
  const topology = new Map<number, CpuTopology>();
  for (const c of onlineCpus) {
    const t: CpuTopology = new Map();
    for (const f of TOPOLOGY_FILES) {
      const v = hostFile(`${sys}/cpu${c}/topology/${f}`);
      if (v !== null) t.set(f, v.trim());
    }
    topology.set(c, t);
  }
  current = {
    online,
    possible: hostFile(`${sys}/possible`)?.trim() ?? online,
    present: hostFile(`${sys}/present`)?.trim() ?? online,
    kernelMax: hostFile(`${sys}/kernel_max`)?.trim() ?? String(Math.max(...onlineCpus)),
    onlineCpus,
    allowed,
    initial,
    cpuinfo: cpuinfoBlocks(hostFile('/proc/cpuinfo') ?? ''),
    topology,
  };
  return current;
}

/** sandboxCpus are the CPUs boot learnt (one CPU before it, or without a host to read). */
export function sandboxCpus(): SandboxCpus {
  return current;
}
