/**
 * System V semaphores: semget, semop, semtimedop, semctl (kernel/ipc/sem.ts). semop and
 * semtimedop are never restarted after a signal, with or without SA_RESTART, and fail
 * with EINTR even after a stop (signal(7)): their Blocks say 'eintr'.
 */
import { seenBy } from '../../../kernel/pid-namespace';
import { Errno, fail } from '../../../kernel/errors';
import { ipcNamespaceOf } from '../../../kernel/ipc/namespace';
import { IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, MAY_READ, MAY_WRITE, nowSeconds } from '../../../kernel/ipc/perm';
import { SEMAEM, SemSet, SEMUSZ, SEMVMX, type SemOp, type SemWaiter } from '../../../kernel/ipc/sem';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { define } from '../registry';
import { setCommand, statCommand } from './ipc';
import { readTimespecMs } from './poll';

/** semctl's own commands (sem.h). */
const GETPID = 11, GETVAL = 12, GETALL = 13, GETNCNT = 14, GETZCNT = 15, SETVAL = 16, SETALL = 17, SEM_STAT = 18, SEM_INFO = 19, SEM_STAT_ANY = 20;
// semget(key, nsems, semflg)
define(64, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const key = r.argInt(0), nsems = r.argInt(1), flags = r.argInt(2);
  if (nsems < 0 || nsems > ns.limits.semmsl) fail(Errno.EINVAL);
  const set = ns.sem.lookup(key, flags, t.creds, () => {
    if (nsems === 0) fail(Errno.EINVAL);
    if (ns.semCount() + nsems > ns.limits.semmns) fail(Errno.ENOSPC);
    return new SemSet(key, t.creds, flags, nsems);
  }, (s) => {
    if (nsems > s.nsems) fail(Errno.EINVAL);
  });
  return set.perm.id;
}, 'full');

/** semWaiterOf returns the record of t's semop when this run follows a sleep in it. */
function semWaiterOf(t: Task): SemWaiter | undefined {
  const w = t.syscallState as SemWaiter | undefined;
  return t.inSyscall && w && typeof w === 'object' && 'set' in w && w.set instanceof SemSet ? w : undefined;
}

/**
 * doSemop implements semop and semtimedop (timeout: the relative timespec's address, or
 * 0n): the operations all at once, or a sleep until the set changes (EAGAIN with
 * IPC_NOWAIT on the operation that would wait, or once the timeout has passed; EIDRM
 * when the set is removed meanwhile).
 */
function doSemop(t: Task, id: number, sopsAddr: bigint, nsops: number, timeout: bigint): number | Block {
  const ns = ipcNamespaceOf(t);
  const resumed = semWaiterOf(t);
  if (nsops < 1 || id < 0) fail(Errno.EINVAL);
  if (nsops > ns.limits.semopm) fail(Errno.E2BIG);
  const raw = t.mm.read(sopsAddr, 6 * nsops);
  const ops: SemOp[] = [];
  for (let i = 0; i < nsops; i++) ops.push({ num: raw.readUInt16LE(6 * i), op: raw.readInt16LE(6 * i + 2), flg: raw.readInt16LE(6 * i + 4) });
  let deadline = resumed?.deadline;
  if (!resumed && timeout !== 0n) deadline = Date.now() + readTimespecMs(t, timeout)!;
  let set: SemSet;
  if (resumed) {
    set = resumed.set;
    if (set.removed) return -Errno.EIDRM;
  } else set = ns.sem.get(id);
  if (ops.some((o) => o.num >= set.nsems)) fail(Errno.EFBIG);
  set.perm.check(t.creds, ops.some((o) => o.op !== 0) ? MAY_WRITE : MAY_READ);
  const blocking = set.apply(ops, t.tg, t.pid);
  if (!blocking) {
    set.changed();
    return 0;
  }
  if (blocking.flg & IPC_NOWAIT) return -Errno.EAGAIN;
  if (deadline !== undefined && Date.now() >= deadline) return -Errno.EAGAIN;
  const w: SemWaiter = resumed ?? { task: t, set, num: 0, zero: false, deadline };
  w.num = blocking.num;
  w.zero = blocking.op === 0;
  set.waiters.add(w);
  t.syscallState = w;
  return new Block([set.queue], deadline, 'eintr');
}

