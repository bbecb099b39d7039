/**
 * sched-stats: what the scheduler (sched.ts) measures of each task for /proc's sched,
 * schedstat and status: the times it was given the CPU (one run of the scheduler's loop
 * on it: a timeslice), how long it waited in the run queue before each (run delay), and
 * how each run ended: blocked or exited (a voluntary switch) or sent back to the queue at
 * the end of its slice (an involuntary one). Kept beside the task, not on it, so that the
 * scheduler's only change is three calls.
 */
import type { Task } from './task';

/** SchedStats are one task's scheduling counts. */
export interface SchedStats {
  /** runs is the number of times the task was given the CPU (schedstat's pcount). */
  runs: number;
  /** waitNs is the total time (ns) it spent runnable in the queue (schedstat's run_delay). */
  waitNs: number;
  /** voluntary and involuntary count the switches away from it (status's *_ctxt_switches). */
  voluntary: number;
  involuntary: number;
  /** queuedAt is when it last entered the queue (ns on the monotonic clock), or -1. */
  queuedAt: number;
}

const stats = new WeakMap<Task, SchedStats>();

/** schedStatsOf returns t's counts (zero for a task that never ran). */
export function schedStatsOf(t: Task): SchedStats {
  let s = stats.get(t);
  if (!s) stats.set(t, (s = { runs: 0, waitNs: 0, voluntary: 0, involuntary: 0, queuedAt: -1 }));
  return s;
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** noteQueued records that t entered the run queue. */
export function noteQueued(t: Task): void {
  schedStatsOf(t).queuedAt = nowNs();
}

/** noteRun records that t leaves the queue for the CPU. */
export function noteRun(t: Task): void {
  const s = schedStatsOf(t);
  if (s.queuedAt >= 0) s.waitNs += nowNs() - s.queuedAt;
  s.queuedAt = -1;
  s.runs++;
}

/** noteLeft records how t's run ended: still runnable (preempted: involuntary), or not. */
export function noteLeft(t: Task, stillRunnable: boolean): void {
  const s = schedStatsOf(t);
  if (stillRunnable) s.involuntary++;
  else s.voluntary++;
}
