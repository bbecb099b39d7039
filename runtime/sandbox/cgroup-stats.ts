/**
 * cgroup-stats.ts reads a cgroup v1 sandbox's figures into runc's `events` shape
 * (container/stats.ts), from the same files runc's cgroupfs driver reads:
 *
 *   cpu      cpuacct.usage, cpuacct.usage_percpu, cpuacct.usage_all (per-cpu user/system),
 *            cpuacct.stat (user/system in USER_HZ ticks), cpu.stat (CFS throttling)
 *   cpuset   cpuset.cpus/mems expanded to lists, and the cpuset flag files
 *   memory   memory.{,memsw.,kmem.,kmem.tcp.}{usage_in_bytes,max_usage_in_bytes,
 *            limit_in_bytes,failcnt}, memory.stat as `raw` (its `cache` also on top)
 *   pids     pids.current, pids.max ("max" is no limit: left out; the container's limit, pids-share.ts)
 *   blkio    the CFQ/BFQ recursive files when they have lines, else the throttle ones
 *   hugetlb  hugetlb.<size>.{usage_in_bytes,max_usage_in_bytes,failcnt}
 *
 * A hierarchy that is not mounted, or a file the kernel does not have, reads as zero, as
 * runc reports it. The figures are the sandbox's host processes (sentry, gofer, stubs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { containerMemory } from './memory-share';
import { containerPids } from './pids-share';
import { isZero, u64, type BlkioEntry, type BlkioStats, type ContainerStats, type HugetlbStats, type MemoryEntry, type U64 } from '../container/stats';

/** USER_HZ is the unit of cpuacct.stat on Linux (sysconf(_SC_CLK_TCK)). */
const USER_HZ = 100;
const NS_PER_TICK = 1_000_000_000 / USER_HZ;

