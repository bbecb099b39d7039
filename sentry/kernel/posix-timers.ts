/**
 * posix-timers are a process's timers of timer_create(2): each an IntervalTimer that, at
 * expiry, queues a signal to the process (SIGEV_SIGNAL, and SIGEV_THREAD, which the
 * kernel treats alike), to one of its threads (SIGEV_THREAD_ID, what glibc's SIGEV_THREAD
 * uses) or nothing (SIGEV_NONE). Its siginfo carries SI_TIMER, the timer id, the caller's
 * sigval and the overrun count: while a timer's signal is still pending, further
 * expirations only add to that count, as Linux's preallocated sigqueue does; the count of
 * the last delivered signal is what timer_getoverrun returns; setting or deleting a timer
 * takes its pending signal back. A process may have at most
 * RLIMIT_SIGPENDING timers. Timers are deleted at exec and exit. A timer on a CPU clock
 * (the process's, one of its threads', or another process's) is checked after each switch
 * into a task of that clock's process, so its resolution is the 10 ms time slice.
 */
import { Errno, fail } from './errors';
import { CpuIntervalTimer, type CpuClock } from './cputime';
import { IntervalTimer, type TimerSetting } from './interval-timer';
import { limitOf, RLIMIT_SIGPENDING } from './rlimits';
import { sendToGroup, sendToTask } from './signals';
import { NSIG, SIGALRM, type SignalInfo } from './signal-types';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';

/** SI_TIMER is the si_code of a POSIX timer's signal. */
export const SI_TIMER = -2;
/** sigev_notify values. */
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
/** DELAYTIMER_MAX bounds an overrun count (INT_MAX). */
const DELAYTIMER_MAX = 0x7fffffff;

/** Notify says what a timer does at expiry. */
export interface Notify {
  kind: 'signal' | 'none';
  signo: number;
  value: bigint;
  /** thread is SIGEV_THREAD_ID's target; null: the process. */
  thread: Task | null;
}

/** TimerEngine is what runs a timer: an IntervalTimer (wall clocks) or a CpuIntervalTimer. */
export interface TimerEngine {
  get(): TimerSetting;
  set(setting: TimerSetting, absolute: boolean): TimerSetting;
  disarm(): void;
}

/** PosixTimer is one timer of timer_create. */
export class PosixTimer {
  readonly timer: TimerEngine;
  /** queued is the signal this timer last queued (its overrun grows while it is pending). */
  private queued: SignalInfo | null = null;
  /** lastOverrun is the overrun count of the signal delivered before `queued`. */
  private lastOverrun = 0;

  constructor(readonly tg: ThreadGroup, readonly id: number, clock: number | CpuClock, readonly notify: Notify) {
    const expire = (n: bigint): void => this.expire(n);
    this.timer = typeof clock === 'number' ? new IntervalTimer(clock, expire) : new CpuIntervalTimer(clock, expire);
  }

  /**
   * set arms or disarms the timer and returns the old setting. As on Linux, a signal of
   * the old setting still pending is discarded and the overrun count restarts.
   */
  set(setting: TimerSetting, absolute: boolean): TimerSetting {
    this.discard();
    return this.timer.set(setting, absolute);
  }

  /** discard takes this timer's pending signal back (settime, delete). */
  discard(): void {
    const info = this.queued;
    this.queued = null;
    this.lastOverrun = 0;
    if (!info) return;
    for (const list of [this.tg.pending, ...[...this.tg.tasks].map((t) => t.pending)]) {
      const i = list.indexOf(info);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /** overrun returns the overrun count of the last delivered expiry signal. */
  overrun(): number {
    if (this.queued && !this.pending(this.queued)) return this.queued.overrun ?? 0;
    return this.lastOverrun;
  }

  private pending(info: SignalInfo): boolean {
    const target = this.notify.thread;
    if (target) return target.pending.includes(info);
    if (this.tg.pending.includes(info)) return true;
    for (const t of this.tg.tasks) if (t.pending.includes(info)) return true;
    return false;
  }

  private expire(count: bigint): void {
    if (this.notify.kind === 'none') return;
    const extra = Number(count - 1n);
    if (this.queued && this.pending(this.queued)) {
      this.queued.overrun = Math.min(DELAYTIMER_MAX, (this.queued.overrun ?? 0) + extra + 1);
      return;
    }
    if (this.queued) this.lastOverrun = this.queued.overrun ?? 0;
    const info: SignalInfo = { signo: this.notify.signo, code: SI_TIMER, timerid: this.id, overrun: Math.min(DELAYTIMER_MAX, extra), value: this.notify.value };
    this.queued = info;
    const target = this.notify.thread;
    if (target && target.state !== 'exited') sendToTask(target, info);
    else sendToGroup(this.tg, info);
  }
}

const timers = new WeakMap<ThreadGroup, Map<number, PosixTimer>>();

/** timersOf returns the process's timers by id. */
function timersOf(tg: ThreadGroup): Map<number, PosixTimer> {
  let m = timers.get(tg);
  if (!m) timers.set(tg, (m = new Map()));
  return m;
}

/** readSigevent decodes a struct sigevent for `t` (EINVAL when it names no valid notification). */
export function readSigevent(t: Task, b: Buffer): Notify {
  const value = b.readBigUInt64LE(0), signo = b.readInt32LE(8), notify = b.readInt32LE(12), tid = b.readInt32LE(16);
  const kind = notify & ~SIGEV_THREAD_ID;
  if (kind !== SIGEV_SIGNAL && kind !== SIGEV_THREAD && kind !== SIGEV_NONE) fail(Errno.EINVAL);
  if (kind === SIGEV_NONE) {
    if (notify & SIGEV_THREAD_ID) fail(Errno.EINVAL);
    return { kind: 'none', signo: 0, value, thread: null };
  }
  if (signo <= 0 || signo > NSIG) fail(Errno.EINVAL);
  let thread: Task | null = null;
  if (notify & SIGEV_THREAD_ID) {
    thread = t.kernel.tasks.get(tid) ?? null;
    if (!thread || thread.tg !== t.tg) fail(Errno.EINVAL);
  }
  return { kind: 'signal', signo, value, thread };
}

/**
 * createTimer makes a timer on `clock` (a wall clock already checked, or a decoded CPU
 * clock); notify null is SIGEV_SIGNAL/SIGALRM with the id as value.
 */
export function createTimer(t: Task, clock: number | CpuClock, notify: Notify | null): PosixTimer {
  const m = timersOf(t.tg);
  if (BigInt(m.size) >= limitOf(t.tg, RLIMIT_SIGPENDING)[0]) fail(Errno.EAGAIN);
  let id = 0;
  while (m.has(id)) id++;
  const timer = new PosixTimer(t.tg, id, clock, notify ?? { kind: 'signal', signo: SIGALRM, value: BigInt(id), thread: null });
  m.set(id, timer);
  return timer;
}

/** timerOf returns the process's timer `id` (EINVAL when there is none). */
export function timerOf(tg: ThreadGroup, id: number): PosixTimer {
  return timers.get(tg)?.get(id) ?? fail(Errno.EINVAL);
}

/** deleteTimer disarms and forgets timer `id`. */
export function deleteTimer(tg: ThreadGroup, id: number): void {
  const timer = timerOf(tg, id);
  timer.timer.disarm();
  timer.discard();
  timers.get(tg)!.delete(id);
}

/** deleteAllTimers removes every timer of the process (exec, exit). */
export function deleteAllTimers(tg: ThreadGroup): void {
  const m = timers.get(tg);
  if (!m) return;
  for (const timer of m.values()) timer.timer.disarm();
  timers.delete(tg);
}
