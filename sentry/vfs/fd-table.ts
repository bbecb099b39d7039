/**
 * FdTable maps a process's descriptor numbers to open file descriptions, with the
 * close-on-exec flag per descriptor. New descriptors take the lowest free number.
 */
import { Errno, fail } from '../kernel/errors';
import type { FileDescription } from './file';

interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

/** NR_OPEN is the default RLIMIT_NOFILE. */
export const NR_OPEN = 1048576;

/** FdTable is one process's descriptor table (shared by CLONE_FILES threads). */
export class FdTable {
  private readonly slots = new Map<number, Slot>();
  limit = 1024;

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
    old?.file.unref();
  }

  /** remove closes fd. */
  remove(fd: number): void {
    const s = this.slots.get(fd);
    if (!s) fail(Errno.EBADF);
    this.slots.delete(fd);
    s.file.unref();
  }

  /** fork returns a copy sharing every description. */
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
