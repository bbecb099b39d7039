/**
 * Pipes: a bounded byte buffer with a read end and a write end (pipe(2), and FIFOs).
 * Reading an empty pipe blocks while a writer exists and returns 0 (end of file) when
 * none does; writing to a pipe with no reader fails with EPIPE (and SIGPIPE, sent by the
 * syscall layer); writes of at most PIPE_BUF bytes are atomic.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { block, Block, WaitQueue } from '../../kernel/waiter';
import { FileDescription, O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../vfs/file';
import { nowTimespec, S_IFIFO, type Stat } from '../../vfs/inode';

export const PIPE_BUF = 4096;
const DEFAULT_CAPACITY = 65536;

let nextPipeIno = 1;

/** Pipe is the shared buffer of a pipe's two ends. */
export class Pipe {
  private chunks: Buffer[] = [];
  size = 0;
  capacity = DEFAULT_CAPACITY;
  readers = 0;
  writers = 0;
  /** hadWriter: a FIFO reader does not see EOF before the first writer came. */
  hadWriter = false;
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
      if (this.writers === 0 && this.hadWriter) return 0;
      return block(this.queue);
    }
    let n = 0;
    while (n < dst.length && this.chunks.length > 0) {
      const c = this.chunks[0];
      const take = Math.min(c.length, dst.length - n);
      c.copy(dst, n, 0, take);
      n += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.size -= n;
    this.queue.notify();
    return n;
  }

  /** peek copies up to dst.length buffered bytes into dst without consuming them (tee,
   * and splice before it knows how much the output takes); 0 when empty. */
  peek(dst: Buffer): number {
    let n = 0;
    for (const c of this.chunks) {
      if (n === dst.length) break;
      const take = Math.min(c.length, dst.length - n);
      c.copy(dst, n, 0, take);
      n += take;
    }
    return n;
  }

  write(src: Buffer): number | Block {
    if (this.readers === 0) return -Errno.EPIPE;
    if (src.length === 0) return 0;
    const room = this.capacity - this.size;
    if (room === 0 || (src.length <= PIPE_BUF && room < src.length)) return block(this.queue);
    const n = Math.min(room, src.length);
    this.chunks.push(Buffer.from(src.subarray(0, n)));
    this.size += n;
    this.queue.notify();
    return n;
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
  constructor(readonly pipe: Pipe, flags: number, loc: ConstructorParameters<typeof FileDescription>[0] = null) {
    super(loc, flags);
    if (this.readable) pipe.readers++;
    if (this.writable) {
      pipe.writers++;
      pipe.hadWriter = true;
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
      if (p.writers === 0 && p.hadWriter) ev |= POLLHUP;
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

  override stat(): Stat {
    return this.pipe.stat();
  }

  protected override release(): void {
    if (this.readable) this.pipe.readers--;
    if (this.writable) this.pipe.writers--;
    this.pipe.queue.notify();
  }
}

/** newPipe returns the read and write ends of a new pipe. */
export function newPipe(extraFlags: number): [PipeEnd, PipeEnd] {
  const p = new Pipe();
  return [new PipeEnd(p, O_RDONLY | extraFlags), new PipeEnd(p, O_WRONLY | extraFlags)];
}
