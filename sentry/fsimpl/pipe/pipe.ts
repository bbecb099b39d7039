/**
 * Pipes: a bounded byte buffer with a read end and a write end (pipe(2), and FIFOs).
 * Reading an empty pipe blocks while a writer exists and returns 0 (end of file) when
 * none does; writing to a pipe with no reader fails with EPIPE (and SIGPIPE, sent by the
 * syscall layer); writes of at most PIPE_BUF bytes are atomic.
 *
 * A FIFO is a pipe reached by name (a tmpfs or gofer inode keeps one; the host's FIFOs
 * are never opened: processes of the sandbox meet in the sentry, as gVisor's do). Its
 * opens follow fifo(7): a blocking O_RDONLY open waits until a writer opens, a blocking
 * O_WRONLY open until a reader does (the waiting end is already counted, so the partner
 * does not wait for it); O_WRONLY|O_NONBLOCK without a reader is ENXIO; O_RDWR never
 * waits. A waiting open holds its end in FifoOpenWait, dropped if a signal interrupts it.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { block, Block, WaitQueue, type AbortableWait } from '../../kernel/waiter';
import { FileDescription, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../vfs/file';
import { nowTimespec, S_IFIFO, type Stat } from '../../vfs/inode';
import { ByteQueue } from './byte-queue';

export const PIPE_BUF = 4096;
const DEFAULT_CAPACITY = 65536;

let nextPipeIno = 1;

/** Pipe is the shared buffer of a pipe's two ends. */
export class Pipe {
  private readonly data = new ByteQueue();
  capacity = DEFAULT_CAPACITY;
  readers = 0;
  writers = 0;
  /** readerOpens and writerOpens count the ends ever opened (a waiting FIFO open waits
   * for its partner's count to change, as Linux's r_counter and w_counter). */
  readerOpens = 0;
  writerOpens = 0;
  readonly queue = new WaitQueue();
  readonly ino = nextPipeIno++;
  /** uid and gid own the pipe's inode: its creator's (what reopening it through
   * /proc/<pid>/fd/N is checked against). */
  uid = 0;
  gid = 0;
  readonly ctime = nowTimespec();

  read(dst: Buffer): number | Block {
    if (dst.length === 0) return 0;
    if (this.size === 0) {
      if (this.writers === 0) return 0;
      return block(this.queue);
    }
    const n = this.data.take(dst);
    this.queue.notify();
    return n;
  }

  /** size is the number of bytes buffered. */
  get size(): number {
    return this.data.length;
  }

  /** peek copies up to dst.length buffered bytes into dst without consuming them (tee,
   * and splice before it knows how much the output takes); 0 when empty. */
  peek(dst: Buffer): number {
    return this.data.peek(dst);
  }

  write(src: Buffer): number | Block {
    if (this.readers === 0) return -Errno.EPIPE;
    if (src.length === 0) return 0;
    const room = this.capacity - this.size;
    if (room === 0 || (src.length <= PIPE_BUF && room < src.length)) return block(this.queue);
    const n = Math.min(room, src.length);
    this.data.push(src.subarray(0, n));
    this.queue.notify();
    return n;
  }

  /** clear drops the buffered data. */
  clear(): void {
    this.data.clear();
  }

  stat(): Stat {
    return {
      dev: 12, ino: this.ino, mode: S_IFIFO | 0o600, nlink: 1, uid: this.uid, gid: this.gid, rdev: 0, size: 0, blksize: 4096, blocks: 0,
      atime: this.ctime, mtime: this.ctime, ctime: this.ctime,
    };
  }
}

/** PipeEnd is one end of a pipe as an open file. */
export class PipeEnd extends FileDescription {
  /** writersSeen is the pipe's writerOpens when this end opened: a reader sees POLLHUP
   * only once a writer opened after it and all writers went (Linux's f_version test). */
  private readonly writersSeen: number;

