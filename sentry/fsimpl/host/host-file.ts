/**
 * HostFile is a host descriptor handed to the sentry (the container's stdin, stdout,
 * stderr) exposed to the application as a file. Writes go straight to the host
 * descriptor; reads run on libuv's thread pool so that a task waiting for input never
 * stops the others, and the data waits here until the task runs its read again.
 */
import * as fs from 'node:fs';
import * as host from '../../../gofer/hostfs/sys';
import { check, libcFunc } from '../../../native/libc';
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { block, Block, WaitQueue } from '../../kernel/waiter';
import { FileDescription, POLLIN, POLLOUT, POLLHUP } from '../../vfs/file';
import { nowTimespec, S_IFCHR, S_IFIFO, S_IFREG, type Stat } from '../../vfs/inode';

const READ_CHUNK = 65536;
const F_GETFL = 3;
const O_ACCMODE = 3;

/** hostAccessMode is the access mode (O_RDONLY, O_WRONLY or O_RDWR) a host descriptor was opened with. */
export function hostAccessMode(fd: number): number {
  return check('fcntl F_GETFL', libcFunc('int fcntl(int fd, int cmd, int arg)')(fd, F_GETFL, 0) as number) & O_ACCMODE;
}

/** HostFile wraps one host descriptor owned by the sentry. */
export class HostFile extends FileDescription {
  private buffered: Buffer | null = null;
  private eof = false;
  private readError = 0;
  private reading = false;
  private readonly q = new WaitQueue();
  private readonly born = nowTimespec();

  /** owned: the descriptor is the sentry's alone (exec's stdio) and closes with the file. */
  constructor(readonly hostFd: number, flags: number, readonly label: string, readonly owned = false) {
    super(null, flags);
  }

  private startRead(): void {
    if (this.reading || this.eof) return;
    this.reading = true;
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    fs.read(this.hostFd, buf, 0, READ_CHUNK, null, (err, n) => {
      this.reading = false;
      if (this.closeAfterRead) {
        fs.closeSync(this.hostFd);
        return;
      }
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') setTimeout(() => this.startRead(), 5);
        else this.readError = Errno.EIO;
      } else if (n === 0) this.eof = true;
      else this.buffered = this.buffered ? Buffer.concat([this.buffered, buf.subarray(0, n)]) : buf.subarray(0, n);
      this.q.notify();
    });
  }

  override read(_t: Task, dst: Buffer): number | Block {
    if (this.buffered && this.buffered.length > 0) {
      const n = Math.min(dst.length, this.buffered.length);
      this.buffered.copy(dst, 0, 0, n);
      this.buffered = n === this.buffered.length ? null : this.buffered.subarray(n);
      return n;
    }
    if (this.readError) return -this.readError;
    if (this.eof) return 0;
    this.startRead();
    return block(this.q);
  }

  override write(_t: Task, src: Buffer): number | Block {
    try {
      return fs.writeSync(this.hostFd, src);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return new Block([], Date.now() + 1);
      if (code === 'EPIPE') return -Errno.EPIPE;
      return -Errno.EIO;
    }
  }

  override seek(): number {
    return fail(Errno.ESPIPE);
  }

  override readiness(): number {
    let ev = POLLOUT;
    if (this.buffered || this.eof || this.readError) ev |= POLLIN;
    else this.startRead();
    if (this.eof) ev |= POLLHUP;
    return ev;
  }

  override get queue(): WaitQueue {
    return this.q;
  }

  override stat(): Stat {
    let mode = S_IFIFO | 0o600;
    try {
      const st = fs.fstatSync(this.hostFd);
      mode = st.isCharacterDevice() ? S_IFCHR | 0o620 : st.isFile() ? S_IFREG | 0o644 : S_IFIFO | 0o600;
    } catch {
      // keep the FIFO default
    }
    return { dev: 13, ino: this.hostFd + 1, mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: this.born, mtime: this.born, ctime: this.born };
  }

  /** truncate sizes a regular host file (`cmd > /dev/stdout` with stdout a file truncates it, as on Linux). */
  override truncate(size: number): void {
    const r = host.ftruncate(this.hostFd, size);
    if (r < 0) fail(-r);
  }

  protected override release(): void {
    // The sentry keeps its own stdio open; descriptors received for an exec close here.
    if (this.owned && !this.reading) fs.closeSync(this.hostFd);
    else if (this.owned) this.closeAfterRead = true;
  }

  private closeAfterRead = false;
}
