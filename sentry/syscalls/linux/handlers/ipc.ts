/**
 * System V IPC: shmget, shmat, shmdt, shmctl; semget, semop, semtimedop, semctl;
 * msgget, msgsnd, msgrcv, msgctl. The objects live in the task's IPC namespace
 * (kernel/ipc/); these handlers decode the arguments, check them in Linux's order and
 * sleep where Linux sleeps. semop, semtimedop, msgsnd and msgrcv are never restarted
 * after a signal, with or without SA_RESTART, and fail with EINTR even after a stop
 * (signal(7)): their Blocks say 'eintr'.
 */
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../../../platform';
import { PAGE, pageDown, pageUp } from '../../../mm/vma';
import { CAP_IPC_LOCK, CAP_SYS_RESOURCE } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { ipcNamespaceOf } from '../../../kernel/ipc/namespace';
import { MSG_COPY, MSG_EXCEPT, MSG_NOERROR, MsgQueue } from '../../../kernel/ipc/msg';
import { IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, MAY_READ, MAY_WRITE, nowSeconds, type IpcObject, type IpcRegistry } from '../../../kernel/ipc/perm';
import { SEMAEM, SemSet, SEMUSZ, SEMVMX, type SemOp, type SemWaiter } from '../../../kernel/ipc/sem';
import { checkShmSize, SHM_LOCKED, ShmSegment, SHMMIN } from '../../../kernel/ipc/shm';
import { checkVm } from '../../../kernel/rlimit-checks';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { define } from '../registry';
import { readTimespecMs } from './poll';

// --- shared by the three *ctl calls -------------------------------------------------

/** The *_STAT and *_INFO commands (shm.h, sem.h, msg.h). */
const SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
const GETPID = 11, GETVAL = 12, GETALL = 13, GETNCNT = 14, GETZCNT = 15, SETVAL = 16, SETALL = 17, SEM_STAT = 18, SEM_INFO = 19, SEM_STAT_ANY = 20;
const MSG_STAT = 11, MSG_INFO = 12, MSG_STAT_ANY = 13;

/**
 * statCommand answers IPC_STAT and the *_STAT(_ANY) commands, which name the object by
 * index and return its id: the object's *id64_ds, read access checked except for *_ANY.
 */
function statCommand<T extends IpcObject & { encode(): Buffer }>(t: Task, reg: IpcRegistry<T>, id: number, byIndex: boolean, any: boolean, buf: bigint): number {
  const o = byIndex ? reg.atIndex(id) : reg.get(id);
  if (!o) fail(Errno.EINVAL);
  if (!any) o.perm.check(t.creds, MAY_READ);
  t.mm.write(buf, o.encode());
  return byIndex ? o.perm.id : 0;
}

/** setCommand answers IPC_SET: the owner's ids and mode from the caller's *id64_ds. */
function setCommand(t: Task, o: IpcObject & { ctime: number }, buf: bigint, size: number): Buffer {
  const b = t.mm.read(buf, size);
  o.perm.checkOwner(t.creds);
  o.perm.set(b);
  o.ctime = nowSeconds();
  return b;
}

/** ulongs encodes unsigned longs (the shminfo64 and shm_info layouts). */
function ulongs(values: Array<number | bigint>, size: number): Buffer {
  const b = Buffer.alloc(size);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), i * 8));
  return b;
}

// --- shared memory ------------------------------------------------------------------

const SHM_HUGETLB = 0o4000, SHM_NORESERVE = 0o10000;
const SHM_RDONLY = 0o10000, SHM_RND = 0o20000, SHM_REMAP = 0o40000, SHM_EXEC = 0o100000;

