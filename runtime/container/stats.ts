/**
 * stats.ts holds the JSON shapes of runc's `events` command (runc's `types` package, as
 * runc 1.1 prints them) and their encoder. Field names, their order and which fields are
 * left out when zero follow runc's JSON tags, so a consumer written for runc (containerd's
 * runc shim, `docker stats` through it) reads tvisor's output unchanged.
 *
 * Cgroup counters are unsigned 64-bit: a value beyond Number.MAX_SAFE_INTEGER (an unset
 * memory limit is 9223372036854771712) is kept as a bigint, and `encodeEvent` prints it
 * digit for digit where JSON.stringify would refuse it.
 */

/** U64 is a cgroup counter: a number while it is exact, a bigint above 2^53. */
export type U64 = number | bigint;

/** Throttling is cpu.stat's CFS figures (all three left out when zero). */
export interface Throttling {
  periods?: U64;
  throttledPeriods?: U64;
  throttledTime?: U64;
}

/** CpuUsage is cpuacct's figures in nanoseconds. */
export interface CpuUsage {
  total?: U64;
  percpu?: U64[];
  percpu_kernel?: U64[];
  percpu_user?: U64[];
  kernel: U64;
  user: U64;
}

/** CpuStats is `data.cpu`. */
export interface CpuStats {
  usage: CpuUsage;
  throttling: Throttling;
}

/** CpusetStats is `data.cpuset`: the cpuset lists expanded, and its flag files. */
export interface CpusetStats {
  cpus?: number[];
  cpu_exclusive: U64;
  mems?: number[];
  mem_hardwall: U64;
  mem_exclusive: U64;
  memory_migrate: U64;
  memory_spread_page: U64;
  memory_spread_slab: U64;
  memory_pressure: U64;
  sched_load_balance: U64;
  sched_relax_domain_level: number;
}

/** MemoryEntry is one memory counter family (usage, memsw, kmem, kmem.tcp). */
export interface MemoryEntry {
  limit: U64;
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

/** MemoryStats is `data.memory`; `raw` is memory.stat. */
export interface MemoryStats {
  cache?: U64;
  usage: MemoryEntry;
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  raw?: Record<string, U64>;
}

/** PidsStats is `data.pids` (limit left out when unlimited). */
export interface PidsStats {
  current?: U64;
  limit?: U64;
}

/** BlkioEntry is one line of a blkio statistics file. */
export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: U64;
}

/** BlkioStats is `data.blkio` (each list left out when empty). */
export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
}

/** HugetlbStats is one page size of `data.hugetlb` (keyed "2MB", "1GB"). */
export interface HugetlbStats {
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

/** ContainerStats is the `data` of a stats event (runc's types.Stats). */
export interface ContainerStats {
  cpu: CpuStats;
  cpuset: CpusetStats;
  memory: MemoryStats;
  pids: PidsStats;
  blkio: BlkioStats;
  hugetlb: Record<string, HugetlbStats>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

/** ContainerEvent is one line of `events` output: a stats sample or an OOM notice. */
export type ContainerEvent =
  | { type: 'stats'; id: string; data: ContainerStats }
  | { type: 'oom'; id: string };

/** u64 parses a cgroup counter, exactly (a bigint when it exceeds 2^53). */
export function u64(text: string): U64 {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return t === 'max' ? 0 : Number.NaN;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

/** isZero tells whether a counter is zero (the `omitempty` rule). */
export function isZero(v: U64 | undefined): boolean {
  return v === undefined || v === 0 || v === 0n;
}

/** encodeEvent prints one event as compact JSON (bigints as plain digits), without a newline. */
export function encodeEvent(e: ContainerEvent): string {
  return encode(e);
}

function encode(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
  const parts = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}:${encode(x)}`);
  return `{${parts.join(',')}}`;
}
