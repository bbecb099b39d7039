/**
 * PathFile is what open(2) with O_PATH returns, whatever the file is: a description that
 * names a place in the tree and opens nothing (Linux's do_o_path). A symlink opened with
 * O_PATH|O_NOFOLLOW, a FIFO without a partner, a device the cgroup rules deny: each gets
 * one without its file system's open, so no host descriptor, no Tlopen and no wait. It
 * serves as a dirfd, for fstat, fchdir, fstatfs, the AT_EMPTY_PATH calls, /proc/<pid>/fd
 * links and their reopening; anything that needs an opened file answers EBADF.
 */
import { Errno, fail } from '../kernel/errors';
import type { Task } from '../kernel/task';
import type { Block } from '../kernel/waiter';
import { FileDescription, O_DIRECTORY, O_NOFOLLOW, O_PATH } from './file';
import type { DirEntry, Stat } from './inode';
import type { Location } from './mount';

/** PATH_FLAGS are the open flags an O_PATH description keeps (build_open_flags). */
const PATH_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW;

/** PathFile is an O_PATH description (see the module comment). */
export class PathFile extends FileDescription {
  constructor(loc: Location, flags: number) {
    super(loc, flags & PATH_FLAGS);
  }

  private get at(): Location {
    return this.loc!;
  }

  override read(_t: Task, _dst: Buffer, _offset?: number): number | Block {
    return fail(Errno.EBADF);
  }

  override write(_t: Task, _src: Buffer, _offset?: number): number | Block {
    return fail(Errno.EBADF);
  }

  override seek(_offset: number, _whence: number): number {
    return fail(Errno.EBADF);
  }

  override readdir(): DirEntry[] {
    return fail(Errno.EBADF);
  }

  override ioctl(_t: Task, _cmd: number, _arg: bigint): number | bigint {
    return fail(Errno.EBADF);
  }

  override truncate(_size: number): void {
    fail(Errno.EBADF);
  }

  override sync(): void {
    fail(Errno.EBADF);
  }

  override stat(): Stat {
    return this.at.dentry.inode.stat();
  }
}
