/**
 * POSIX message queues (mq_overview(7)): a PosixMq is a named queue of an IPC namespace
 * holding at most mq_maxmsg messages of at most mq_msgsize bytes, received highest
 * priority first and in arrival order within a priority; one process may ask to be told
 * (mq_notify) when a message arrives in the empty queue while nobody waits to receive.
 * A queue descriptor is a file (fsimpl/mqueue's MqFile). A queue lives while it has a
 * name (in its namespace's `mqueues`) or an open descriptor.
 */
import { CAP_DAC_OVERRIDE, CAP_SYS_RESOURCE } from '../capabilities';
import type { Credentials } from '../credentials';
import { Errno, fail } from '../errors';
import type { Task } from '../task';
import type { IpcNamespace } from './namespace';
import type { ThreadGroup } from '../thread-group';
import { WaitQueue } from '../waiter';
import { chargeIpc, OBJECT_BYTES, unchargeIpc } from './budget';
import { sendToGroup } from '../signals';
import { SI_MESGQ } from '../../arch/siginfo';

/** The defaults of /proc/sys/fs/mqueue and Linux's hard limits (CAP_SYS_RESOURCE may go up to these). */
export const MQ_QUEUES_MAX = 256, MQ_MSG_MAX = 10, MQ_MSGSIZE_MAX = 8192, MQ_MSG_DEFAULT = 10, MQ_MSGSIZE_DEFAULT = 8192,
  HARD_MSGMAX = 65536, HARD_MSGSIZEMAX = 16 * 1024 * 1024, HARD_QUEUESMAX = 1024;
/** MQ_PRIO_MAX bounds priorities (they are below it). */
export const MQ_PRIO_MAX = 32768;
/** sigev_notify values. */
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2;

/** MqMessage is one message. */
interface MqMessage {
  prio: number;
  data: Buffer;
}

/** MqNotify is a registered notification: the process and what it asked for. */
interface MqNotify {
  tg: ThreadGroup;
  notify: number;
  signo: number;
  value: bigint;
}

/** MqWait is the record (Task.syscallState) of a task sleeping in mq_timedsend or mq_timedreceive. */
export interface MqWait {
  mq: PosixMq;
  receiving: boolean;
  /** deadline is the absolute timeout's (ms, Date.now clock). */
  deadline?: number;
}

/** PosixMq is one queue. */
export class PosixMq {
  readonly messages: MqMessage[] = [];
  /** qsize is the bytes of all messages (the status line's QSIZE). */
  qsize = 0;
  /** queue is notified when a message comes or goes (senders and receivers, poll). */
  readonly queue = new WaitQueue();
  notification: MqNotify | null = null;
  uid: number;
  gid: number;

  /** linked is set while the queue has its name; opens counts its open descriptors. */
  linked = true;
  opens = 0;

  constructor(readonly name: string, readonly maxmsg: number, readonly msgsize: number, public mode: number, creds: Credentials) {
    chargeIpc(OBJECT_BYTES);
    this.uid = creds.euid;
    this.gid = creds.egid;
  }

  /** permits checks access (4 read, 2 write) as for a file of this mode and owner (CAP_DAC_OVERRIDE passes). */
  permits(creds: Credentials, want: number): boolean {
    let granted = this.mode;
    if (creds.euid === this.uid) granted >>= 6;
    else if (creds.inGroup(this.gid)) granted >>= 3;
    return (want & ~granted & 7) === 0 || creds.capable(CAP_DAC_OVERRIDE);
  }

  /** send queues data with prio, or tells the caller to wait (false) when full. */
  send(data: Buffer, prio: number, sender: Task): boolean {
    if (this.messages.length >= this.maxmsg) return false;
    chargeIpc(OBJECT_BYTES + data.length);
    // After the last message of a higher or equal priority.
    let i = this.messages.length;
    while (i > 0 && this.messages[i - 1].prio < prio) i--;
    this.messages.splice(i, 0, { prio, data });
    this.qsize += data.length;
    if (this.messages.length === 1) this.notifyOwner(sender);
    this.queue.notify();
    return true;
  }

  /** receive takes the first message, or returns null when empty. */
  receive(): MqMessage | null {
    const m = this.messages.shift();
    if (!m) return null;
    this.qsize -= m.data.length;
    unchargeIpc(OBJECT_BYTES + m.data.length);
    this.queue.notify();
    return m;
  }

