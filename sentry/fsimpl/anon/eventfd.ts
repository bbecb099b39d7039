/**
 * eventfd is the file of eventfd(2): an unsigned 64-bit counter. A write of 8 bytes adds
 * to it (blocking while the sum would pass 2^64-2); a read of 8 bytes returns it and
 * resets it to 0, or in semaphore mode returns 1 and decrements it; both block (or fail
 * with EAGAIN when non-blocking) while nothing can be done.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block, WaitQueue } from '../../kernel/waiter';
import { O_RDWR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../vfs/file';
import { AnonFile } from './anon';

const MAX = 0xfffffffffffffffen;

/** EventFd is one eventfd description. */
export class EventFd extends AnonFile {
  private count: bigint;
  private readonly q = new WaitQueue();

  /** counter is the current value, for /proc/<pid>/fdinfo. */
  get counter(): bigint {
    return this.count;
  }

  constructor(initval: number, readonly semaphore: boolean, flags: number) {
    super('[eventfd]', O_RDWR | flags);
    this.count = BigInt(initval);
  }

  override read(_t: Task, dst: Buffer): number | Block {
    if (dst.length < 8) fail(Errno.EINVAL);
    if (this.count === 0n) {
      if (this.nonblocking) fail(Errno.EAGAIN);
      return new Block([this.q]);
    }
    const v = this.semaphore ? 1n : this.count;
    this.count -= v;
    dst.writeBigUInt64LE(v, 0);
    this.q.notify();
    return 8;
  }

  override write(_t: Task, src: Buffer): number | Block {
    if (src.length < 8) fail(Errno.EINVAL);
    const v = src.readBigUInt64LE(0);
    if (v === 0xffffffffffffffffn) fail(Errno.EINVAL);
    if (v > MAX - this.count) {
      if (this.nonblocking) fail(Errno.EAGAIN);
      return new Block([this.q]);
    }
    this.count += v;
    if (v > 0n) this.q.notify();
    return 8;
  }


  override readiness(): number {
    return (this.count > 0n ? POLLIN | POLLRDNORM : 0) | (this.count < MAX ? POLLOUT | POLLWRNORM : 0);
  }

  override get queue(): WaitQueue {
    return this.q;
  }


}