  constructor(readonly pipe: Pipe, flags: number, loc: ConstructorParameters<typeof FileDescription>[0] = null) {
    super(loc, flags);
    this.writersSeen = pipe.writerOpens;
    if (this.readable) {
      pipe.readers++;
      pipe.readerOpens++;
    }
    if (this.writable) {
      pipe.writers++;
      pipe.writerOpens++;
    }
    pipe.queue.notify();
  }

  override read(_t: Task, dst: Buffer): number | Block {
    return this.pipe.read(dst);
  }

  override write(_t: Task, src: Buffer): number | Block {
    return this.pipe.write(src);
  }

  override seek(): number {
    return fail(Errno.ESPIPE);
  }

  override readiness(): number {
    let ev = 0;
    const p = this.pipe;
    if (this.readable) {
      if (p.size > 0) ev |= POLLIN | POLLRDNORM;
      if (p.writers === 0 && p.writerOpens !== this.writersSeen) ev |= POLLHUP;
    }
    if (this.writable) {
      if (p.capacity - p.size >= PIPE_BUF) ev |= POLLOUT | POLLWRNORM;
      if (p.readers === 0) ev |= POLLERR;
    }
    return ev;
  }

  override get queue(): WaitQueue {
    return this.pipe.queue;
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    if (cmd === 0x541b /* FIONREAD */) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(this.pipe.size);
      t.mm.write(arg, b);
      return 0;
    }
    return fail(Errno.ENOTTY);
  }

  /** stat is a FIFO's own inode when opened by name, else the pipe's. */
  override stat(): Stat {
    return this.loc ? this.loc.dentry.inode.stat() : this.pipe.stat();
  }

  protected override release(): void {
    if (this.readable) this.pipe.readers--;
    if (this.writable) this.pipe.writers--;
    // A FIFO's data goes with its last end (a later open finds it empty, as Linux's).
    if (this.pipe.readers === 0 && this.pipe.writers === 0) this.pipe.clear();
    this.pipe.queue.notify();
  }
}

/**
 * openFifo opens FIFO `pipe` with open(2)'s `flags` at `loc`: ENXIO for a non-blocking
 * write-only open without a reader; the end is counted at once, even by an open that
 * must then wait for its partner (fifoWait).
 */
export function openFifo(pipe: Pipe, flags: number, loc: ConstructorParameters<typeof FileDescription>[0] = null): PipeEnd {
  if ((flags & O_ACCMODE) === O_WRONLY && flags & O_NONBLOCK && pipe.readers === 0) fail(Errno.ENXIO);
  return new PipeEnd(pipe, flags, loc);
}

/**
 * FifoOpenWait is the state of a blocking FIFO open waiting for its partner: the end
 * already opened, and the partner's open count it started from. abort() closes the end
 * when a signal interrupts the wait (the open then starts over, or fails with EINTR).
 */
export class FifoOpenWait implements AbortableWait {
  private readonly from: number;

  constructor(readonly end: PipeEnd) {
    this.from = this.partnerOpens();
  }

  private partnerOpens(): number {
    return this.end.readable ? this.end.pipe.writerOpens : this.end.pipe.readerOpens;
  }

  /** ready tells whether a partner opened since the wait began. */
  get ready(): boolean {
    return this.partnerOpens() !== this.from;
  }

  abort(): void {
    this.end.unref();
  }
}

/**
 * fifoWait returns the wait of a new FIFO end `f` opened with `flags` (null when the open
 * completes now): a blocking read-only open without a writer, or a blocking write-only
 * open without a reader.
 */
export function fifoWait(f: PipeEnd, flags: number): FifoOpenWait | null {
  if (flags & O_NONBLOCK || f.readable === f.writable) return null;
  const partners = f.readable ? f.pipe.writers : f.pipe.readers;
  return partners > 0 ? null : new FifoOpenWait(f);
}

/** newPipe returns the read and write ends of a new pipe. */
export function newPipe(extraFlags: number): [PipeEnd, PipeEnd] {
  const p = new Pipe();
  return [new PipeEnd(p, O_RDONLY | extraFlags), new PipeEnd(p, O_WRONLY | extraFlags)];
}
