/**
 * POSIX message queues: mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify,
 * mq_getsetattr. The queues live in the task's IPC namespace (kernel/ipc/mqueue.ts);
 * a queue descriptor is an MqFile (fsimpl/mqueue). Sends and receives that wait follow
 * SA_RESTART (signal(7)); their timeouts are absolute on CLOCK_REALTIME.
 */
import { CAP_FOWNER } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { checkMqName, createMq, MQ_PRIO_MAX, PosixMq, unlinkMq, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, type MqWait } from '../../../kernel/ipc/mqueue';
import { ipcNamespaceOf } from '../../../kernel/ipc/namespace';
import type { Task } from '../../../kernel/task';
import { CLOCK_REALTIME, nowNs } from '../../../kernel/timekeeper';
import { Block } from '../../../kernel/waiter';
import { MqFile } from '../../../fsimpl/mqueue/mqueue';
import { O_ACCMODE, O_CLOEXEC, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_WRONLY } from '../../../vfs/file';
import { PATH_MAX } from '../../../vfs/path';
import { define } from '../registry';
import { readTimespecMs } from './poll';

/** MQ_ATTR_SIZE is sizeof(struct mq_attr): mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs (longs) and four reserved. */
const MQ_ATTR_SIZE = 64;
/** NSIG bounds signal numbers. */
const NSIG = 64;

/** mqFile returns descriptor fd's queue file (EBADF when it is not a queue). */
function mqFile(t: Task, fd: number): MqFile {
  const f = t.fds.get(fd);
  if (!(f instanceof MqFile)) fail(Errno.EBADF);
  return f;
}

/** absoluteDeadline reads an absolute CLOCK_REALTIME timespec as a Date.now deadline (undefined: none). */
function absoluteDeadline(t: Task, addr: bigint): number | undefined {
  const ms = readTimespecMs(t, addr);
  if (ms === null) return undefined;
  return Date.now() + (ms - Number(nowNs(CLOCK_REALTIME) / 1000000n));
}

/** mqWaitOf returns t's record when this run follows a sleep in the same call. */
function mqWaitOf(t: Task): MqWait | undefined {
  const w = t.syscallState as MqWait | undefined;
  return t.inSyscall && w && typeof w === 'object' && 'mq' in w && w.mq instanceof PosixMq ? w : undefined;
}

/** waitOn sleeps on mq (ETIMEDOUT once the deadline has passed). */
function waitOn(t: Task, mq: PosixMq, receiving: boolean, deadline: number | undefined): number | Block {
  if (deadline !== undefined && Date.now() >= deadline) return -Errno.ETIMEDOUT;
  t.syscallState = { mq, receiving, deadline } satisfies MqWait;
  if (receiving) mq.receivers.add(t);
  return new Block([mq.queue], deadline);
}

// mq_open(name, oflag, mode, attr)
define(240, (t, r) => {
  const name = t.mm.readString(r.arg(0), PATH_MAX - 1);
  const oflag = r.argInt(1), attrAddr = r.arg(3);
  const attr = attrAddr !== 0n && oflag & O_CREAT ? t.mm.read(attrAddr, MQ_ATTR_SIZE) : null;
  checkMqName(name);
  const acc = oflag & O_ACCMODE;
  if (acc === O_ACCMODE) fail(Errno.EINVAL);
  const ns = ipcNamespaceOf(t);
  let mq = ns.mqueues.get(name);
  if (mq) {
    if (oflag & O_CREAT && oflag & O_EXCL) fail(Errno.EEXIST);
    if (!mq.permits(t.creds, acc === O_RDONLY ? 4 : acc === O_WRONLY ? 2 : 6)) fail(Errno.EACCES);
  } else {
    if (!(oflag & O_CREAT)) fail(Errno.ENOENT);
    mq = createMq(ns, name, r.argInt(2) & ~t.fs.umask, t.creds, attr && { maxmsg: attr.readBigInt64LE(8), msgsize: attr.readBigInt64LE(16) });
  }
  return t.fds.add(new MqFile(mq, acc | (oflag & O_NONBLOCK)), (oflag & O_CLOEXEC) !== 0);
}, 'partial', 'RLIMIT_MSGQUEUE is not charged (the sandbox-wide IPC budget bounds the queues\' memory instead)');

// mq_unlink(name)
define(241, (t, r) => {
  const name = t.mm.readString(r.arg(0), PATH_MAX - 1);
  checkMqName(name);
  const ns = ipcNamespaceOf(t);
  const mq = ns.mqueues.get(name);
  if (!mq) fail(Errno.ENOENT);
  // The queues' directory is root's, mode 1777 (sticky): the queue's owner, the directory's (root) or CAP_FOWNER removes a queue.
  if (t.creds.euid !== mq.uid && t.creds.euid !== 0 && !t.creds.capable(CAP_FOWNER)) fail(Errno.EPERM);
  unlinkMq(ns, name);
  return 0;
}, 'full');