function text(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

function num(dir: string | undefined, file: string): U64 {
  const t = text(dir, file);
  if (t === undefined) return 0;
  const v = u64(t);
  return typeof v === 'number' && Number.isNaN(v) ? 0 : v;
}

/** keyed parses "key value" lines (memory.stat, cpu.stat, cpuacct.stat). */
export function keyed(t: string | undefined): Record<string, U64> {
  const out: Record<string, U64> = {};
  for (const line of (t ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = u64(v);
  }
  return out;
}

/** cpuList expands a cpuset list ("0-3,8") to its members. */
export function cpuList(t: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (t ?? '').trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

const times = (v: U64, k: number): U64 => (typeof v === 'bigint' ? v * BigInt(k) : Number.isSafeInteger(v * k) ? v * k : BigInt(v) * BigInt(k));
const orNone = <T>(a: T[]): T[] | undefined => (a.length ? a : undefined);
const omit = (v: U64): U64 | undefined => (isZero(v) ? undefined : v);

function cpu(acct: string | undefined, cpuDir: string | undefined): ContainerStats['cpu'] {
  const percpu = (text(acct, 'cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(u64);
  // cpuacct.usage_all: "cpu user system" then one line per cpu.
  const all = (text(acct, 'cpuacct.usage_all') ?? '').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3);
  const stat = keyed(text(acct, 'cpuacct.stat'));
  const thr = keyed(text(cpuDir, 'cpu.stat'));
  return {
    usage: {
      total: omit(num(acct, 'cpuacct.usage')), percpu: orNone(percpu),
      percpu_kernel: orNone(all.map((f) => u64(f[2]))), percpu_user: orNone(all.map((f) => u64(f[1]))),
      kernel: times(stat.system ?? 0, NS_PER_TICK), user: times(stat.user ?? 0, NS_PER_TICK),
    },
    throttling: { periods: omit(thr.nr_periods ?? 0), throttledPeriods: omit(thr.nr_throttled ?? 0), throttledTime: omit(thr.throttled_time ?? 0) },
  };
}

function cpuset(dir: string | undefined): ContainerStats['cpuset'] {
  const flag = (f: string) => num(dir, `cpuset.${f}`);
  const level = Number((text(dir, 'cpuset.sched_relax_domain_level') ?? '0').trim());
  return {
    cpus: orNone(cpuList(text(dir, 'cpuset.cpus'))), cpu_exclusive: flag('cpu_exclusive'), mems: orNone(cpuList(text(dir, 'cpuset.mems'))),
    mem_hardwall: flag('mem_hardwall'), mem_exclusive: flag('mem_exclusive'), memory_migrate: flag('memory_migrate'),
    memory_spread_page: flag('memory_spread_page'), memory_spread_slab: flag('memory_spread_slab'), memory_pressure: flag('memory_pressure'),
    sched_load_balance: flag('sched_load_balance'), sched_relax_domain_level: Number.isInteger(level) ? level : 0,
  };
}

/** containerLimit is a host memory limit as the container's (bigints are the unlimited
 * PAGE_COUNTER_MAX, kept). */
function containerLimit(v: U64): U64 {
  return typeof v === 'number' ? containerMemory(v) ?? v : v;
}

function memoryEntry(dir: string | undefined, prefix: string): MemoryEntry {
  return {
    // The container's limit: the host cgroup's holds the sandbox's own share too (cgroup.ts).
    limit: prefix === 'memory' || prefix === 'memory.memsw' ? containerLimit(num(dir, `${prefix}.limit_in_bytes`)) : num(dir, `${prefix}.limit_in_bytes`), usage: omit(num(dir, `${prefix}.usage_in_bytes`)),
    max: omit(num(dir, `${prefix}.max_usage_in_bytes`)), failcnt: num(dir, `${prefix}.failcnt`),
  };
}

function memory(dir: string | undefined): ContainerStats['memory'] {
  const stat = keyed(text(dir, 'memory.stat'));
  const raw = Object.fromEntries(Object.keys(stat).sort().map((k) => [k, stat[k]]));
  return {
    cache: omit(stat.cache ?? 0), usage: memoryEntry(dir, 'memory'), swap: memoryEntry(dir, 'memory.memsw'),
    kernel: memoryEntry(dir, 'memory.kmem'), kernelTCP: memoryEntry(dir, 'memory.kmem.tcp'), raw: Object.keys(raw).length ? raw : undefined,
  };
}

/** blkioEntries parses "maj:min Op value" lines; the "Total" lines are left out. */
export function blkioEntries(t: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (t ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const [op, v] = f.length === 3 ? [f[1], f[2]] : [undefined, f[1]];
    if (v === undefined || !/^\d+$/.test(v)) continue;
    out.push({ major: omit(Number(dev[1])) as number | undefined, minor: omit(Number(dev[2])) as number | undefined, op: op || undefined, value: omit(u64(v)) });
  }
  return out;
}

function blkio(dir: string | undefined): BlkioStats {
  const files = (prefix: string) => ({
    ioServiceBytesRecursive: `${prefix}io_service_bytes_recursive`, ioServicedRecursive: `${prefix}io_serviced_recursive`,
    ioQueueRecursive: `${prefix}io_queued_recursive`, ioServiceTimeRecursive: `${prefix}io_service_time_recursive`,
    ioWaitTimeRecursive: `${prefix}io_wait_time_recursive`, ioMergedRecursive: `${prefix}io_merged_recursive`,
    ioTimeRecursive: `${prefix}time_recursive`, sectorsRecursive: `${prefix}sectors_recursive`,
  });
  const read = (map: Record<string, string>) => Object.fromEntries(Object.entries(map).map(([k, f]) => [k, orNone(blkioEntries(text(dir, f)))]));
  // The scheduler's own files (CFQ, then BFQ) when they say anything, else the throttle layer's.
  for (const prefix of ['blkio.', 'blkio.bfq.']) {
    const s = read(files(prefix));
    if (s.ioServiceBytesRecursive) return s as BlkioStats;
  }
  const t = read({ ioServiceBytesRecursive: 'blkio.throttle.io_service_bytes_recursive', ioServicedRecursive: 'blkio.throttle.io_serviced_recursive' });
  return t as BlkioStats;
}

function hugetlb(dir: string | undefined): Record<string, HugetlbStats> {
  const out: Record<string, HugetlbStats> = {};
  let names: string[] = [];
  try {
    names = dir ? fs.readdirSync(dir) : [];
  } catch {
    names = [];
  }
  for (const n of names.sort()) {
    const m = /^hugetlb\.([^.]+)\.usage_in_bytes$/.exec(n);
    if (!m) continue;
    out[m[1]] = { usage: omit(num(dir, n)), max: omit(num(dir, `hugetlb.${m[1]}.max_usage_in_bytes`)), failcnt: num(dir, `hugetlb.${m[1]}.failcnt`) };
  }
  return out;
}

/** readCgroupStats reads every figure of the cgroup whose leaf directories are `paths`. */
export function readCgroupStats(paths: Record<string, string>): ContainerStats {
  const pidsLimit = text(paths.pids, 'pids.max')?.trim();
  return {
    cpu: cpu(paths.cpuacct, paths.cpu),
    cpuset: cpuset(paths.cpuset),
    memory: memory(paths.memory),
    pids: { current: omit(num(paths.pids, 'pids.current')), limit: pidsLimit === 'max' || pidsLimit === undefined ? undefined : omit(containerPids(Number(pidsLimit)) ?? 0) },
    blkio: blkio(paths.blkio),
    hugetlb: hugetlb(paths.hugetlb),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/**
 * oomKills returns how many processes the kernel's OOM killer has killed in the cgroup
 * (memory.oom_control `oom_kill`, Linux 4.13+), or, on older kernels, 1 while it is
 * under OOM and 0 otherwise; undefined when the memory hierarchy cannot be read.
 */
export function oomKills(memoryDir: string | undefined): number | undefined {
  const t = text(memoryDir, 'memory.oom_control');
  if (t === undefined) return undefined;
  const k = keyed(t);
  return Number(k.oom_kill ?? k.under_oom ?? 0);
}
