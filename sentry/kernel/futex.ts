/**
 * Futexes: the wait queues behind futex(2), keyed as Linux's get_futex_key keys them.
 *
 * A key is (object, offset): for FUTEX_PRIVATE_FLAG the address space and the address;
 * otherwise what MemoryManager.futexKey returns, the shared object and the word's offset
 * in it for a MAP_SHARED mapping (so processes mapping it anywhere meet), the address
 * space and address for a private one.
 *
 * Waiters are records (FutexWaiter) in a FIFO bucket per key; each sleeps on a queue of
 * its own, so that a wake, a requeue or a timeout acts on exactly that record. A record
 * whose task stopped sleeping on it without being woken (a signal, a timeout, exit) is
 * stale: wakes skip it and it is dropped when its bucket is next used.
 *
 * PI futexes (LOCK_PI, TRYLOCK_PI, UNLOCK_PI) keep Linux's protocol on the futex word
 * (owner tid, FUTEX_WAITERS, FUTEX_OWNER_DIED, hand-off to the first waiter, EDEADLK on
 * self-lock) but without priority inheritance: the sentry's scheduler has no priorities.
 */
import { Errno, fail } from './errors';
import type { Task } from './task';
import { Block, WaitQueue } from './waiter';

/** FUTEX_WAITERS, FUTEX_OWNER_DIED and FUTEX_TID_MASK are the bits of a PI or robust futex word. */
export const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
/** FUTEX_BITSET_MATCH_ANY is the bitset of the plain WAIT and WAKE operations. */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** FutexKey names one futex word: an object (address space or shared memory) and an offset in it. */
export interface FutexKey {
  obj: object;
  off: number;
}

/** FutexWaiter is one task sleeping on a futex. */
interface FutexWaiter {
  task: Task;
  key: FutexKey;
  bitset: number;
  /** pi: waiting in LOCK_PI (UNLOCK_PI hands the lock to it). */
  pi: boolean;
  woken: boolean;
  /** q is the waiter's queue: the task sleeps on it while the record is live (futex_waitv's records share one). */
  q: WaitQueue;
  deadline?: number;
  /** index is the record's place in a futex_waitv vector (0 for the other waits). */
  index: number;
  /** addr and val are the word and the value waited for (absent for LOCK_PI). */
  addr?: bigint;
  val?: number;
}

/** Futexes holds the wait queues of every futex word in use. */
export class Futexes {
  private readonly buckets = new WeakMap<object, Map<number, FutexWaiter[]>>();
  /** current is each task's records of the futex wait it is in (if any; several for futex_waitv). */
  private readonly current = new WeakMap<Task, FutexWaiter[]>();

  /** keyOf returns the key of the word at addr (EINVAL when misaligned, EFAULT when unmapped). */
  keyOf(t: Task, addr: bigint, priv: boolean): FutexKey {
    if (addr % 4n !== 0n) fail(Errno.EINVAL);
    if (priv) return { obj: t.mm, off: Number(addr) };
    return t.mm.futexKey(Number(addr)) ?? fail(Errno.EFAULT);
  }

  private bucket(key: FutexKey, create: boolean): FutexWaiter[] | undefined {
    let m = this.buckets.get(key.obj);
    if (!m) {
      if (!create) return undefined;
      this.buckets.set(key.obj, (m = new Map()));
    }
    let b = m.get(key.off);
    if (!b && create) m.set(key.off, (b = []));
    return b;
  }

  /** live tells whether a waiter still sleeps on its record. */
  private static live(w: FutexWaiter): boolean {
    return !w.woken && w.q.size > 0 && w.task.state !== 'exited';
  }

  /** prune drops stale records from a key's bucket and the bucket itself when empty; it returns the live ones. */
  private prune(key: FutexKey): FutexWaiter[] {
    const m = this.buckets.get(key.obj);
    const b = m?.get(key.off);
    if (!m || !b) return [];
    const kept = b.filter(Futexes.live);
    if (kept.length === 0) m.delete(key.off);
    else m.set(key.off, kept);
    return kept;
  }

  private enqueue(w: FutexWaiter): void {
    this.prune(w.key);
    this.bucket(w.key, true)!.push(w);
  }

  private remove(w: FutexWaiter): void {
    const b = this.bucket(w.key, false);
    const i = b ? b.indexOf(w) : -1;
    if (i >= 0) b!.splice(i, 1);
  }

  /** resumed returns the task's records when this run of its syscall follows a sleep in it. */
  private resumed(t: Task): FutexWaiter[] | undefined {
    const ws = this.current.get(t);
    if (ws && t.inSyscall && t.syscallState === ws) return ws;
    if (ws) {
      // A wait left by a signal (and maybe restarted): its records are dead.
      for (const w of ws) this.remove(w);
      this.current.delete(t);
    }
    return undefined;
  }

