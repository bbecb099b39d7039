/**
 * Timer slack (prctl(2) PR_SET_TIMERSLACK, proc(5) /proc/<pid>/timerslack_ns): each
 * thread has a slack value and the default it returns to when set to 0; a new thread
 * takes its creator's current slack as both. The values are kept and reported as Linux
 * does; the sentry's timers add no slack of their own (they fire when due).
 */
import type { Task } from './task';

/** DEFAULT_TIMER_SLACK_NS is init's slack (50 us), which every task inherits unless changed. */
export const DEFAULT_TIMER_SLACK_NS = 50_000n;

interface Slack {
  current: bigint;
  fallback: bigint;
}

const slacks = new WeakMap<Task, Slack>();

/** slackOf returns the slack record of t (init's values until t changes them). */
function slackOf(t: Task): Slack {
  let s = slacks.get(t);
  if (!s) slacks.set(t, (s = { current: DEFAULT_TIMER_SLACK_NS, fallback: DEFAULT_TIMER_SLACK_NS }));
  return s;
}

/** timerSlack returns t's timer slack in ns. */
export function timerSlack(t: Task): bigint {
  return slackOf(t).current;
}

/** setTimerSlack sets t's slack; 0 restores t's default. */
export function setTimerSlack(t: Task, ns: bigint): void {
  const s = slackOf(t);
  s.current = ns === 0n ? s.fallback : ns;
}

/** inheritTimerSlack gives a new thread its creator's slack as its value and its default (copy_process). */
export function inheritTimerSlack(parent: Task, child: Task): void {
  const s = slacks.get(parent);
  if (s) slacks.set(child, { current: s.current, fallback: s.current });
}
