/**
 * FdTable maps a process's descriptor numbers to open file descriptions, with the
 * close-on-exec flag per descriptor. New descriptors take the lowest free number.
 *
 * A table is reference-counted like Linux's files_struct: every task using it (threads,
 * and CLONE_FILES children of other processes) holds one reference, and its descriptors
 * are closed when the last one goes (task exit, or execve unsharing it). The table is
 * also the owner of the POSIX record locks its tasks take: closing any descriptor of a
 * file drops the table's locks on that file (vfs/lock.ts).
 */
import { Errno, fail } from '../kernel/errors';
import type { FileDescription } from './file';
import { releaseOwner, releasePosix } from './lock';

interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

/** NR_OPEN is the default RLIMIT_NOFILE. */
export const NR_OPEN = 1048576;

/** FdTable is one process's descriptor table (shared by CLONE_FILES threads). */
export class FdTable {
  private readonly slots = new Map<number, Slot>();
  private refs = 1;
  limit = 1024;

  /** ref takes a reference for one more task (clone with CLONE_FILES). */
  ref(): this {
    this.refs++;
    return this;
  }

  /** shared tells whether another task holds a reference too. */
  get shared(): boolean {
    return this.refs > 1;
  }

  /** release drops a task's reference; the last one closes every descriptor. */
  release(): void {
    if (--this.refs !== 0) return;
    this.closeAll();
    releaseOwner(this);
  }

  /** drop closes one descriptor's reference to file: as on Linux's filp_close, the
   * table's POSIX locks on the file go with it. */
  private drop(file: FileDescription): void {
    releasePosix(this, file);
    file.unref();
  }

  get(fd: number): FileDescription {
    const s = this.slots.get(fd);
    if (!s) fail(Errno.EBADF);
    return s.file;
  }

  has(fd: number): boolean {
    return this.slots.has(fd);
  }

  cloexec(fd: number): boolean {
    return this.slots.get(fd)?.cloexec ?? fail(Errno.EBADF);
  }

  setCloexec(fd: number, on: boolean): void {
    const s = this.slots.get(fd);
    if (!s) fail(Errno.EBADF);
    s.cloexec = on;
  }

  /** add installs file (taking over the caller's reference) at the lowest free fd >= min. */
  add(file: FileDescription, cloexec: boolean, min = 0): number {
    let fd = min;
    while (this.slots.has(fd)) fd++;
    if (fd >= this.limit) {
      file.unref();
      fail(Errno.EMFILE);
    }
    this.slots.set(fd, { file, cloexec });
    return fd;
  }

  /** setAt installs file at fd, closing what was there (dup2/dup3). */
  setAt(fd: number, file: FileDescription, cloexec: boolean): void {
    if (fd < 0 || fd >= this.limit) {
      file.unref();
      fail(Errno.EBADF);
    }
    const old = this.slots.get(fd);
    this.slots.set(fd, { file, cloexec });
    if (old) this.drop(old.file);
  }

  /** remove closes fd. */
  remove(fd: number): void {
    const s = this.slots.get(fd);
    if (!s) fail(Errno.EBADF);
    this.slots.delete(fd);
    this.drop(s.file);
  }

  /** fork returns a copy sharing every description (fork, or unsharing at execve);
   * locks stay with this table. */
  fork(): FdTable {
    const t = new FdTable();
    t.limit = this.limit;
    for (const [fd, s] of this.slots) t.slots.set(fd, { file: s.file.ref(), cloexec: s.cloexec });
    return t;
  }

  /** closeOnExec closes every close-on-exec descriptor. */
  closeOnExec(): void {
    for (const [fd, s] of [...this.slots]) if (s.cloexec) this.remove(fd);
  }

  /** closeAll closes everything (process exit). */
  closeAll(): void {
    for (const fd of [...this.slots.keys()]) this.remove(fd);
  }

  /** entries lists (fd, file) pairs in order (for /proc/<pid>/fd). */
  entries(): Array<[number, FileDescription]> {
    return [...this.slots.entries()].sort((a, b) => a[0] - b[0]).map(([fd, s]) => [fd, s.file]);
  }
}
