/**
 * anon holds what the sentry's anonymous-inode files (epoll, eventfd) share: Linux gives
 * each an inode of the anon_inode filesystem with mode 0600 and no file type.
 */
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
