/**
 * anon holds what the sentry's anonymous-inode files (epoll, eventfd, signalfd, timerfd,
 * pidfd, inotify) share: Linux gives each an inode of the anon_inode filesystem with mode
 * 0600 and no file type, no position (lseek: ESPIPE), and a /proc fd link naming its kind.
 */
import { Errno, fail } from '../../kernel/errors';
import { FileDescription } from '../../vfs/file';
import { nowTimespec, type Stat, type Timespec } from '../../vfs/inode';

let nextIno = 1;

/** AnonInode is the identity of one anonymous file. */
export class AnonInode {
  readonly ino = nextIno++;
  readonly ctime: Timespec = nowTimespec();

  stat(): Stat {
    return {
      dev: 13, ino: this.ino, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0,
      atime: this.ctime, mtime: this.ctime, ctime: this.ctime,
    };
  }
}

/** AnonFile is an open anonymous file: its own AnonInode, no position, and the link
 * text `anon_inode:<kind>` (read and write fail with EINVAL unless a subclass says more). */
export abstract class AnonFile extends FileDescription {
  private readonly anon = new AnonInode();

  constructor(private readonly kind: string, flags: number) {
    super(null, flags);
  }

  override seek(): number {
    return fail(Errno.ESPIPE);
  }

  override stat(): Stat {
    return this.anon.stat();
  }

  override procLink(): string {
    return `anon_inode:${this.kind}`;
  }
}
