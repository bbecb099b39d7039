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
import { WatchRefs } from './watch-refs';

/** MAX_CACHE_WATCHES bounds one connection's cache watches (the sentry's dentry cache
 * holds about a thousand names: a directory per name at most). */
export const MAX_CACHE_WATCHES = 4096;

/** LOCAL_FS are the statfs f_type of the file systems whose directories are watched:
 * ext2/3/4, xfs, btrfs, tmpfs, overlayfs. */
export const LOCAL_FS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630]);

/** CacheWatchTable holds one connection's cache watches. */
export class CacheWatchTable {
  /** passed is set once the instance's descriptor went to the client (with the first
   * Rcachewatch that succeeded). */
  passed = false;
  private readonly watches = new WatchRefs(MAX_CACHE_WATCHES);

  /** ifd is the inotify instance (-1 until the first watch). */
  get ifd(): number {
    return this.watches.ifd;
  }

  /** size is the number of watches. */
  get size(): number {
    return this.watches.size;
  }

  /** add watches directory `dir` for CHANGE_EVENTS: its wd, or -errno. */
  add(dir: File): number {
    if (!dir.isDir) return -Errno.ENOTDIR;
    const fs = sys.fstatfs(dir.fd);
    if (typeof fs === 'number') return fs;
    if (!LOCAL_FS.has(fs.type)) return -Errno.EOPNOTSUPP;
    return this.watches.add(dir.fd, inotify.CHANGE_EVENTS | inotify.IN_ONLYDIR);
  }

  /** remove drops a reference to watch `wd`; the last one ends it (0 or -EINVAL). A
   * watch the host ended (its directory removed) ends quietly. */
  remove(wd: number): number {
    const r = this.watches.release(wd);
    return r < 0 ? r : 0;
  }

  /** close ends every watch and the instance (Tversion, or the end of the connection). */
  close(): void {
    this.watches.close();
    this.passed = false;
  }
}
