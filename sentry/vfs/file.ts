/**
 * FileDescription is an open file (what an fd refers to): its status flags, offset and
 * the operations read/write/seek/getdents/ioctl/poll. Several fds (dup, fork) share one
 * description; it is released when the last reference goes.
 *
 * read/write move data through sentry Buffers; the syscall layer copies them to and from
 * application memory, or, for a file with readv/writev (regular files), gives it views of
 * application memory to fill or take. A description that would block returns a Block
 * (kernel/waiter).
 */
import { Errno, fail } from '../kernel/errors';
import type { Block, WaitQueue } from '../kernel/waiter';
import type { Task } from '../kernel/task';
import type { DirEntry, Stat } from './inode';
import type { Location } from './mount';

export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400, O_TRUNC = 0o1000, O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000, O_DSYNC = 0o10000, O_ASYNC = 0o20000, O_DIRECT = 0o40000, O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_NOATIME = 0o1000000, O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000, O_PATH = 0o10000000, O_TMPFILE = 0o20200000;
/** FMODE_EXEC (Linux's __FMODE_EXEC) marks, in Inode.open's flags only, the open of a
 * program by execve: execute permission was checked, not read. A file system that checks
 * again (the gofer's) asks for execute access; no description keeps the bit. */
export const FMODE_EXEC = 0x20;
/** STATUS_FLAGS are what F_SETFL may change. */
export const STATUS_FLAGS = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

/** POLL* event bits. */
export const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20,
  POLLRDNORM = 0x40, POLLWRNORM = 0x100;

export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;

/** FileDescription is the base of every open file. */
export abstract class FileDescription {
  offset = 0;
  private refs = 1;

  /** flags are the access mode and status flags (F_GETFL). */
  flags: number;

  constructor(
    /** loc is where it was opened (null for pipes, sockets and other anonymous files). */
    readonly loc: Location | null,
    flags: number,
  ) {
    this.flags = flags & ~FMODE_EXEC;
    loc?.dentry.incRef(); // the dentry stays cached while the file is open (vfs/dentry.ts)
  }

  get readable(): boolean {
    return (this.flags & O_ACCMODE) !== O_WRONLY && (this.flags & O_PATH) === 0;
  }

  get writable(): boolean {
    return (this.flags & O_ACCMODE) !== O_RDONLY && (this.flags & O_PATH) === 0;
  }

  get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  /** read fills dst from the file (at `offset`, or the file offset when undefined). */
  read(_t: Task, _dst: Buffer, _offset?: number): number | Block {
    return fail(Errno.EINVAL);
  }

  /** write writes src (at `offset`, or the file offset when undefined). */
  write(_t: Task, _src: Buffer, _offset?: number): number | Block {
    return fail(Errno.EINVAL);
  }

  /**
   * readv, when a file has it, is read() into several buffers in order as one transfer (at
   * `offset`, or the file offset when undefined), returning the bytes read in all. The
   * syscall layer gives it views of the application's memory (MemoryManager.ioViews), so
   * that the data move without a copy through a sentry buffer; a file whose data are
   * records (pipes, sockets, devices) has none and is read through one sentry buffer.
   */
  readv?(t: Task, dsts: readonly Buffer[], offset?: number): number | Block;

  /** writev, when a file has it, is write() of several buffers in order as one transfer (see readv). */
  writev?(t: Task, srcs: readonly Buffer[], offset?: number): number | Block;

  /**
   * readBound, with readv, is the most a read at `offset` (the file offset when undefined)
   * can return now (a regular file: the bytes to its end), so that the syscall layer
   * prepares no more application memory than the read fills.
   */
  readBound?(offset?: number): number;

  /** seek implements lseek; files without a position answer ESPIPE. */
  seek(offset: number, whence: number): number {
    let base: number;
    switch (whence) {
      case SEEK_SET: base = 0; break;
      case SEEK_CUR: base = this.offset; break;
      case SEEK_END: base = this.stat().size; break;
      default: return fail(Errno.EINVAL);
    }
    const n = base + offset;
    if (n < 0) fail(Errno.EINVAL);
    this.offset = n;
    return n;
  }

  /** readdir lists the directory's entries, '.' and '..' first. */
  readdir(): DirEntry[] {
    return fail(Errno.ENOTDIR);
  }

  ioctl(_t: Task, _cmd: number, _arg: bigint): number | bigint {
    return fail(Errno.ENOTTY);
  }

  /** readiness returns the POLL* bits that hold now. */
  readiness(): number {
    return POLLIN | POLLOUT;
  }

  /** queue is notified when readiness may have changed (absent: always ready). */
  get queue(): WaitQueue | null {
    return null;
  }

  abstract stat(): Stat;

  /** procLink is what /proc/<pid>/fd/N shows for a file opened nowhere in the tree. */
  procLink(): string {
    return `pipe:[${this.stat().ino}]`;
  }

  truncate(_size: number): void {
    fail(Errno.EINVAL);
  }

  sync(): void {}

  ref(): this {
    this.refs++;
    return this;
  }

  /** unref drops a reference; the last one releases the file. */
  unref(): void {
    if (--this.refs !== 0) return;
    const hooks = this.releaseHooks;
    this.releaseHooks = null;
    if (hooks) for (const h of hooks) h();
    this.release();
    this.loc?.dentry.decRef();
  }

  private releaseHooks: Set<() => void> | null = null;

  /** onRelease runs `h` when the last reference goes (epoll drops its entries then, as
   * Linux does at the final fput); the returned function cancels it. */
  onRelease(h: () => void): () => void {
    (this.releaseHooks ??= new Set()).add(h);
    return () => this.releaseHooks?.delete(h);
  }

  /** release frees what the file holds (host descriptors, pipe ends...). */
  protected release(): void {}
}
