/**
 * Robust futex lists (set_robust_list(2)): at a thread's exit the sentry walks the list of
 * locks the thread registered, as Linux's exit_robust_list does, and marks each lock
 * still owned by the thread FUTEX_OWNER_DIED, waking one waiter, so that the next locker
 * gets EOWNERDEAD instead of sleeping forever.
 *
 * The list lives in application memory:
 *
 *   struct robust_list_head {            // 24 bytes, the size set_robust_list requires
 *     struct robust_list *next;          // first entry; the list is circular through head
 *     long futex_offset;                 // from an entry to its futex word
 *     struct robust_list *list_op_pending; // an entry being locked or unlocked
 *   };
 *
 * Bit 0 of an entry pointer marks a PI futex. The walk is bounded by ROBUST_LIST_LIMIT
 * entries (a cycle in a corrupted list ends there) and stops at the first unreadable word.
 */
import { Errno, fail } from './errors';
import { FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS, futexes } from './futex';
import type { MemoryManager } from '../mm/mm';
import type { Task } from './task';

/** ROBUST_LIST_HEAD_SIZE is sizeof(struct robust_list_head). */
export const ROBUST_LIST_HEAD_SIZE = 24;
/** ROBUST_LIST_LIMIT bounds the entries walked at exit (Linux's value). */
export const ROBUST_LIST_LIMIT = 2048;

/**
 * heads holds each task's registered list head with the address space it was registered
 * in: a new program (execve) has other memory, and the head no longer applies to it. A
 * new task starts without one (clone does not inherit it).
 */
const heads = new WeakMap<Task, { head: bigint; mm: MemoryManager }>();

/** setRobustList implements set_robust_list(head, len). */
export function setRobustList(t: Task, head: bigint, len: number): number {
  if (len !== ROBUST_LIST_HEAD_SIZE) fail(Errno.EINVAL);
  heads.set(t, { head, mm: t.mm });
  return 0;
}

/** robustListOf returns the head t registered (0 when none, or when it belongs to a former program). */
export function robustListOf(t: Task): bigint {
  const h = heads.get(t);
  return h && h.mm === t.mm ? h.head : 0n;
}

/** exitRobustList walks t's robust list as t exits (a no-op when it has none). */
export function exitRobustList(t: Task): void {
  const head = robustListOf(t);
  heads.delete(t);
  if (head === 0n) return;
  const mm = t.mm;
  const ptr = (a: bigint): bigint | null => {
    try {
      return mm.read(a, 8).readBigUInt64LE(0);
    } catch {
      return null;
    }
  };
  const next0 = ptr(head), offsetRaw = ptr(head + 8n), pendingRaw = ptr(head + 16n);
  if (next0 === null || offsetRaw === null || pendingRaw === null) return;
  const offset = BigInt.asIntN(64, offsetRaw);
  const pending = pendingRaw & ~1n;
  let entry = next0;
  for (let n = 0; (entry & ~1n) !== head && n < ROBUST_LIST_LIMIT; n++) {
    const e = entry & ~1n;
    // Read the next entry first: the death handling may unlink this one.
    const next = ptr(e);
    if (e !== pending) handleFutexDeath(t, BigInt.asUintN(64, e + offset), false);
    if (next === null) return;
    entry = next;
  }
  if (pending !== 0n) handleFutexDeath(t, BigInt.asUintN(64, pending + offset), true);
}

/**
 * handleFutexDeath marks one lock word owned by the dead task t FUTEX_OWNER_DIED (keeping
 * FUTEX_WAITERS) and wakes one waiter. A pending entry whose word is already 0 was being
 * released: its waiter may not have been woken yet, so one is.
 */
function handleFutexDeath(t: Task, addr: bigint, pending: boolean): void {
  if (addr % 4n !== 0n) return;
  let word: number;
  try {
    word = t.mm.read(addr, 4).readUInt32LE(0);
  } catch {
    return;
  }
  try {
    if (pending && word === 0) {
      futexes.wake(t, addr, 1);
      return;
    }
    if ((word & FUTEX_TID_MASK) !== t.tid) return;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(((word & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
    t.mm.write(addr, b);
    // PI futexes here have non-PI semantics (futex.ts): their waiters are woken alike.
    if (word & FUTEX_WAITERS) futexes.wake(t, addr, 1);
  } catch {
    // the word is not writable: Linux gives up on it too
  }
}
