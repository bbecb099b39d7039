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

/** limitOf returns a group's [soft, hard] limit for resource res (0..15). */
export function limitOf(tg: ThreadGroup, res: number): [bigint, bigint] {
  return tg.rlimits.get(res) ?? DEFAULTS.get(res) ?? [RLIM_INFINITY, RLIM_INFINITY];
}
