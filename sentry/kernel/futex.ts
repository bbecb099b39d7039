/**
 * Futexes: FUTEX_WAIT/WAKE (and the bitset forms) keyed by address within an address
 * space. Enough for glibc's locks and for thread exit (clear_child_tid).
 */
import { Errno, fail } from './errors';
import type { Task } from './task';
import { Block, WaitQueue } from './waiter';
import type { MemoryManager } from '../mm/mm';

/** Futexes holds the wait queues of every futex word in use. */
export class Futexes {
  private readonly queues = new WeakMap<MemoryManager, Map<bigint, { q: WaitQueue; waiters: Set<Task> }>>();

  private slot(mm: MemoryManager, addr: bigint) {
    let m = this.queues.get(mm);
    if (!m) this.queues.set(mm, (m = new Map()));
    let s = m.get(addr);
    if (!s) m.set(addr, (s = { q: new WaitQueue(), waiters: new Set() }));
    return s;
  }

  /** wait sleeps while *addr == val (until woken or the deadline). */
  wait(t: Task, addr: bigint, val: number, deadline?: number): number | Block {
    if (addr % 4n !== 0n) fail(Errno.EINVAL);
    const st = t.syscallState as { waiting: boolean; woken: boolean } | undefined;
    const s = this.slot(t.mm, addr);
    if (st?.waiting) {
      if (st.woken) return 0;
      if (deadline !== undefined && Date.now() >= deadline) {
        s.waiters.delete(t);
        return -Errno.ETIMEDOUT;
      }
      return new Block([s.q], deadline);
    }
    const cur = t.mm.read(addr, 4).readUInt32LE(0);
    if (cur !== val >>> 0) return -Errno.EAGAIN;
    const state = { waiting: true, woken: false };
    t.syscallState = state;
    s.waiters.add(t);
    (t as unknown as { futexState: typeof state }).futexState = state;
    return new Block([s.q], deadline);
  }

  /** wake wakes up to n waiters of addr and returns how many. */
  wake(t: Task, addr: bigint, n: number): number {
    const s = this.slot(t.mm, addr);
    let woken = 0;
    for (const w of [...s.waiters]) {
      if (woken >= n) break;
      s.waiters.delete(w);
      const state = (w as unknown as { futexState?: { woken: boolean } }).futexState;
      // A waiter whose wait was abandoned (interrupted, exited) does not take a wake-up.
      if (!state || w.syscallState !== state || w.state === 'exited') continue;
      state.woken = true;
      w.kernel.sched.wake(w);
      woken++;
    }
    return woken;
  }
}