// mq_timedsend(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout)
define(242, (t, r) => {
  const prio = Number(r.arg(3) & 0xffffffffn);
  if (prio >= MQ_PRIO_MAX) fail(Errno.EINVAL);
  const resumed = mqWaitOf(t);
  const deadline = resumed ? resumed.deadline : absoluteDeadline(t, r.arg(4));
  const f = mqFile(t, r.argInt(0));
  if (!f.writable) fail(Errno.EBADF);
  const len = r.arg(2);
  if (len > BigInt(f.mq.msgsize)) fail(Errno.EMSGSIZE);
  const data = t.mm.read(r.arg(1), Number(len));
  if (f.mq.send(data, prio, t)) return 0;
  if (f.nonblocking) return -Errno.EAGAIN;
  return waitOn(t, f.mq, false, deadline);
}, 'full');

// mq_timedreceive(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout)
define(243, (t, r) => {
  const resumed = mqWaitOf(t);
  const deadline = resumed ? resumed.deadline : absoluteDeadline(t, r.arg(4));
  const f = mqFile(t, r.argInt(0));
  if (!f.readable) fail(Errno.EBADF);
  if (r.arg(2) < BigInt(f.mq.msgsize)) fail(Errno.EMSGSIZE);
  const m = f.mq.receive();
  if (!m) {
    if (f.nonblocking) return -Errno.EAGAIN;
    return waitOn(t, f.mq, true, deadline);
  }
  t.mm.write(r.arg(1), m.data);
  if (r.arg(3) !== 0n) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(m.prio);
    t.mm.write(r.arg(3), b);
  }
  return m.data.length;
}, 'full');

/*
 * mq_notify(mqdes, sevp)
 *   struct sigevent: sigev_value u64 @0, sigev_signo i32 @8, sigev_notify i32 @12, then
 *   (SIGEV_THREAD) the cookie's address @16.
 */
define(244, (t, r) => {
  const sev = r.arg(1) !== 0n ? t.mm.read(r.arg(1), 64) : null;
  const notify = sev ? sev.readInt32LE(12) : SIGEV_NONE, signo = sev ? sev.readInt32LE(8) : 0;
  if (sev) {
    if (notify !== SIGEV_NONE && notify !== SIGEV_SIGNAL && notify !== SIGEV_THREAD) fail(Errno.EINVAL);
    if (notify === SIGEV_SIGNAL && (signo < 1 || signo > NSIG)) fail(Errno.EINVAL);
    // glibc's SIGEV_THREAD passes a netlink socket here; the sandbox has no netlink.
    if (notify === SIGEV_THREAD) fail(t.fds.has(signo) ? Errno.ENOTSOCK : Errno.EBADF);
  }
  const mq = mqFile(t, r.argInt(0)).mq;
  const owner = mq.notification;
  // A registration whose process has gone is dropped (Linux drops it when the owner closes the queue).
  if (owner && owner.tg.tasks.size === 0) mq.notification = null;
  if (!sev) {
    if (mq.notification?.tg === t.tg) mq.notification = null;
    return 0;
  }
  if (mq.notification) fail(Errno.EBUSY);
  mq.notification = { tg: t.tg, notify, signo, value: sev.readBigUInt64LE(0) };
  return 0;
}, 'partial', 'SIGEV_THREAD needs a netlink socket (glibc fails with ENOSYS before calling); a registration is dropped when its process exits, not when it closes a descriptor of the queue');

// mq_getsetattr(mqdes, newattr, oldattr)
define(245, (t, r) => {
  const next = r.arg(1) !== 0n ? t.mm.read(r.arg(1), MQ_ATTR_SIZE).readBigInt64LE(0) : null;
  if (next !== null && next & ~BigInt(O_NONBLOCK)) fail(Errno.EINVAL);
  const f = mqFile(t, r.argInt(0));
  if (r.arg(2) !== 0n) {
    const b = Buffer.alloc(MQ_ATTR_SIZE);
    b.writeBigInt64LE(BigInt(f.flags & O_NONBLOCK), 0);
    b.writeBigInt64LE(BigInt(f.mq.maxmsg), 8);
    b.writeBigInt64LE(BigInt(f.mq.msgsize), 16);
    b.writeBigInt64LE(BigInt(f.mq.messages.length), 24);
    t.mm.write(r.arg(2), b);
  }
  if (next !== null) f.flags = (f.flags & ~O_NONBLOCK) | Number(next);
  return 0;
}, 'full');
