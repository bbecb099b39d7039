/**
 * CacheWatchTable is one connection's cache watches (9P2000.L.fd's Tcachewatch and
 * Tuncachewatch): host inotify watches of directories of a bind mount whose entries the
 * client caches, on an inotify instance of their own (not Twatch's) whose descriptor is
 * passed to the client with the first Rcachewatch. The client reads it itself, without
 * a round trip, before it answers a lookup from its cache: a host change to the directory
 * or to a file named in it (CHANGE_EVENTS) is queued by the host during the change, so a
 * change made before the lookup began is always seen (sentry/fsimpl/gofer/cache-watch.ts).
 * The gofer never reads this instance.
 *
 * Only directories of local file systems are watched (LOCAL_FS: inotify reports every
 * change made through the host's kernel there; a network file system changed by another
 * machine reports nothing): EOPNOTSUPP otherwise. Bounds: at most MAX_CACHE_WATCHES
 * watches per connection (ENOSPC beyond); a watch is counted per Tcachewatch and ended
 * by its last Tuncachewatch, and all end with the connection.
 */
import { Errno } from '../../native/libc';
import * as inotify from '../hostfs/inotify';
import * as sys from '../hostfs/sys';
import type { File } from './file';

/** MAX_CACHE_WATCHES bounds one connection's cache watches (the sentry's dentry cache
 * holds about a thousand names: a directory per name at most). */
export const MAX_CACHE_WATCHES = 4096;

/** LOCAL_FS are the statfs f_type of the file systems whose directories are watched:
 * ext2/3/4, xfs, btrfs, tmpfs, overlayfs. */
export const LOCAL_FS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630]);

/** CacheWatchTable holds one connection's cache watches. */
export class CacheWatchTable {
  /** ifd is the inotify instance (-1 until the first watch). */
  ifd = -1;
  /** passed is set once the instance's descriptor went to the client (with the first
   * Rcachewatch that succeeded). */
  passed = false;
  private readonly refs = new Map<number, number>();

  /** size is the number of watches. */
  get size(): number {
    return this.refs.size;
  }

  /** add watches directory `dir` for CHANGE_EVENTS: its wd, or -errno. */
  add(dir: File): number {
    if (!dir.isDir) return -Errno.ENOTDIR;
    const fs = sys.fstatfs(dir.fd);
    if (typeof fs === 'number') return fs;
    if (!LOCAL_FS.has(fs.type)) return -Errno.EOPNOTSUPP;
    if (this.ifd < 0) {
      const fd = inotify.init();
      if (fd < 0) return fd;
      this.ifd = fd;
    }
    // The same directory gives the same wd: another reference to it.
    const wd = inotify.addWatch(this.ifd, dir.fd, inotify.CHANGE_EVENTS | inotify.IN_ONLYDIR);
    if (wd < 0) return wd;
    const n = this.refs.get(wd);
    if (n === undefined && this.refs.size >= MAX_CACHE_WATCHES) {
      inotify.rmWatch(this.ifd, wd);
      return -Errno.ENOSPC;
    }
    this.refs.set(wd, (n ?? 0) + 1);
    return wd;
  }

  /** remove drops a reference to watch `wd`; the last one ends it (0 or -EINVAL). A
   * watch the host ended (its directory removed) ends quietly. */
  remove(wd: number): number {
    const n = this.refs.get(wd);
    if (n === undefined) return -Errno.EINVAL;
    if (n > 1) {
      this.refs.set(wd, n - 1);
      return 0;
    }
    this.refs.delete(wd);
    inotify.rmWatch(this.ifd, wd);
    return 0;
  }

  /** close ends every watch and the instance (Tversion, or the end of the connection). */
  close(): void {
    if (this.ifd >= 0) sys.close(this.ifd);
    this.ifd = -1;
    this.passed = false;
    this.refs.clear();
  }
}