// shmget(key, size, shmflg)
define(29, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const key = r.argInt(0), size = r.arg(1), flags = r.argInt(2);
  const seg = ns.shm.lookup(key, flags, t.creds, () => {
    checkShmSize(size, ns.limits.shmmax);
    const pages = (size + BigInt(PAGE - 1)) / BigInt(PAGE);
    if (BigInt(ns.shmPages()) + pages > ns.limits.shmall) fail(Errno.ENOSPC);
    // Huge pages are not reserved in the sandbox, as on a Linux with vm.nr_hugepages 0.
    if (flags & SHM_HUGETLB) fail(Errno.ENOMEM);
    // A segment is accounted as shared anonymous memory is, unless SHM_NORESERVE.
    if (size > BigInt(Number.MAX_SAFE_INTEGER - PAGE)) fail(Errno.ENOMEM);
    if (!(flags & SHM_NORESERVE)) t.mm.checkCommit(pageUp(Number(size)));
    return new ShmSegment(t.kernel.platform.memoryFile, Number(size), key, t.creds, flags, t.pid, (s) => ns.shm.remove(s));
  }, (s) => {
    if (BigInt(s.size) < size) fail(Errno.EINVAL);
  });
  return seg.perm.id;
}, 'partial', 'SHM_HUGETLB answers ENOMEM (no huge pages are reserved in the sandbox)');

/** shmAttach implements shmat(2) and returns the address. */
function shmAttach(t: Task, id: number, want: number, flags: number): number {
  let addr = want;
  // A given address is where the segment goes (MAP_FIXED), even once SHM_RND rounded it to 0.
  const fixed = addr !== 0;
  if (fixed) {
    if (addr % PAGE !== 0) {
      if (!(flags & SHM_RND)) fail(Errno.EINVAL);
      addr = pageDown(addr); // SHMLBA is a page on x86-64
      if (addr === 0 && flags & SHM_REMAP) fail(Errno.EINVAL);
    }
  } else if (flags & SHM_REMAP) fail(Errno.EINVAL);
  const seg = ipcNamespaceOf(t).shm.get(id);
  const rdonly = (flags & SHM_RDONLY) !== 0;
  seg.perm.check(t.creds, (rdonly ? MAY_READ : MAY_READ | MAY_WRITE) | (flags & SHM_EXEC ? 1 : 0));
  const size = pageUp(seg.size);
  const prot = PROT_READ | (rdonly ? 0 : PROT_WRITE) | (flags & SHM_EXEC ? PROT_EXEC : 0);
  const platform = t.kernel.platform;
  if (fixed) {
    if (addr + size < addr || addr < platform.minUserAddress || addr + size > platform.maxUserAddress) fail(Errno.EINVAL);
    if (!(flags & SHM_REMAP) && !t.mm.isFree(addr, size)) fail(Errno.EINVAL);
  } else {
    addr = t.mm.findFree(size);
  }
  checkVm(t, size - t.mm.mappedIn(addr, size), 0);
  t.mm.mapShared(addr, size, prot, seg, 0, seg.name);
  // Like Linux's VM_MAYWRITE: a read-only attachment never becomes writable.
  t.mm.findVma(addr)!.noWrite = rdonly;
  seg.atime = nowSeconds();
  seg.lpid = t.pid;
  return addr;
}

// shmat(shmid, shmaddr, shmflg)
define(30, (t, r) => shmAttach(t, r.argInt(0), Number(r.arg(1) > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(PAGE + 1) : r.arg(1)), r.argInt(2)), 'full');

// shmdt(shmaddr)
define(67, (t, r) => {
  const arg = r.arg(0);
  if (arg % BigInt(PAGE) !== 0n || arg > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.EINVAL);
  const addr = Number(arg);
  // Every VMA of the segment attached at addr (mprotect or munmap may have split it).
  const first = t.mm.vmas.find((v) => v.shared?.mem instanceof ShmSegment && v.start >= addr && v.start - v.shared.offset === addr);
  if (!first) fail(Errno.EINVAL);
  const seg = first.shared!.mem as ShmSegment;
  const end = addr + pageUp(seg.size);
  seg.dtime = nowSeconds();
  seg.lpid = t.pid;
  const pieces = t.mm.vmas.filter((v) => v.shared?.mem === seg && v.start < end && v.start - v.shared.offset === addr);
  for (const v of pieces) t.mm.unmap(v.start, v.end - v.start);
  return 0;
}, 'full');

