/**
 * A task's scheduling policy (sched_setscheduler(2)) and its personality (personality(2)):
 * per-thread state that fork copies and exec keeps. The sentry runs tasks by its own
 * round-robin whatever the policy: the policy is recorded, checked and reported as Linux
 * does, and changes no task's share of the CPU.
 */

/** Policies (sched(7)) and the flag that resets a policy in forked children. */
export const SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;
export const SCHED_RESET_ON_FORK = 0x40000000;

/** SchedPolicy is one task's policy, static priority (1..99 for the real-time ones, else
 * 0) and SCHED_RESET_ON_FORK flag. */
export interface SchedPolicy {
  policy: number;
  priority: number;
  resetOnFork: boolean;
}

/** DEFAULT_SCHED is init's policy: SCHED_OTHER. */
export const DEFAULT_SCHED: Readonly<SchedPolicy> = { policy: SCHED_OTHER, priority: 0, resetOnFork: false };

/** isRealtime tells whether a policy is SCHED_FIFO or SCHED_RR. */
export function isRealtime(policy: number): boolean {
  return policy === SCHED_FIFO || policy === SCHED_RR;
}

/** forkedSched is the policy a child created by fork/clone starts with: its parent's,
 * except that SCHED_RESET_ON_FORK turns a real-time policy into SCHED_OTHER and is not
 * inherited (sched_fork in Linux). */
export function forkedSched(parent: SchedPolicy): SchedPolicy {
  if (!parent.resetOnFork) return { ...parent };
  return isRealtime(parent.policy) ? { ...DEFAULT_SCHED } : { policy: parent.policy, priority: parent.priority, resetOnFork: false };
}
