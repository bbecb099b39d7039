/**
 * cputime accounts the CPU time each task really spent, for the CPU clocks
 * (CLOCK_THREAD/PROCESS_CPUTIME_ID and the clockids of clock_getcpuclockid), times(2),
 * getrusage(2) and the CPU interval timers (ITIMER_VIRTUAL, ITIMER_PROF).
 *
 * User time is what the host kernel accounted to the task's stub threads while they ran
 * the task: the platform samples the stub process's CPU clock after each switch (see
 * platform/ptrace/context.ts), which costs one vDSO-less clock_gettime per switch and
 * nothing else. System time is the CPU time the sentry's task thread spent running tasks
 * (their syscall handlers and the host side of their switches; waiting for a stub costs
 * none), read at both ends of a scheduler batch and shared among the tasks of the batch
 * by the wall time of their handlers, as Linux charges a syscall's kernel work to the
 * caller. It is added at the end of the batch (at most 50 ms).
 *
 * A process's times are its live threads' plus those of its exited threads (folded in at
 * exit); its children's are added when it reaps them, children's children included, as
 * Linux accumulates them in wait.
 */
import { Errno, fail } from './errors';
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
  /** handlerMs is the wall time of its syscall handlers in the current batch (chargeSystemTime's weights). */
  handlerMs = 0;
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
  /** maxRssKb is the largest resident size (KiB) seen of its memory (sampled: getrusage, exec, exit). */
  maxRssKb = 0;
  /** childrenMaxRssKb is the largest maxRssKb of its reaped children (and theirs). */
  childrenMaxRssKb = 0;
  /** timers are the armed POSIX timers on this process's (or its threads') CPU clocks. */
  readonly timers = new Set<CpuIntervalTimer>();
}

// The CPU clock encoding of Linux's posix-timers.h: ~pid << 3 | PERTHREAD (4) | which (PROF 0: user + system).
const CPUCLOCK_VIRT = 1;
/** CPUCLOCK_SCHED and CPUCLOCK_PERTHREAD are bits of a CPU clockid. */
export const CPUCLOCK_SCHED = 2, CPUCLOCK_PERTHREAD = 4;
const CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3;
/** CPU_TICK_NS is the resolution of the tick-based CPU clocks (PROF, VIRT) on a HZ=250 kernel. */
export const CPU_TICK_NS = 4000000n;

/** CpuClock is a decoded CPU clock: whose times, which sum of them, and the process they belong to. */
export interface CpuClock {
  times: () => CpuTimes;
  which: number;
  group: ThreadGroup;
}

/**
 * cpuClock decodes a CPU clockid as `t` may use it: null for a clock that is not a CPU
 * clock, EINVAL for one that names no thread of t's process or no live process.
 */
export function cpuClock(t: Task, id: number): CpuClock | null {
  if (id === CLOCK_PROCESS_CPUTIME_ID) return { times: () => groupTimes(t.tg), which: CPUCLOCK_SCHED, group: t.tg };
  if (id === CLOCK_THREAD_CPUTIME_ID) return { times: () => taskTimes(t), which: CPUCLOCK_SCHED, group: t.tg };
  if (id >= 0) return null;
  const which = id & 3, pid = ~(id >> 3);
  if (which === 3) fail(Errno.EINVAL); // CPUCLOCK_MAX, or a dynamic (fd) clock
  if (id & CPUCLOCK_PERTHREAD) {
    const task = pid === 0 ? t : t.kernel.tasks.get(pid);
    // Linux lets a thread use only its own process's thread clocks.
    if (!task || task.tg !== t.tg || task.state === 'exited') fail(Errno.EINVAL);
    return { times: () => taskTimes(task), which, group: t.tg };
  }
  const tg = pid === 0 || pid === t.tid ? t.tg : t.kernel.groups.get(pid);
  if (!tg || !tg.alive) fail(Errno.EINVAL);
  return { times: () => groupTimes(tg), which, group: tg };
}

/** cpuClockNs reads a CPU clock (ns). */
export function cpuClockNs(c: CpuClock): number {
  const { user, sys } = c.times();
  return c.which === CPUCLOCK_VIRT ? user : user + sys;
}

/**
 * CpuIntervalTimer is a POSIX timer on a CPU clock: like IntervalTimer, but its time is
 * the clock's process's or thread's CPU time, checked when a task of that process comes
 * back from running (checkCpuTimers in itimers.ts), so its resolution is the 10 ms slice.
 */
export class CpuIntervalTimer {
  private next = 0;
  private interval = 0;

  constructor(private readonly clock: CpuClock, private readonly onExpire: (count: bigint) => void) {}

  /** get returns [interval, time left] (ns). */
  get(): [bigint, bigint] {
    if (this.next === 0) return [BigInt(this.interval), 0n];
    const left = this.next - cpuClockNs(this.clock);
    return [BigInt(this.interval), left > 0 ? BigInt(Math.ceil(left)) : 1n];
  }

  /** set arms (value > 0: relative, or absolute on the clock) or disarms; returns the old setting. */
  set([interval, value]: [bigint, bigint], absolute: boolean): [bigint, bigint] {
    const old = this.get();
    this.disarm();
    this.interval = Number(interval);
    if (value === 0n) return old;
    this.next = Math.max(1, absolute ? Number(value) : cpuClockNs(this.clock) + Number(value));
    this.clock.group.cpu.timers.add(this);
    return old;
  }

  /** disarm stops the timer. */
  disarm(): void {
    this.next = 0;
    this.clock.group.cpu.timers.delete(this);
  }

  /** check reports the expirations the clock has crossed since the last check. */
  check(): void {
    if (this.next === 0) return;
    const now = cpuClockNs(this.clock);
    if (now < this.next) return;
    let count = 1;
    if (this.interval > 0) {
      count += Math.floor((now - this.next) / this.interval);
      this.next += count * this.interval;
    } else {
      this.disarm();
    }
    this.onExpire(BigInt(count));
  }
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

/**
 * chargeSystemTime shares `cpuNs`, the CPU time the sentry's task thread spent over one
 * scheduler batch, among the tasks that ran in it, in proportion to the wall time of
 * their syscall handlers (evenly when none ran a handler), and resets the weights.
 */
export function chargeSystemTime(ran: readonly Task[], cpuNs: number): void {
  // A task that ran twice in the batch is in `ran` twice: it counts once.
  const tasks = new Set(ran);
  let total = 0;
  for (const t of tasks) total += t.cpu.handlerMs;
  for (const t of tasks) {
    if (cpuNs > 0) t.cpu.sysNs += total > 0 ? (cpuNs * t.cpu.handlerMs) / total : cpuNs / tasks.size;
    t.cpu.handlerMs = 0;
  }
}

/** noteRss raises the process's maxRssKb to what t's memory holds now. */
export function noteRss(t: Task): number {
  const g = t.tg.cpu;
  g.maxRssKb = Math.max(g.maxRssKb, Math.floor(t.mm.rssBytes / 1024));
  return g.maxRssKb;
}

/**
 * retireContext releases a task's platform context (exec, exit), keeping the time it ran
 * and the resident size of the memory it is about to leave.
 */
export function retireContext(t: Task): void {
  noteRss(t);
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
  parent.cpu.childrenMaxRssKb = Math.max(parent.cpu.childrenMaxRssKb, child.cpu.maxRssKb, child.cpu.childrenMaxRssKb);
}

/** NS_PER_TICK is the length of a clock tick (USER_HZ = 100) for times(2). */
export const NS_PER_TICK = 10_000_000;

/** writeTimeval writes ns as a struct timeval at off. */
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
