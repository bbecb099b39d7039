/**
 * /proc's system-wide files whose figures come from the sandbox's own accounting:
 * cpuinfo (the host's blocks for the CPUs the sandbox shows, kernel/cpus.ts), stat (the
 * CPU time its tasks really used) and meminfo (its memory limit and the memory file's use).
 */
import { groupTimes } from '../../kernel/cputime';
import { sandboxCpus } from '../../kernel/cpus';
import type { Kernel } from '../../kernel/kernel';
import { MemoryManager } from '../../mm/mm';

/** cpuinfoText is /proc/cpuinfo: one block per online CPU, as the host describes it
 * (runc's container reads the host's own file). */
export function cpuinfoText(): string {
  const { onlineCpus, cpuinfo } = sandboxCpus();
  return onlineCpus.map((c) => cpuinfo.get(c) ?? '').join('');
}

/** TICK_NS is one clock tick (USER_HZ, 100 a second) in nanoseconds. */
const TICK_NS = 1e7;

/**
 * statText is /proc/stat. The "cpu" line holds the time the sandbox's tasks used (every
 * live or unreaped process's own, plus what each reaped: each ended process counted
 * once), the rest of the sandbox's uptime on its online CPUs as idle. The sentry does
 * not know on which host CPU a task ran, so each "cpuN" line is an even share.
 */
export function statText(k: Kernel): string {
  let user = 0, sys = 0;
  for (const g of k.groups.values()) {
    const own = groupTimes(g);
    user += own.user + g.cpu.children.user;
    sys += own.sys + g.cpu.children.sys;
  }
  const cpus = sandboxCpus().onlineCpus;
  const n = cpus.length;
  const [u, s] = [Math.floor(user / TICK_NS), Math.floor(sys / TICK_NS)];
  const idle = Math.max(0, Math.floor(k.uptime * 100) * n - u - s);
  const line = (name: string, d: number) => `${name} ${Math.floor(u / d)} 0 ${Math.floor(s / d)} ${Math.floor(idle / d)} 0 0 0 0 0 0`;
  const running = [...k.tasks.values()].filter((t) => t.state === 'runnable').length;
  return [line('cpu ', 1), ...cpus.map((c) => line(`cpu${c}`, n)), `btime ${Math.floor(k.bootTime / 1000)}`,
    `processes ${k.groups.size}`, `procs_running ${Math.max(1, running)}`, 'procs_blocked 0', ''].join('\n');
}

/**
 * meminfoText is /proc/meminfo: MemTotal is the container's memory limit (the host's
 * memory without one), as gVisor shows it and as `free` in a container is expected to
 * read; runc shows the host's whatever the limit. Used is the memory file's pages.
 */
export function meminfoText(k: Kernel): string {
  const total = Math.floor(MemoryManager.commitLimit / 1024);
  const used = Math.min(total, Math.ceil(k.platform.memoryFile.usedBytes / 1024));
  const free = total - used;
  const kb = (name: string, v: number) => `${`${name}:`.padEnd(16)}${String(v).padStart(8)} kB`;
  return [kb('MemTotal', total), kb('MemFree', free), kb('MemAvailable', free), kb('Buffers', 0), kb('Cached', 0), kb('SwapCached', 0),
    kb('Active', used), kb('Inactive', 0), kb('SwapTotal', 0), kb('SwapFree', 0), kb('Shmem', 0), ''].join('\n');
}
