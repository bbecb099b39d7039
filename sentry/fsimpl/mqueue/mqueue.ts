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
import { nowTimespec, type Stat, type Timespec } from '../../vfs/inode';

/** STATUS_SIZE is the size an mqueue file reports (Linux's FILENT_SIZE). */
const STATUS_SIZE = 80;
/** MQUEUE_DEV is the device number stat shows for queue files (an anonymous one). */
const MQUEUE_DEV = 0x14;

const inodes = new WeakMap<PosixMq, { ino: number; ctime: Timespec }>();
let nextIno = 1;

/** MqFile is a queue descriptor. */
export class MqFile extends FileDescription {
  constructor(readonly mq: PosixMq, flags: number) {
    super(null, flags);
    mq.opens++;
  }

  protected override release(): void {
    this.mq.closed();
  }

  /** stat describes the queue as Linux's mqueue inode: a regular file of its mode and owner. */
  override stat(): Stat {
    let id = inodes.get(this.mq);
    if (!id) inodes.set(this.mq, (id = { ino: nextIno++, ctime: nowTimespec() }));
    return {
      dev: MQUEUE_DEV, ino: id.ino, mode: 0o100000 | this.mq.mode, nlink: 1, uid: this.mq.uid, gid: this.mq.gid, rdev: 0, size: STATUS_SIZE,
      blksize: 4096, blocks: 0, atime: id.ctime, mtime: id.ctime, ctime: id.ctime,
    };
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
    return `/${this.mq.name}`;
  }
}
