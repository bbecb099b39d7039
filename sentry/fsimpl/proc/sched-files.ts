/**
 * /proc/<pid>/sched, /proc/<pid>/schedstat and status's context-switch lines, from the
 * sentry's accounting: the task's CPU time (kernel/cputime.ts), and the scheduler's counts
 * of its runs, its time waiting in the run queue and its switches (kernel/sched-stats.ts).
 * sched shows only those fields (Linux's kernel/sched/debug.c format); the load-tracking,
 * vruntime and NUMA fields of the host's CFS have no counterpart in the sentry's
 * round-robin and are left out, not made up.
 */
import { taskTimes } from '../../kernel/cputime';
import { isRealtime } from '../../kernel/sched-policy';
import { schedStatsOf } from '../../kernel/sched-stats';
import type { Task } from '../../kernel/task';

/** field formats a line of sched as Linux's __PS does ("%-45s:%21Ld"). */
function field(name: string, v: number): string {
  return `${name.padEnd(45)}:${String(Math.round(v)).padStart(21)}\n`;
}

/** nsField formats nanoseconds as milliseconds with six decimals, as __PSN does. */
function nsField(name: string, ns: number): string {
  const n = Math.round(ns);
  return `${name.padEnd(45)}:${String(Math.floor(n / 1e6)).padStart(14)}.${String(n % 1e6).padStart(6, '0')}\n`;
}

/** cpuNs is the task's CPU time so far (se.sum_exec_runtime). */
function cpuNs(t: Task): number {
  const c = taskTimes(t);
  return c.user + c.sys;
}

/** schedText is /proc/<pid>/sched of task t (its pid as the reader's namespace numbers it, `threads` its process's count). */
export function schedText(t: Task, pid: number, threads: number): string {
  const s = schedStatsOf(t);
  // The kernel's prio: 120 + nice for the normal policies, 99 - priority for the real-time ones.
  const prio = isRealtime(t.sched.policy) ? 99 - t.sched.priority : 120 + t.nice;
  return `${t.name} (${pid}, #threads: ${threads})\n${'-'.repeat(67)}\n` +
    nsField('se.sum_exec_runtime', cpuNs(t)) +
    field('nr_switches', s.voluntary + s.involuntary) +
    field('nr_voluntary_switches', s.voluntary) +
    field('nr_involuntary_switches', s.involuntary) +
    field('policy', t.sched.policy) +
    field('prio', prio);
}

/** schedstatText is /proc/<pid>/schedstat: CPU time, time waiting to run (ns), runs. */
export function schedstatText(t: Task): string {
  const s = schedStatsOf(t);
  return `${Math.round(cpuNs(t))} ${Math.round(s.waitNs)} ${s.runs}\n`;
}

/** contextSwitchLines are the last lines of /proc/<pid>/status. */
export function contextSwitchLines(t: Task): string[] {
  const s = schedStatsOf(t);
  return [`voluntary_ctxt_switches:\t${s.voluntary}`, `nonvoluntary_ctxt_switches:\t${s.involuntary}`];
}
