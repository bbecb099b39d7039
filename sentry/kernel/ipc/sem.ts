/**
 * System V semaphores (semget, semop, semtimedop, semctl): a SemSet is an array of
 * semaphores with their last operator's pid, and the tasks waiting on it. semop applies
 * all of its operations or none (Linux's perform_atomic_semop); a task that cannot
 * proceed sleeps on the set's queue and tries again when anything changes the set
 * (records of who waits, for GETNCNT and GETZCNT, are data: SemWaiter).
 *
 * SEM_UNDO: each thread group keeps, per set, the adjustment that undoes its operations
 * (semadj); the group's exit applies it (exitSemUndo), clamped to [0, SEMVMX] as Linux
 * does. SETVAL and SETALL clear the adjustments of the semaphores they set in every
 * process; removal drops the set's.
 */
import type { Credentials } from '../credentials';
import { Errno, fail } from '../errors';
import type { Task } from '../task';
import type { ThreadGroup } from '../thread-group';
import { WaitQueue } from '../waiter';
import { chargeIpc, OBJECT_BYTES, unchargeIpc } from './budget';
import { IpcPerm, nowSeconds, type IpcObject } from './perm';

/** Linux's default limits (/proc/sys/kernel/sem: SEMMSL SEMMNS SEMOPM SEMMNI). */
export const SEMMSL = 32000, SEMMNS = 1024000000, SEMOPM = 500, SEMMNI = 32000, SEMVMX = 32767, SEMAEM = SEMVMX, SEMUSZ = 20;
/** SEM_UNDO asks for the operation to be undone at exit (sem_flg). */
export const SEM_UNDO = 0x1000;

/** SemOp is one struct sembuf. */
export interface SemOp {
  num: number;
  op: number;
  flg: number;
}

/** SemWaiter is a task sleeping in semop on a set: which semaphore blocked it and how (GETNCNT, GETZCNT). */
export interface SemWaiter {
  task: Task;
  set: SemSet;
  /** num is the semaphore whose operation could not proceed; zero tells a wait-for-zero. */
  num: number;
  zero: boolean;
  /** deadline is semtimedop's (ms, Date.now clock). */
  deadline?: number;
}

/** SemSet is one semaphore set. */
export class SemSet implements IpcObject {
  readonly perm: IpcPerm;
  removed = false;
  readonly values: Int32Array;
  readonly pids: Int32Array;
  otime = 0;
  ctime = nowSeconds();
  /** queue is notified on every change of the set and on its removal. */
  readonly queue = new WaitQueue();
  /** waiters are the tasks sleeping in semop on the set (stale records are skipped: see live()). */
  readonly waiters = new Set<SemWaiter>();
  /** undo holds each thread group's semadj values for this set. */
  readonly undo = new Map<ThreadGroup, Int32Array>();

  constructor(key: number, creds: Credentials, flags: number, readonly nsems: number) {
    chargeIpc(this.heapBytes);
    this.perm = new IpcPerm(key, creds, flags);
    this.values = new Int32Array(nsems);
    this.pids = new Int32Array(nsems);
  }

  /** heapBytes is what the set is counted in the IPC budget (its two arrays and itself). */
  get heapBytes(): number {
    return OBJECT_BYTES + 8 * this.nsems;
  }

  /** dropped gives the set back to the IPC budget and wakes its waiters (they fail with EIDRM). */
  dropped(): void {
    unchargeIpc(this.heapBytes);
    this.changed();
  }

  /** live returns the waiters whose task still sleeps in semop for this record. */
  live(): SemWaiter[] {
    const out: SemWaiter[] = [];
    for (const w of this.waiters) {
      if (w.task.state !== 'exited' && w.task.inSyscall && w.task.syscallState === w) out.push(w);
      else this.waiters.delete(w);
    }
    return out;
  }

  /** count is GETNCNT (zero false) or GETZCNT (zero true) of semaphore num. */
  count(num: number, zero: boolean): number {
    return this.live().filter((w) => w.num === num && w.zero === zero).length;
  }

  /**
   * apply is perform_atomic_semop: every operation or none. It returns null when done,
   * or the operation that must wait; ERANGE when a value or an adjustment would leave its
   * bounds. The operations' pids and the group's semadj are updated on success.
   */
  apply(ops: SemOp[], tg: ThreadGroup, pid: number): SemOp | null {
    const vals = Int32Array.from(this.values);
    const adj = Int32Array.from(this.undo.get(tg) ?? new Int32Array(this.nsems));
    let undo = false;
    for (const o of ops) {
      const v = vals[o.num];
      if (o.op === 0) {
        if (v !== 0) return o;
        continue;
      }
      const nv = v + o.op;
      if (nv < 0) return o;
      if (nv > SEMVMX) fail(Errno.ERANGE);
      if (o.flg & SEM_UNDO) {
        const na = adj[o.num] - o.op;
        if (na < -SEMAEM - 1 || na > SEMAEM) fail(Errno.ERANGE);
        adj[o.num] = na;
        undo = true;
      }
      vals[o.num] = nv;
    }
    this.values.set(vals);
    for (const o of ops) this.pids[o.num] = pid;
    if (undo) {
      this.undo.set(tg, adj);
      undoSets(tg).add(this);
    }
    this.otime = nowSeconds();
    return null;
  }

  /** setValue is SETVAL (and each of SETALL): the value, the caller as last operator, every process's semadj cleared. */
  setValue(num: number, v: number, pid: number): void {
    this.values[num] = v;
    this.pids[num] = pid;
    for (const adj of this.undo.values()) adj[num] = 0;
  }

  /** changed wakes the set's waiters (they try their operations again). */
  changed(): void {
    this.queue.notify();
  }

  /*
   * struct semid64_ds (104 bytes): ipc64_perm @0, sem_otime i64 @48, unused @56,
   * sem_ctime i64 @64, unused @72, sem_nsems u64 @80, two unused longs.
   */
  /** encode returns the set's struct semid64_ds (IPC_STAT, SEM_STAT). */
  encode(): Buffer {
    const b = Buffer.alloc(104);
    this.perm.encode(b);
    b.writeBigInt64LE(BigInt(this.otime), 48);
    b.writeBigInt64LE(BigInt(this.ctime), 64);
    b.writeBigUInt64LE(BigInt(this.nsems), 80);
    return b;
  }
}

const groupSets = new WeakMap<ThreadGroup, Set<SemSet>>();

/** undoSets returns the sets where tg holds semadj values. */
function undoSets(tg: ThreadGroup): Set<SemSet> {
  let s = groupSets.get(tg);
  if (!s) groupSets.set(tg, (s = new Set()));
  return s;
}

/**
 * exitSemUndo applies tg's semadj values as it exits (Linux's exit_sem): each
 * semaphore moves by its adjustment, clamped to [0, SEMVMX], with the exiting pid as its
 * last operator; waiters are woken.
 */
export function exitSemUndo(tg: ThreadGroup): void {
  const sets = groupSets.get(tg);
  if (!sets) return;
  groupSets.delete(tg);
  for (const set of sets) {
    const adj = set.undo.get(tg);
    set.undo.delete(tg);
    if (!adj || set.removed) continue;
    let any = false;
    for (let i = 0; i < set.nsems; i++) {
      if (adj[i] === 0) continue;
      set.values[i] = Math.min(SEMVMX, Math.max(0, set.values[i] + adj[i]));
      set.pids[i] = tg.tgid;
      any = true;
    }
    if (any) {
      set.otime = nowSeconds();
      set.changed();
    }
  }
}