// shmctl(shmid, cmd, buf)
define(31, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const id = r.argInt(0), cmd = r.argInt(1), buf = r.arg(2);
  if (cmd < 0 || id < 0) fail(Errno.EINVAL);
  switch (cmd) {
    case IPC_INFO: {
      // struct shminfo64: shmmax, shmmin, shmmni, shmseg, shmall, four unused longs.
      const l = ns.limits;
      t.mm.write(buf, ulongs([l.shmmax, SHMMIN, l.shmmni, l.shmmni, l.shmall], 72));
      return Math.max(0, ns.shm.maxIndex());
    }
    case SHM_INFO: {
      // struct shm_info: used_ids i32, then shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes.
      const segs = ns.shm.objects();
      const b = ulongs([0, ns.shmPages(), segs.reduce((n, s) => n + s.residentBytes / PAGE, 0), 0, 0, 0], 48);
      b.writeInt32LE(segs.length, 0);
      t.mm.write(buf, b);
      return Math.max(0, ns.shm.maxIndex());
    }
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY:
      return statCommand(t, ns.shm, id, cmd !== IPC_STAT, cmd === SHM_STAT_ANY, buf);
    case IPC_SET:
      setCommand(t, ns.shm.get(id), buf, 112);
      return 0;
    case IPC_RMID: {
      const seg = ns.shm.get(id);
      seg.perm.checkOwner(t.creds);
      seg.markRemoved();
      return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
      const seg = ns.shm.get(id);
      if (!t.creds.capable(CAP_IPC_LOCK) && t.creds.euid !== seg.perm.uid && t.creds.euid !== seg.perm.cuid) fail(Errno.EPERM);
      if (cmd === SHM_LOCK) seg.perm.mode |= SHM_LOCKED;
      else seg.perm.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      return fail(Errno.EINVAL);
  }
}, 'partial', 'SHM_LOCK marks the segment locked without charging RLIMIT_MEMLOCK (nothing is swapped in the sandbox)');

// --- semaphores ---------------------------------------------------------------------

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
      ns.sem.remove(set);
      set.changed(); // its waiters fail with EIDRM
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
      if (cmd === GETPID) return set.pids[num];
      return set.count(num, cmd === GETZCNT);
    }
    default:
      return fail(Errno.EINVAL);
  }
}, 'full');

// --- message queues -----------------------------------------------------------------

// msgget(key, msgflg)
define(68, (t, r) => {
  const ns = ipcNamespaceOf(t);
  return ns.msg.lookup(r.argInt(0), r.argInt(1), t.creds, () => new MsgQueue(r.argInt(0), t.creds, r.argInt(1), ns.limits.msgmnb)).perm.id;
}, 'full');

/** MsgWait is the record of a task sleeping in msgsnd or msgrcv. */
interface MsgWait {
  queue: MsgQueue;
}

/** msgWaitOf returns the queue t slept on when this run of msgsnd or msgrcv follows a sleep in it. */
function msgWaitOf(t: Task): MsgQueue | undefined {
  const w = t.syscallState as MsgWait | undefined;
  return t.inSyscall && w && typeof w === 'object' && 'queue' in w && w.queue instanceof MsgQueue ? w.queue : undefined;
}

/** msgQueueFor returns the queue of id, or EIDRM when the one t slept on was removed. */
function msgQueueFor(t: Task, id: number): MsgQueue | number {
  const slept = msgWaitOf(t);
  if (slept?.removed) return -Errno.EIDRM;
  return slept ?? ipcNamespaceOf(t).msg.get(id);
}

/** msgSleep sleeps on q (never restarted: 'eintr'). */
function msgSleep(t: Task, q: MsgQueue): Block {
  t.syscallState = { queue: q } satisfies MsgWait;
  return new Block([q.queue], undefined, 'eintr');
}

// msgsnd(msqid, msgp, msgsz, msgflg)
define(69, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const id = r.argInt(0), size = BigInt.asIntN(64, r.arg(2)), flags = r.argInt(3);
  if (size > BigInt(ns.limits.msgmax) || size < 0n || id < 0) fail(Errno.EINVAL);
  const n = Number(size);
  const type = t.mm.read(r.arg(1), 8).readBigInt64LE(0);
  if (type < 1n) fail(Errno.EINVAL);
  const text = t.mm.read(r.arg(1) + 8n, n);
  const q = msgQueueFor(t, id);
  if (typeof q === 'number') return q;
  q.perm.check(t.creds, MAY_WRITE);
  if (!q.fits(n)) {
    if (flags & IPC_NOWAIT) return -Errno.EAGAIN;
    return msgSleep(t, q);
  }
  q.push({ type, text }, t.pid);
  return 0;
}, 'full');