  /**
   * notifyOwner tells the registered process that a message arrived in the empty queue
   * (unless someone waits to receive it) and drops the registration, as Linux does.
   */
  private notifyOwner(sender: Task): void {
    const n = this.notification;
    if (!n || this.liveReceivers() > 0) return;
    this.notification = null;
    if (n.notify === SIGEV_SIGNAL && n.tg.tasks.size > 0) {
      sendToGroup(n.tg, { signo: n.signo, code: SI_MESGQ, pid: sender.pid, uid: sender.creds.uid, value: n.value });
    }
  }

  /** receivers holds the tasks that slept in mq_timedreceive on this queue (stale ones are dropped by liveReceivers). */
  readonly receivers = new Set<Task>();

  private liveReceivers(): number {
    let n = 0;
    for (const t of this.receivers) {
      const w = t.syscallState as MqWait | undefined;
      if (t.state !== 'exited' && t.inSyscall && w?.mq === this && w.receiving) n++;
      else this.receivers.delete(t);
    }
    return n;
  }

  /** unlinked drops the queue's name (mq_unlink); closed one descriptor (its last reference). */
  unlinked(): void {
    this.linked = false;
    this.releaseIfUnused();
  }

  closed(): void {
    this.opens--;
    this.releaseIfUnused();
  }

  /** releaseIfUnused gives the queue back to the IPC budget once it has neither a name nor a descriptor. */
  private releaseIfUnused(): void {
    if (this.linked || this.opens > 0) return;
    unchargeIpc(OBJECT_BYTES * (1 + this.messages.length) + this.qsize);
    this.messages.length = 0;
    this.qsize = 0;
  }

  /** status is the line read() returns (QSIZE, NOTIFY, SIGNO, NOTIFY_PID). */
  status(): string {
    const n = this.notification;
    const notify = n ? n.notify : 0, signo = n && n.notify === SIGEV_SIGNAL ? n.signo : 0, pid = n ? n.tg.tgid : 0;
    return `QSIZE:${String(this.qsize).padEnd(10)} NOTIFY:${String(notify).padEnd(5)} SIGNO:${String(signo).padEnd(5)} NOTIFY_PID:${String(pid).padEnd(6)}\n`;
  }
}

/** MqCreate asks for a queue's limits (mq_open's attr), checked by createMq. */
export interface MqCreate {
  maxmsg: bigint;
  msgsize: bigint;
}

/**
 * createMq makes queue `name` in ns with `mode` (the umask applied) for creds: attr's
 * limits (EINVAL outside (0, the namespace's maximum], or the hard maximum with
 * CAP_SYS_RESOURCE) or the namespace's defaults; ENOSPC past queues_max.
 */
export function createMq(ns: IpcNamespace, name: string, mode: number, creds: Credentials, attr: MqCreate | null): PosixMq {
  const l = ns.limits, privileged = creds.capable(CAP_SYS_RESOURCE);
  let maxmsg = Math.min(l.mqMsgDefault, l.mqMsgMax), msgsize = Math.min(l.mqMsgsizeDefault, l.mqMsgsizeMax);
  if (attr) {
    if (attr.maxmsg <= 0n || attr.msgsize <= 0n) fail(Errno.EINVAL);
    if (attr.maxmsg > BigInt(privileged ? HARD_MSGMAX : l.mqMsgMax) || attr.msgsize > BigInt(privileged ? HARD_MSGSIZEMAX : l.mqMsgsizeMax)) fail(Errno.EINVAL);
    maxmsg = Number(attr.maxmsg);
    msgsize = Number(attr.msgsize);
  }
  if (ns.mqueues.size >= l.mqQueuesMax && !privileged) fail(Errno.ENOSPC);
  const mq = new PosixMq(name, maxmsg, msgsize, mode & 0o777, creds);
  ns.mqueues.set(name, mq);
  return mq;
}

/** unlinkMq removes queue `name` from ns (ENOENT); open descriptors keep it. */
export function unlinkMq(ns: IpcNamespace, name: string): void {
  const mq = ns.mqueues.get(name);
  if (!mq) fail(Errno.ENOENT);
  ns.mqueues.delete(name);
  mq.unlinked();
}

/** checkMqName checks a queue name as the kernel receives it (glibc strips the leading '/'). */
export function checkMqName(name: string): void {
  if (name.length === 0) fail(Errno.ENOENT);
  if (Buffer.byteLength(name) > 255) fail(Errno.ENAMETOOLONG);
  if (name.includes('/')) fail(Errno.EACCES);
  if (name === '.' || name === '..') fail(Errno.EINVAL);
}
