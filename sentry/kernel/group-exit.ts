/**
 * group-exit: a wait queue per thread group notified when the group exits (its last task
 * is gone), for the files that watch a process from outside its family: a pidfd becomes
 * readable then (fsimpl/anon/pidfd.ts). The parent's own notice is childEvents.
 */
import type { ThreadGroup } from './thread-group';
import { WaitQueue } from './waiter';

const queues = new WeakMap<ThreadGroup, WaitQueue>();

/** groupExitQueue returns the queue notified when tg exits. */
export function groupExitQueue(tg: ThreadGroup): WaitQueue {
  let q = queues.get(tg);
  if (!q) queues.set(tg, (q = new WaitQueue()));
  return q;
}

/** notifyGroupExit wakes the watchers of tg (task-exit calls it once tg has its exit status). */
export function notifyGroupExit(tg: ThreadGroup): void {
  queues.get(tg)?.notify();
}
