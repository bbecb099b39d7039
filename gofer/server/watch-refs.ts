/**
 * WatchRefs is a host inotify instance, made on its first watch, with a reference count
 * per watch. Adding the same host file twice gives the same wd, so a watch is counted
 * per add and ended by its last release. The connection's Twatch table (watches.ts) and
 * its cache-watch table (cache-watches.ts) each hold one.
 */
import { Errno } from '../../native/libc';
import * as inotify from '../hostfs/inotify';
import * as sys from '../hostfs/sys';

export class WatchRefs {
  /** ifd is the host inotify instance (-1 until the first watch, and after close). */
  ifd = -1;
  private readonly refs = new Map<number, number>();

  /** `limit` bounds the watches held at once (ENOSPC beyond). */
  constructor(private readonly limit: number) {}

  /** size is the number of watches held. */
  get size(): number {
    return this.refs.size;
  }

  /** has is true while watch `wd` is held. */
  has(wd: number): boolean {
    return this.refs.has(wd);
  }

  /**
   * add watches the file open at `fd` for `mask` (inotify's HOST_EVENTS by default) and
   * returns its wd, or -errno. A new watch past the limit is removed again: -ENOSPC.
   */
  add(fd: number, mask?: number): number {
    if (this.ifd < 0) {
      const ifd = inotify.init();
      if (ifd < 0) return ifd;
      this.ifd = ifd;
    }
    const wd = inotify.addWatch(this.ifd, fd, mask);
    if (wd < 0) return wd;
    const n = this.refs.get(wd);
    if (n === undefined && this.refs.size >= this.limit) {
      inotify.rmWatch(this.ifd, wd);
      return -Errno.ENOSPC;
    }
    this.refs.set(wd, (n ?? 0) + 1);
    return wd;
  }

  /**
   * release drops a reference to `wd`: -EINVAL when it is not held, 0 while others
   * remain, 1 when it was the last (the host watch is then removed).
   */
  release(wd: number): number {
    const n = this.refs.get(wd);
    if (n === undefined) return -Errno.EINVAL;
    if (n > 1) {
      this.refs.set(wd, n - 1);
      return 0;
    }
    this.refs.delete(wd);
    inotify.rmWatch(this.ifd, wd);
    return 1;
  }

  /** forget drops watch `wd` without a host call: the host ended it (IN_IGNORED). */
  forget(wd: number): void {
    this.refs.delete(wd);
  }

  /** close ends every watch and the instance. */
  close(): void {
    if (this.ifd >= 0) sys.close(this.ifd);
    this.ifd = -1;
    this.refs.clear();
  }
}
