/**
 * cputime accounts the CPU time each task really spent, for the CPU clocks
 * (CLOCK_THREAD/PROCESS_CPUTIME_ID and the clockids of clock_getcpuclockid), times(2),
 * getrusage(2) and the CPU interval timers (ITIMER_VIRTUAL, ITIMER_PROF).
 *
 * User time is what the host kernel accounted to the task's stub threads while they ran
 * the task: the platform samples the stub process's CPU clock after each switch (see
 * platform/ptrace/context.ts), which costs one vDSO-less clock_gettime per switch and
 * nothing else. System time is the CPU time the sentry's task thread spent running the
 * task (its syscall handlers and the host side of its switches; waiting for the stub costs
 * none), read once at each end of a scheduling slice, as Linux charges a syscall's kernel
 * work to the caller. It is added at the end of the slice.
 *
 * A process's times are its live threads' plus those of its exited threads (folded in at
 * exit); its children's are added when it reaps them, children's children included, as
 * Linux accumulates them in wait.
 */
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';

/** CpuTimes is a pair of user and system times in nanoseconds. */
export interface CpuTimes {
  user: number;
  sys: number;
}

/** TaskCpu is one task's account. */
export class TaskCpu {
  /** retiredNs is the user time of contexts the task no longer has (released at exec). */
  retiredNs = 0;
  /** sysNs is the CPU time the sentry spent running the task (its syscalls). */
  sysNs = 0;
}

/** CpuTimer is an armed ITIMER_VIRTUAL or ITIMER_PROF: a point on the process's CPU clock. */
export interface CpuTimer {
  /** at is the process CPU time (ns) at which it fires. */
  at: number;
  /** interval is its period in ns (0: once). */
  interval: number;
}

/** GroupCpu is a process's account. */
export class GroupCpu {
  /** dead holds the times of its exited threads. */
  readonly dead: CpuTimes = { user: 0, sys: 0 };
  /** children holds the times of its reaped children (and theirs). */
  readonly children: CpuTimes = { user: 0, sys: 0 };
  /** virt is ITIMER_VIRTUAL (user time), prof ITIMER_PROF (user + system), when armed. */
  virt: CpuTimer | null = null;
  prof: CpuTimer | null = null;
}

/** taskTimes returns a task's user and system time so far. */
export function taskTimes(t: Task): CpuTimes {
  return { user: t.cpu.retiredNs + (t.ctx?.cpuNs ?? 0), sys: t.cpu.sysNs };
}

/** groupTimes returns a process's own times: its live and exited threads'. */
export function groupTimes(tg: ThreadGroup): CpuTimes {
  let user = tg.cpu.dead.user, sys = tg.cpu.dead.sys;
  for (const t of tg.tasks) {
    const c = taskTimes(t);
    user += c.user;
    sys += c.sys;
  }
  return { user, sys };
}

/** retireContext releases a task's platform context (exec, exit), keeping the time it ran. */
export function retireContext(t: Task): void {
  if (!t.ctx) return;
  t.cpu.retiredNs += t.ctx.cpuNs ?? 0;
  t.ctx.release();
  t.ctx = null;
}

/** taskLeft folds an exiting task's times into its process (call after retireContext). */
export function taskLeft(t: Task): void {
  const c = taskTimes(t);
  t.tg.cpu.dead.user += c.user;
  t.tg.cpu.dead.sys += c.sys;
  t.cpu.retiredNs = 0;
  t.cpu.sysNs = 0;
}

/** childReaped adds a reaped child's times, and its children's, to the parent's. */
export function childReaped(parent: ThreadGroup, child: ThreadGroup): void {
  const own = groupTimes(child);
  parent.cpu.children.user += own.user + child.cpu.children.user;
  parent.cpu.children.sys += own.sys + child.cpu.children.sys;
}

/** NS_PER_TICK is the length of a clock tick (USER_HZ = 100) for times(2). */
export const NS_PER_TICK = 10_000_000;

/** timeval writes ns as a struct timeval at off. */
export function writeTimeval(b: Buffer, off: number, ns: number): void {
  const us = Math.floor(ns / 1000);
  b.writeBigInt64LE(BigInt(Math.floor(us / 1e6)), off);
  b.writeBigInt64LE(BigInt(us % 1e6), off + 8);
}

/** rusage encodes a struct rusage with the given times and max RSS (KiB). */
export function rusage(c: CpuTimes, maxRssKb = 0): Buffer {
  const b = Buffer.alloc(144);
  writeTimeval(b, 0, c.user);
  writeTimeval(b, 16, c.sys);
  b.writeBigInt64LE(BigInt(maxRssKb), 32);
  return b;
}