  private sleep(t: Task, entries: Array<{ key: FutexKey; bitset: number; addr?: bigint; val?: number }>, pi: boolean, deadline: number | undefined): Block {
    const q = new WaitQueue();
    const ws = entries.map((e, index): FutexWaiter => ({ task: t, key: e.key, bitset: e.bitset, pi, woken: false, q, deadline, index, addr: e.addr, val: e.val }));
    for (const w of ws) this.enqueue(w);
    this.current.set(t, ws);
    t.syscallState = ws;
    // A timed wait interrupted by a handler fails with EINTR (Linux restarts it through a
    // restart block, which a handler turns into EINTR); an untimed one follows SA_RESTART.
    return new Block([q], deadline, deadline !== undefined);
  }

  /**
   * again runs the wait of a task woken while in it: the index of the record a wake took,
   * ETIMEDOUT past the deadline, else (a spurious wake) it sleeps on, unless a word changed
   * meanwhile (a wake may have passed it by): then it returns as woken by that word, a
   * spurious wake-up that futex users allow for (LOCK_PI tries the lock again).
   */
  private again(ws: FutexWaiter[]): number | Block {
    const t = ws[0].task;
    const woken = ws.find((w) => w.woken);
    if (woken) {
      for (const w of ws) if (w !== woken) this.remove(w);
      this.current.delete(t);
      return woken.index;
    }
    const deadline = ws[0].deadline;
    if (deadline !== undefined && Date.now() >= deadline) {
      for (const w of ws) this.remove(w);
      this.current.delete(t);
      return -Errno.ETIMEDOUT;
    }
    const changed = ws.find((w) => w.addr === undefined || this.changed(t, w.addr, w.val!));
    if (changed) {
      for (const w of ws) this.remove(w);
      this.current.delete(t);
      return changed.index;
    }
    for (const w of ws) {
      const b = this.bucket(w.key, true)!;
      if (!b.includes(w)) b.push(w);
    }
    return new Block([ws[0].q], deadline, deadline !== undefined);
  }

  private changed(t: Task, addr: bigint, val: number): boolean {
    try {
      return this.word(t, addr) !== val >>> 0;
    } catch {
      return true;
    }
  }

  /** wait sleeps while the word at addr (key) holds val, until a wake matching bitset or the deadline (ms, Date.now clock). */
  wait(t: Task, key: FutexKey, addr: bigint, val: number, bitset: number, deadline?: number): number | Block {
    if (bitset === 0) fail(Errno.EINVAL);
    const ws = this.resumed(t);
    if (ws) return this.again(ws);
    const cur = t.mm.read(addr, 4).readUInt32LE(0);
    if (cur !== val >>> 0) return -Errno.EAGAIN;
    if (deadline !== undefined && Date.now() >= deadline) return -Errno.ETIMEDOUT;
    return this.sleep(t, [{ key, bitset, addr, val }], false, deadline);
  }

  /**
   * waitv implements futex_waitv: it sleeps on every word while each holds its value
   * (EAGAIN when one does not) and returns the index of the first woken.
   */
  waitv(t: Task, entries: Array<{ key: FutexKey; addr: bigint; val: number }>, deadline?: number): number | Block {
    const ws = this.resumed(t);
    if (ws) return this.again(ws);
    for (const e of entries) if (t.mm.read(e.addr, 4).readUInt32LE(0) !== e.val >>> 0) return -Errno.EAGAIN;
    if (deadline !== undefined && Date.now() >= deadline) return -Errno.ETIMEDOUT;
    return this.sleep(t, entries.map((e) => ({ key: e.key, bitset: FUTEX_BITSET_MATCH_ANY, addr: e.addr, val: e.val })), false, deadline);
  }

  /** wakeKey wakes up to n live waiters of key whose bitset meets `bitset`; it returns how many. */
  wakeKey(key: FutexKey, n: number, bitset = FUTEX_BITSET_MATCH_ANY): number {
    if (bitset === 0) fail(Errno.EINVAL);
    let woken = 0;
    for (const w of this.prune(key)) {
      if (woken >= n) break;
      // A futex_waitv sibling woken earlier in this loop is no longer live.
      if ((w.bitset & bitset) === 0 || !Futexes.live(w)) continue;
      this.wakeOne(w);
      woken++;
    }
    this.prune(key);
    return woken;
  }

  private wakeOne(w: FutexWaiter): void {
    w.woken = true;
    this.remove(w);
    w.q.notify();
  }

  /** wake wakes up to n waiters of the word at addr in t's memory (shared key), as clear_child_tid and robust lists do. */
  wake(t: Task, addr: bigint, n: number): number {
    return this.wakeKey(this.keyOf(t, addr, false), n);
  }