// msgrcv(msqid, msgp, msgsz, msgtyp, msgflg)
define(70, (t, r) => {
  const id = r.argInt(0), size = BigInt.asIntN(64, r.arg(2)), type = BigInt.asIntN(64, r.arg(3)), flags = r.argInt(4);
  if (id < 0 || size < 0n) fail(Errno.EINVAL);
  if (flags & MSG_COPY && (flags & MSG_EXCEPT || !(flags & IPC_NOWAIT))) fail(Errno.EINVAL);
  const q = msgQueueFor(t, id);
  if (typeof q === 'number') return q;
  q.perm.check(t.creds, MAY_READ);
  // MSG_COPY takes a copy of the message at index msgtyp, leaving it queued (CRIU's).
  const i = flags & MSG_COPY ? (type >= 0n && type < BigInt(q.messages.length) ? Number(type) : -1) : q.find(type, flags);
  if (i < 0) {
    if (flags & IPC_NOWAIT) return -Errno.ENOMSG;
    return msgSleep(t, q);
  }
  const max = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
  if (q.messages[i].text.length > max && !(flags & MSG_NOERROR)) fail(Errno.E2BIG);
  const m = flags & MSG_COPY ? q.messages[i] : q.take(i, t.pid);
  const n = Math.min(m.text.length, max);
  const out = Buffer.alloc(8 + n);
  out.writeBigInt64LE(m.type, 0);
  m.text.copy(out, 8, 0, n);
  t.mm.write(r.arg(1), out);
  return n;
}, 'full');

// msgctl(msqid, cmd, buf)
define(71, (t, r) => {
  const ns = ipcNamespaceOf(t);
  const id = r.argInt(0), cmd = r.argInt(1), buf = r.arg(2);
  if (cmd < 0 || id < 0) fail(Errno.EINVAL);
  switch (cmd) {
    case IPC_INFO:
    case MSG_INFO: {
      // struct msginfo: msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql (ints), msgseg (u16).
      const l = ns.limits, qs = ns.msg.objects(), info = cmd === MSG_INFO;
      const b = Buffer.alloc(32);
      const pool = info ? qs.length : Math.floor((l.msgmni * l.msgmnb) / 1024);
      const map = info ? qs.reduce((n, q) => n + q.messages.length, 0) : l.msgmnb;
      const tql = info ? qs.reduce((n, q) => n + q.cbytes, 0) : l.msgmnb;
      [pool, map, l.msgmax, l.msgmnb, l.msgmni, 16, tql].forEach((v, i) => b.writeInt32LE(v, i * 4));
      b.writeUInt16LE(0xffff, 28);
      t.mm.write(buf, b);
      return Math.max(0, ns.msg.maxIndex());
    }
    case IPC_STAT:
    case MSG_STAT:
    case MSG_STAT_ANY:
      return statCommand(t, ns.msg, id, cmd !== IPC_STAT, cmd === MSG_STAT_ANY, buf);
    case IPC_SET: {
      const q = ns.msg.get(id);
      const qbytes = t.mm.read(buf, 120).readBigUInt64LE(88);
      if (qbytes > BigInt(ns.limits.msgmnb) && !t.creds.capable(CAP_SYS_RESOURCE)) {
        q.perm.checkOwner(t.creds);
        fail(Errno.EPERM);
      }
      setCommand(t, q, buf, 120);
      q.qbytes = Number(qbytes > 0x7fffffffn ? 0x7fffffffn : qbytes);
      q.queue.notify(); // senders may fit now
      return 0;
    }
    case IPC_RMID: {
      const q = ns.msg.get(id);
      q.perm.checkOwner(t.creds);
      ns.msg.remove(q);
      q.queue.notify(); // its waiters fail with EIDRM
      return 0;
    }
    default:
      return fail(Errno.EINVAL);
  }
}, 'full');
