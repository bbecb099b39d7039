/**
 * mqueue: the file behind a POSIX message queue descriptor (mq_open). poll and epoll see
 * it readable when its queue holds a message and writable when the queue has room; its
 * read() returns the queue's status line (QSIZE, NOTIFY, SIGNO, NOTIFY_PID) as Linux's
 * mqueue files do. The queue itself is kernel/ipc/mqueue.ts's PosixMq.
 */
import type { PosixMq } from '../../kernel/ipc/mqueue';
import type { Task } from '../../kernel/task';
import type { Block, WaitQueue } from '../../kernel/waiter';
import { FileDescription, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../vfs/file';
import { Errno, fail } from '../../kernel/errors';
import { nowTimespec, S_IFREG, type SetAttr, type Stat, type Timespec } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';

/** STATUS_SIZE is the size an mqueue file reports (Linux's FILENT_SIZE). */
const STATUS_SIZE = 80;
/** MQUEUE_DEV is the device number stat shows for queue files (an anonymous one). */
export const MQUEUE_DEV = 0x14;

/** MqTimes are a queue's inode number and times (kept here: the kernel object has none). */
interface MqTimes {
  ino: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

const inodes = new WeakMap<PosixMq, MqTimes>();
let nextIno = 2; // 1 is the file system's root

/** mqIno returns the queue's inode number (stable while it lives). */
export function mqIno(mq: PosixMq): number {
  return mqId(mq).ino;
}

function mqId(mq: PosixMq): MqTimes {
  let id = inodes.get(mq);
  if (!id) {
    const now = nowTimespec();
    inodes.set(mq, (id = { ino: nextIno++, atime: now, mtime: now, ctime: now }));
  }
  return id;
}

/** setMqAttr applies chmod, chown and utimes to a queue's file (checked by the caller), as Linux's simple_setattr. */
export function setMqAttr(mq: PosixMq, a: SetAttr): void {
  if (a.size !== undefined) fail(Errno.EINVAL);
  const id = mqId(mq), now = nowTimespec();
  if (a.mode !== undefined) mq.mode = a.mode & 0o7777;
  if (a.uid !== undefined) mq.uid = a.uid;
  if (a.gid !== undefined) mq.gid = a.gid;
  if (a.atime !== undefined) id.atime = a.atime === 'now' ? now : a.atime;
  if (a.mtime !== undefined) id.mtime = a.mtime === 'now' ? now : a.mtime;
  id.ctime = now;
}

/** mqStat describes a queue as Linux's mqueue inode: a regular file of its mode and owner, FILENT_SIZE long. */
export function mqStat(mq: PosixMq): Stat {
  const id = mqId(mq);
  return {
    dev: MQUEUE_DEV, ino: id.ino, mode: S_IFREG | mq.mode, nlink: 1, uid: mq.uid, gid: mq.gid, rdev: 0, size: STATUS_SIZE,
    blksize: 4096, blocks: 0, atime: id.atime, mtime: id.mtime, ctime: id.ctime,
  };
}

/** MqFile is a queue descriptor. */
export class MqFile extends FileDescription {
  /** loc is set when the queue was opened as /dev/mqueue/<name> (open(2)), null for mq_open. */
  constructor(readonly mq: PosixMq, flags: number, loc: Location | null = null) {
    super(loc, flags);
    mq.opens++;
  }

  protected override release(): void {
    this.mq.closed();
  }

  override stat(): Stat {
    return mqStat(this.mq);
  }

  /** read returns the queue's status line from the file offset, as Linux's mqueue_read_file. */
  override read(_t: Task, dst: Buffer, offset?: number): number | Block {
    const text = Buffer.from(this.mq.status());
    const at = offset ?? this.offset;
    if (at >= text.length) return 0;
    const n = text.copy(dst, 0, at);
    if (offset === undefined) this.offset += n;
    return n;
  }

  override readiness(): number {
    const mq = this.mq;
    return (mq.messages.length > 0 ? POLLIN | POLLRDNORM : 0) | (mq.messages.length < mq.maxmsg ? POLLOUT | POLLWRNORM : 0);
  }

  override get queue(): WaitQueue {
    return this.mq.queue;
  }

  override procLink(): string {
    return this.loc ? super.procLink() : `/${this.mq.name}`;
  }
}