// semop(semid, sops, nsops)
define(65, (t, r) => doSemop(t, r.argInt(0), r.arg(1), Number(r.arg(2) > 0xffffffffn ? 0xffffffffn : r.arg(2)), 0n), 'full');

// semtimedop(semid, sops, nsops, timeout)
define(220, (t, r) => doSemop(t, r.argInt(0), r.arg(1), Number(r.arg(2) > 0xffffffffn ? 0xffffffffn : r.arg(2)), r.arg(3)), 'full');

// semctl(semid, semnum, cmd, arg)
define(66, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const id = r.argInt(0), num = r.argInt(1), cmd = r.argInt(2), arg = r.arg(3);
  if (id < 0) fail(Errno.EINVAL);
  switch (cmd) {
    case IPC_INFO:
    case SEM_INFO: {
      // struct seminfo: semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem (ints).
      const l = ns.limits, info = cmd === SEM_INFO;
      const b = Buffer.alloc(40);
      [l.semmns, l.semmni, l.semmns, l.semmns, l.semmsl, l.semopm, l.semopm, info ? ns.sem.size : SEMUSZ, SEMVMX, info ? ns.semCount() : SEMAEM]
        .forEach((v, i) => b.writeInt32LE(Math.min(v, 0x7fffffff), i * 4));
      t.mm.write(arg, b);
      return Math.max(0, ns.sem.maxIndex());
    }
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY:
      return statCommand(t, ns.sem, id, cmd !== IPC_STAT, cmd === SEM_STAT_ANY, arg);
    case IPC_SET:
      setCommand(t, ns.sem.get(id), arg, 104);
      return 0;
    case IPC_RMID: {
      const set = ns.sem.get(id);
      set.perm.checkOwner(t.creds);
      ns.sem.remove(set); // its waiters fail with EIDRM
      return 0;
    }
    case SETVAL: {
      const val = Number(BigInt.asIntN(32, arg));
      if (val < 0 || val > SEMVMX) fail(Errno.ERANGE);
      const set = ns.sem.get(id);
      if (num < 0 || num >= set.nsems) fail(Errno.EINVAL);
      set.perm.check(t.creds, MAY_WRITE);
      set.setValue(num, val, t.pid);
      set.ctime = nowSeconds();
      set.changed();
      return 0;
    }
    case GETALL: {
      const set = ns.sem.get(id);
      set.perm.check(t.creds, MAY_READ);
      const b = Buffer.alloc(2 * set.nsems);
      set.values.forEach((v, i) => b.writeUInt16LE(v, 2 * i));
      t.mm.write(arg, b);
      return 0;
    }
    case SETALL: {
      const set = ns.sem.get(id);
      set.perm.check(t.creds, MAY_WRITE);
      const b = t.mm.read(arg, 2 * set.nsems);
      const vals = Array.from({ length: set.nsems }, (_, i) => b.readUInt16LE(2 * i));
      if (vals.some((v) => v > SEMVMX)) fail(Errno.ERANGE);
      vals.forEach((v, i) => set.setValue(i, v, t.pid));
      set.ctime = nowSeconds();
      set.changed();
      return 0;
    }
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT: {
      const set = ns.sem.get(id);
      set.perm.check(t.creds, MAY_READ);
      if (num < 0 || num >= set.nsems) fail(Errno.EINVAL);
      if (cmd === GETVAL) return set.values[num];
      if (cmd === GETPID) return seenBy(t, set.pids[num]);
      return set.count(num, cmd === GETZCNT);
    }
    default:
      return fail(Errno.EINVAL);
  }
}, 'full');
