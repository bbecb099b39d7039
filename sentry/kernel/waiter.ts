/**
 * WaitQueue is where blocked tasks wait for an event (data in a pipe, a child's exit, a
 * signal). Waiters are callbacks; notify() calls and forgets them all (a woken task
 * re-runs its syscall, which either completes or waits again).
 */

/** WaitQueue is a set of one-shot waiters. */
export class WaitQueue {
  private waiters = new Set<() => void>();

  /** add registers a waiter; the returned function removes it. */
  add(w: () => void): () => void {
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }

  /** notify wakes every waiter once. */
  notify(): void {
    if (this.waiters.size === 0) return;
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  get size(): number {
    return this.waiters.size;
  }
}

/**
 * Interruption is what a signal that interrupts a wait does to the syscall (signal(7),
 * "Interruption of system calls"): false, restarted unless a handler without SA_RESTART
 * runs (Linux's ERESTARTSYS: read, write, wait4...); true, EINTR when any handler runs,
 * restarted otherwise, e.g. after a stop and SIGCONT (ERESTARTNOHAND: poll, select,
 * nanosleep, sigsuspend); 'eintr', EINTR even when no handler runs (epoll_wait).
 */
export type Interruption = boolean | 'eintr';

/**
 * Block is what a syscall handler returns when it cannot complete now: the task sleeps
 * until one of `queues` is notified or `deadline` (ms since epoch, Date.now() clock)
 * passes, then runs the same syscall again. State that must survive the retry (e.g. a
 * sleep's end time) goes in Task.syscallState.
 */
export class Block {
  constructor(
    readonly queues: WaitQueue[],
    readonly deadline?: number,
    /** noRestart: what a signal interrupting this wait does (see Interruption). */
    readonly noRestart: Interruption = false,
  ) {}
}

/** block returns a Block on the given queues. */
export function block(...queues: WaitQueue[]): Block {
  return new Block(queues);
}

/**
 * AbortableWait is the state of a blocked syscall that holds something (a FIFO open's
 * end) to let go when a signal interrupts the wait or the task exits: the syscall then
 * starts over from nothing, as Linux's does when it unwinds with ERESTARTSYS.
 */
export interface AbortableWait {
  abort(): void;
}

/** abortWait drops the task's blocked-syscall state if it is an AbortableWait. */
export function abortWait(t: { syscallState: unknown }): void {
  const st = t.syscallState as Partial<AbortableWait> | undefined;
  if (typeof st !== 'object' || st === null || typeof st.abort !== 'function') return;
  t.syscallState = undefined;
  st.abort();
}
