/**
 * /proc's system-wide files whose figures come from the sandbox's own accounting:
 * cpuinfo (the host's blocks for the CPUs the sandbox shows, kernel/cpus.ts), stat and
 * uptime (the CPU time its tasks really used), loadavg (its runnable tasks) and meminfo
 * (its memory limit and the memory file's use).
 */
import { groupTimes } from '../../kernel/cputime';
import { sandboxCpus } from '../../kernel/cpus';
import type { Kernel } from '../../kernel/kernel';
import { memoryUse } from '../../mm/oom';

/** cpuinfoText is /proc/cpuinfo: one block per online CPU, as the host describes it
 * (runc's container reads the host's own file). */
export function cpuinfoText(): string {
  const { onlineCpus, cpuinfo } = sandboxCpus();
  return onlineCpus.map((c) => cpuinfo.get(c) ?? '').join('');
}

/** TICK_NS is one clock tick (USER_HZ, 100 a second) in nanoseconds. */
const TICK_NS = 1e7;

/** CpuTicks are the sandbox's CPU time in clock ticks: what its tasks used (every live or
 * unreaped process's own, plus what each reaped: each ended process counted once), and
 * the rest of its uptime on its online CPUs as idle. */
interface CpuTicks {
  user: number;
  sys: number;
  idle: number;
}

function cpuTicks(k: Kernel): CpuTicks {
  let user = 0, sys = 0;
  for (const g of k.groups.values()) {
    const own = groupTimes(g);
    user += own.user + g.cpu.children.user;
    sys += own.sys + g.cpu.children.sys;
  }
  const [u, s] = [Math.floor(user / TICK_NS), Math.floor(sys / TICK_NS)];
  return { user: u, sys: s, idle: Math.max(0, Math.floor(k.uptime * 100) * sandboxCpus().onlineCpus.length - u - s) };
}

/** runnableTasks counts the tasks running or ready to run (the one reading among them). */
function runnableTasks(k: Kernel): number {
  return Math.max(1, [...k.tasks.values()].filter((t) => t.state === 'runnable').length);
}

/**
 * statText is /proc/stat (cpuTicks). The sentry does not know on which host CPU a task
 * ran, so each "cpuN" line is an even share of the "cpu" line.
 */
export function statText(k: Kernel): string {
  const { user, sys, idle } = cpuTicks(k);
  const cpus = sandboxCpus().onlineCpus;
  const n = cpus.length;
  const line = (name: string, d: number) => `${name} ${Math.floor(user / d)} 0 ${Math.floor(sys / d)} ${Math.floor(idle / d)} 0 0 0 0 0 0`;
  return [line('cpu ', 1), ...cpus.map((c) => line(`cpu${c}`, n)), `btime ${Math.floor(k.bootTime / 1000)}`,
    `processes ${k.groups.size}`, `procs_running ${runnableTasks(k)}`, 'procs_blocked 0', ''].join('\n');
}

/** uptimeText is /proc/uptime: the sandbox's uptime and its CPUs' idle time, in seconds. */
export function uptimeText(k: Kernel): string {
  return `${k.uptime.toFixed(2)} ${(cpuTicks(k).idle / 100).toFixed(2)}\n`;
}

/** LOAD_FREQ_MS is how often Linux samples the load (5 s); DECAY are its 1, 5 and 15
 * minute factors, exp(-5/60), exp(-5/300), exp(-5/900). */
const LOAD_FREQ_MS = 5000, DECAY = [Math.exp(-5 / 60), Math.exp(-5 / 300), Math.exp(-5 / 900)];

const loads = new WeakMap<Kernel, { at: number; avg: number[] }>();

/**
 * loadavgText is /proc/loadavg: the 1, 5 and 15 minute averages of the runnable tasks,
 * decayed as Linux's calc_global_load every 5 s since boot. The sentry samples when the
 * file is read: the periods since the last read count the tasks runnable now.
 */
export function loadavgText(k: Kernel): string {
  const avg = loadAverages(k);
  const last = [...k.tasks.keys()].pop() ?? 1;
  return `${avg.map((a) => a.toFixed(2)).join(' ')} ${runnableTasks(k)}/${k.tasks.size} ${last}\n`;
}

/** loadAverages are the 1, 5 and 15 minute load averages of sandbox k now (/proc/loadavg, sysinfo). */
export function loadAverages(k: Kernel): number[] {
  const now = Date.now();
  let l = loads.get(k);
  if (!l) loads.set(k, (l = { at: k.bootTime, avg: [0, 0, 0] }));
  const active = runnableTasks(k);
  // n periods at a constant count, in closed form: avg * d^n + active * (1 - d^n).
  const n = Math.max(0, Math.floor((now - l.at) / LOAD_FREQ_MS));
  l.at += n * LOAD_FREQ_MS;
  l.avg = l.avg.map((a, i) => a * DECAY[i] ** n + active * (1 - DECAY[i] ** n));
  return l.avg;
}

/** memoryKb is the sandbox's memory in KiB as /proc/meminfo and /proc/vmstat show it:
 * the figures sysinfo(2) reports too. */
export function memoryKb(k: Kernel): { total: number; used: number; free: number } {
  const use = memoryUse(k.platform.memoryFile);
  const total = Math.floor(use.total / 1024);
  const used = Math.min(total, Math.ceil(use.used / 1024));
  return { total, used, free: total - used };
}

/**
 * meminfoText is /proc/meminfo: MemTotal is the container's memory limit (the host's
 * memory without one), as gVisor shows it and as `free` in a container is expected to
 * read; runc shows the host's whatever the limit. Used is the memory file's pages in use
 * (mm/oom.ts: what the OOM killer bounds).
 */
export function meminfoText(k: Kernel): string {
  const { total, used, free } = memoryKb(k);
  const kb = (name: string, v: number) => `${`${name}:`.padEnd(16)}${String(v).padStart(8)} kB`;
  return [kb('MemTotal', total), kb('MemFree', free), kb('MemAvailable', free), kb('Buffers', 0), kb('Cached', 0), kb('SwapCached', 0),
    kb('Active', used), kb('Inactive', 0), kb('SwapTotal', 0), kb('SwapFree', 0), kb('Shmem', 0), ''].join('\n');
}
