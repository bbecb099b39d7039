/**
 * System V message queues (msgget, msgsnd, msgrcv, msgctl): a MsgQueue holds typed
 * messages in arrival order, bounded by msg_qbytes (MSGMNB by default) in bytes and in
 * messages, as Linux bounds them. Senders waiting for room and receivers waiting for a
 * message sleep on the queue's wait queue and try again when it changes.
 */
import type { Credentials } from '../credentials';
import { WaitQueue } from '../waiter';
import { chargeIpc, OBJECT_BYTES, unchargeIpc } from './budget';
import { IpcPerm, nowSeconds, type IpcObject } from './perm';

/** Linux's default limits: MSGMAX bytes per message, MSGMNB bytes per queue, MSGMNI queues. */
export const MSGMAX = 8192, MSGMNB = 16384, MSGMNI = 32000;
/** msgrcv's flags. */
export const MSG_NOERROR = 0o10000, MSG_EXCEPT = 0o20000, MSG_COPY = 0o40000;

/** Message is one message: its type and text. */
export interface Message {
  type: bigint;
  text: Buffer;
}

/** MsgQueue is one message queue. */
export class MsgQueue implements IpcObject {
  readonly perm: IpcPerm;
  removed = false;
  readonly messages: Message[] = [];
  /** cbytes is the sum of the texts' lengths. */
  cbytes = 0;
  qbytes: number;
  stime = 0;
  rtime = 0;
  ctime = nowSeconds();
  lspid = 0;
  lrpid = 0;
  /** queue is notified when a message comes or goes, when the limit changes and on removal. */
  readonly queue = new WaitQueue();

  constructor(key: number, creds: Credentials, flags: number, mnb: number) {
    chargeIpc(OBJECT_BYTES);
    this.perm = new IpcPerm(key, creds, flags);
    this.qbytes = mnb;
  }

  /** fits tells whether a message of n bytes may be queued now (room in bytes and in messages). */
  fits(n: number): boolean {
    return this.cbytes + n <= this.qbytes && this.messages.length + 1 <= this.qbytes;
  }

  /** push queues a message sent by pid (ENOMEM past the sandbox's IPC budget). */
  push(m: Message, pid: number): void {
    chargeIpc(OBJECT_BYTES + m.text.length);
    this.messages.push(m);
    this.cbytes += m.text.length;
    this.lspid = pid;
    this.stime = nowSeconds();
    this.queue.notify();
  }

  /**
   * find returns the index of the message msgrcv takes for `type` (0: the first; > 0:
   * the first of that type, or of another with MSG_EXCEPT; < 0: the first of the lowest
   * type at most -type), or -1.
   */
  find(type: bigint, flags: number): number {
    if (type === 0n) return this.messages.length > 0 ? 0 : -1;
    if (type > 0n) return this.messages.findIndex((m) => (flags & MSG_EXCEPT ? m.type !== type : m.type === type));
    let best = -1;
    for (let i = 0; i < this.messages.length; i++) {
      const m = this.messages[i];
      if (m.type <= -type && (best < 0 || m.type < this.messages[best].type)) best = i;
    }
    return best;
  }

  /** take removes message i, received by pid. */
  take(i: number, pid: number): Message {
    const [m] = this.messages.splice(i, 1);
    this.cbytes -= m.text.length;
    unchargeIpc(OBJECT_BYTES + m.text.length);
    this.lrpid = pid;
    this.rtime = nowSeconds();
    this.queue.notify();
    return m;
  }

  /** dropped gives the queue's messages and itself back to the IPC budget and wakes its waiters (they fail with EIDRM). */
  dropped(): void {
    unchargeIpc(OBJECT_BYTES * (1 + this.messages.length) + this.cbytes);
    this.queue.notify();
  }

  /*
   * struct msqid64_ds (120 bytes): ipc64_perm @0, msg_stime @48, msg_rtime @56,
   * msg_ctime @64 (i64), msg_cbytes @72, msg_qnum @80, msg_qbytes @88 (u64),
   * msg_lspid i32 @96, msg_lrpid i32 @100, two unused longs.
   */
  /** encode returns the queue's struct msqid64_ds (IPC_STAT, MSG_STAT). */
  encode(pid: (id: number) => number = (id) => id): Buffer {
    const b = Buffer.alloc(120);
    this.perm.encode(b);
    b.writeBigInt64LE(BigInt(this.stime), 48);
    b.writeBigInt64LE(BigInt(this.rtime), 56);
    b.writeBigInt64LE(BigInt(this.ctime), 64);
    b.writeBigUInt64LE(BigInt(this.cbytes), 72);
    b.writeBigUInt64LE(BigInt(this.messages.length), 80);
    b.writeBigUInt64LE(BigInt(this.qbytes), 88);
    b.writeInt32LE(pid(this.lspid), 96);
    b.writeInt32LE(pid(this.lrpid), 100);
    return b;
  }
}
