/**
 * rlimits are the resource limits of a thread group (getrlimit/setrlimit/prlimit64 and
 * config.json's process.rlimits): the values a group set, else the sandbox's defaults.
 * The kernel enforces RLIMIT_NOFILE (the descriptor table), RLIMIT_SIGPENDING (queued
 * signals, signals.ts) and FSIZE, NPROC, AS, DATA and NICE (rlimit-checks.ts).
 */
import type { ThreadGroup } from './thread-group';

/** Resource numbers (getrlimit(2)) the kernel has defaults for or enforces. */
export const RLIMIT_FSIZE = 1, RLIMIT_DATA = 2, RLIMIT_STACK = 3, RLIMIT_CORE = 4, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7, RLIMIT_MEMLOCK = 8,
  RLIMIT_AS = 9, RLIMIT_SIGPENDING = 11;
/** RLIMIT_NICE and RLIMIT_RTPRIO bound what an unprivileged task may ask of setpriority and sched_setscheduler. */
export const RLIMIT_NICE = 13, RLIMIT_RTPRIO = 14;
/** RLIM_INFINITY is the "no limit" value. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** DEFAULT_SIGPENDING is RLIMIT_SIGPENDING until boot derives it from the memory limit (limits.ts). */
const DEFAULT_SIGPENDING = 4096n;

const DEFAULTS = new Map<number, [bigint, bigint]>([
  [RLIMIT_NOFILE, [1024n, 1048576n]],
  [RLIMIT_STACK, [8388608n, RLIM_INFINITY]],
  [RLIMIT_NPROC, [RLIM_INFINITY, RLIM_INFINITY]],
  [RLIMIT_MEMLOCK, [65536n, 65536n]],
  [RLIMIT_SIGPENDING, [DEFAULT_SIGPENDING, DEFAULT_SIGPENDING]],
  [RLIMIT_NICE, [0n, 0n]],
]);

/** setDefaultLimit sets the limit a group has until it (or config.json) sets its own. */
export function setDefaultLimit(res: number, soft: bigint, hard: bigint): void {
  DEFAULTS.set(res, [soft, hard]);
}

/** LIMIT_ROWS are the rows of /proc/<pid>/limits, in resource order (0..15). */
const LIMIT_ROWS = 16;

/**
 * inheritLimits makes the limits in `procLimits` (the text of the sentry's own
 * /proc/self/limits) the defaults, as runc's container inherits runc's limits for every
 * resource process.rlimits leaves out. Node, like Go's runtime in runc, raised its soft
 * RLIMIT_NOFILE to the hard limit at start, so the container sees what runc's sees.
 * RLIMIT_SIGPENDING stays at most the sandbox's own bound (limits.ts). A row that does
 * not parse keeps its default.
 */
export function inheritLimits(procLimits: string): void {
  const rows = procLimits.split('\n').slice(1).filter((l) => l.startsWith('Max '));
  rows.slice(0, LIMIT_ROWS).forEach((row, res) => {
    // "Max open files            1024                 1048576              files"
    const m = /^Max [a-z ]+?\s{2,}(\S+)\s+(\S+)/.exec(row);
    if (!m) return;
    const value = (v: string): bigint | null => (v === 'unlimited' ? RLIM_INFINITY : /^\d+$/.test(v) ? BigInt(v) : null);
    let soft = value(m[1]), hard = value(m[2]);
    if (soft === null || hard === null) return;
    if (res === RLIMIT_SIGPENDING) {
      const [bound] = DEFAULTS.get(res)!;
      if (soft > bound) soft = bound;
      if (hard > bound) hard = bound;
    }
    DEFAULTS.set(res, [soft, hard]);
  });
}

/** limitOf returns a group's [soft, hard] limit for resource res (0..15). */
export function limitOf(tg: ThreadGroup, res: number): [bigint, bigint] {
  return tg.rlimits.get(res) ?? DEFAULTS.get(res) ?? [RLIM_INFINITY, RLIM_INFINITY];
}
