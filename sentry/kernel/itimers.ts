/**
 * itimers are a process's three interval timers (setitimer(2)): ITIMER_REAL counts wall
 * time on the timekeeper and sends SIGALRM (alarm(2) is the same timer); ITIMER_VIRTUAL
 * counts the process's user CPU time and sends SIGVTALRM; ITIMER_PROF counts its user
 * and system time and sends SIGPROF. The CPU timers are checked when a task of the
 * process comes back from running (checkCpuTimers, called by the scheduler after each
 * switch): a busy task comes back at least every 10 ms of CPU (the stub's time slice),
 * which is the CPU timers' resolution, as a tick is on Linux.
 */
import { groupTimes, type CpuTimer } from './cputime';
import { sendToGroup } from './signals';
import { SI_KERNEL, SIGALRM, SIGPROF, SIGVTALRM } from './signal-types';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';
import { timekeeper } from './timekeeper';

/** The `which` of setitimer/getitimer. */
export const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;

/** ItimerValue is a timer's [interval, value] in ns (value 0: disarmed). */
export type ItimerValue = [interval: number, value: number];

/** TICK_NS is what getitimer reports for a CPU timer that is due but not yet checked (Linux: one tick). */
const TICK_NS = 4_000_000;

/**
 * armAlarm (re)arms ITIMER_REAL to fire in `ms` and then every `interval` ms (0: once);
 * it returns the ms that were left. A periodic timer is re-armed from its expiry, not
 * from when the signal went out, as Linux's hrtimer is.
 */
export function armAlarm(tg: ThreadGroup, ms: number, interval = 0): number {
  const left = timekeeper.remaining(tg.alarmTimer);
  timekeeper.disarm(tg.alarmTimer);
  tg.alarmTimer = null;
  tg.alarmInterval = ms > 0 ? interval : 0;
  const fire = (): void => {
    tg.alarmTimer = tg.alarmInterval > 0 ? timekeeper.arm(at + tg.alarmInterval, fire) : null;
    if (tg.alarmTimer) at = tg.alarmTimer.at;
    sendToGroup(tg, { signo: SIGALRM, code: SI_KERNEL });
  };
  let at = timekeeper.now() + ms;
  if (ms > 0) tg.alarmTimer = timekeeper.arm(at, fire);
  return left;
}

/** cpuClockOf returns the process CPU time the timer `which` counts (ns). */
function cpuClockOf(tg: ThreadGroup, which: number): number {
  const c = groupTimes(tg);
  return which === ITIMER_VIRTUAL ? c.user : c.user + c.sys;
}

function cpuTimerValue(tg: ThreadGroup, which: number, timer: CpuTimer | null): ItimerValue {
  if (!timer) return [0, 0];
  const left = timer.at - cpuClockOf(tg, which);
  return [timer.interval, left > 0 ? left : TICK_NS];
}

/** getItimer returns timer `which` of the process as [interval, value] in ns. */
export function getItimer(tg: ThreadGroup, which: number): ItimerValue {
  switch (which) {
    case ITIMER_REAL: {
      // Armed but due (its expiry not yet handled, or a periodic one re-armed late under
      // load): as Linux's do_getitimer, 1 us left and the interval still reported.
      if (!tg.alarmTimer?.armed) return [0, 0];
      const left = timekeeper.remaining(tg.alarmTimer);
      return [tg.alarmInterval * 1e6, left > 0 ? left * 1e6 : 1000];
    }
    case ITIMER_VIRTUAL: return cpuTimerValue(tg, which, tg.cpu.virt);
    default: return cpuTimerValue(tg, which, tg.cpu.prof);
  }
}

/** setItimer arms (value > 0) or disarms timer `which`; it returns the old setting. */
export function setItimer(tg: ThreadGroup, which: number, [interval, value]: ItimerValue): ItimerValue {
  const old = getItimer(tg, which);
  if (which === ITIMER_REAL) {
    armAlarm(tg, value / 1e6, interval / 1e6);
    return old;
  }
  const timer = value > 0 ? { at: cpuClockOf(tg, which) + value, interval } : null;
  if (which === ITIMER_VIRTUAL) tg.cpu.virt = timer;
  else tg.cpu.prof = timer;
  return old;
}

/** checkCpuTimers sends SIGVTALRM/SIGPROF, and fires the POSIX CPU-clock timers, that t's process has crossed. */
export function checkCpuTimers(t: Task): void {
  const g = t.tg.cpu;
  if (g.timers.size > 0) for (const timer of [...g.timers]) timer.check();
  if (!g.virt && !g.prof) return;
  const c = groupTimes(t.tg);
  // As Linux's check_cpu_itimer: one signal per check, the next expiry one interval on.
  const check = (timer: CpuTimer | null, now: number, signo: number): CpuTimer | null => {
    if (!timer || now < timer.at) return timer;
    sendToGroup(t.tg, { signo, code: SI_KERNEL });
    if (timer.interval <= 0) return null;
    timer.at += timer.interval;
    return timer;
  };
  g.virt = check(g.virt, c.user, SIGVTALRM);
  g.prof = check(g.prof, c.user + c.sys, SIGPROF);
}