  /**
   * requeue wakes up to nWake waiters of `from` and moves up to nRequeue others to `to`
   * (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE once the caller compared); it returns both counts summed.
   */
  requeue(from: FutexKey, to: FutexKey, nWake: number, nRequeue: number): number {
    let woken = 0, moved = 0;
    for (const w of this.prune(from)) {
      if (!Futexes.live(w)) continue;
      if (woken < nWake) {
        this.wakeOne(w);
        woken++;
      } else if (moved < nRequeue) {
        this.remove(w);
        w.key = to;
        this.enqueue(w);
        moved++;
      } else break;
    }
    this.prune(from);
    return woken + moved;
  }

  /**
   * lockPi implements FUTEX_LOCK_PI (and TRYLOCK_PI with trylock): take the word when it
   * names no owner (keeping FUTEX_OWNER_DIED), EDEADLK when t owns it, ESRCH when its
   * owner does not exist, else mark FUTEX_WAITERS and sleep until UNLOCK_PI hands it over.
   */
  lockPi(t: Task, key: FutexKey, addr: bigint, trylock: boolean, deadline?: number): number | Block {
    const ws = this.resumed(t);
    if (ws) {
      const r = this.again(ws);
      if (r !== 0) return r;
      // Woken: either the lock was handed to t, or its owner died (robust list): try again.
      if ((this.word(t, addr) & FUTEX_TID_MASK) === t.tid) return 0;
    }
    const cur = this.word(t, addr);
    const owner = cur & FUTEX_TID_MASK;
    if (owner === t.tid) return -Errno.EDEADLK;
    if (owner === 0) {
      const waiters = this.prune(key).length > 0 ? FUTEX_WAITERS : 0;
      this.setWord(t, addr, (cur & FUTEX_OWNER_DIED) | waiters | t.tid);
      return 0;
    }
    if (trylock) return -Errno.EAGAIN;
    const ownerTask = t.kernel.tasks.get(owner);
    if (!ownerTask || ownerTask.state === 'exited') return -Errno.ESRCH;
    if (deadline !== undefined && Date.now() >= deadline) return -Errno.ETIMEDOUT;
    this.setWord(t, addr, (cur | FUTEX_WAITERS) >>> 0);
    return this.sleep(t, [{ key, bitset: FUTEX_BITSET_MATCH_ANY }], true, deadline);
  }

  /** unlockPi implements FUTEX_UNLOCK_PI: EPERM unless t owns the word; the first waiter becomes the owner, else the word is 0. */
  unlockPi(t: Task, key: FutexKey, addr: bigint): number {
    const cur = this.word(t, addr);
    if ((cur & FUTEX_TID_MASK) !== t.tid) return -Errno.EPERM;
    const next = this.prune(key)[0];
    if (!next) {
      this.setWord(t, addr, 0);
      return 0;
    }
    // As Linux's wake_futex_pi: the new owner's tid with FUTEX_WAITERS set.
    this.setWord(t, addr, (FUTEX_WAITERS | next.task.tid) >>> 0);
    this.wakeOne(next);
    return 0;
  }

  private word(t: Task, addr: bigint): number {
    return t.mm.read(addr, 4).readUInt32LE(0);
  }

  private setWord(t: Task, addr: bigint, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    t.mm.write(addr, b);
  }
}

/** futexes is the sandbox's futex table (keys are per object, so one table serves every kernel). */
export const futexes = new Futexes();

/**
 * wakeOpApply applies FUTEX_WAKE_OP's encoded operation to oldval: it returns the new
 * word and whether the comparison holds (ENOSYS for an unknown op or comparison).
 *
 *   val3 = [op:4 (bit 3: oparg is a shift)][cmp:4][oparg:12][cmparg:12]
 */
export function wakeOpApply(encoded: number, oldval: number): { newval: number; cond: boolean } {
  let op = (encoded >>> 28) & 0xf;
  const cmp = (encoded >>> 24) & 0xf;
  let oparg = (encoded << 8) >> 20;
  const cmparg = (encoded << 20) >> 20;
  if (op & 8) {
    op &= 7;
    oparg = 1 << (oparg & 31);
  }
  let newval: number;
  switch (op) {
    case 0: newval = oparg; break;
    case 1: newval = oldval + oparg; break;
    case 2: newval = oldval | oparg; break;
    case 3: newval = oldval & ~oparg; break;
    case 4: newval = oldval ^ oparg; break;
    default: return fail(Errno.ENOSYS);
  }
  const old = oldval | 0;
  let cond: boolean;
  switch (cmp) {
    case 0: cond = old === cmparg; break;
    case 1: cond = old !== cmparg; break;
    case 2: cond = old < cmparg; break;
    case 3: cond = old <= cmparg; break;
    case 4: cond = old > cmparg; break;
    case 5: cond = old >= cmparg; break;
    default: return fail(Errno.ENOSYS);
  }
  return { newval: newval >>> 0, cond };
}
