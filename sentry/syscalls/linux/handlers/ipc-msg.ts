/**
 * System V message queues: msgget, msgsnd, msgrcv, msgctl (kernel/ipc/msg.ts). msgsnd
 * and msgrcv are never restarted after a signal, with or without SA_RESTART, and fail
 * with EINTR even after a stop (signal(7)): their Blocks say 'eintr'.
 */
import { CAP_SYS_RESOURCE } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { ipcNamespaceOf } from '../../../kernel/ipc/namespace';
import { MSG_COPY, MSG_EXCEPT, MSG_NOERROR, MsgQueue } from '../../../kernel/ipc/msg';
import { IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, MAY_READ, MAY_WRITE } from '../../../kernel/ipc/perm';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { define } from '../registry';
import { setCommand, statCommand } from './ipc';

/** msgctl's own commands (msg.h). */
const MSG_STAT = 11, MSG_INFO = 12, MSG_STAT_ANY = 13;
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
      ns.msg.remove(q); // its waiters fail with EIDRM
      return 0;
    }
    default:
      return fail(Errno.EINVAL);
  }
}, 'full');
