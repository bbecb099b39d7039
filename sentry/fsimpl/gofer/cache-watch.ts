/**
 * Cache watches: the directories of a bind mount whose cached names the sentry trusts
 * without asking the gofer at every lookup (GoferFs revalidate). The host may change a
 * bind mount behind the sandbox, so a cached name there is normally checked with a round
 * trip per lookup (a Twalkstat: 130-320 us here, most of a cold stat). Instead, a
 * directory listed there (GoferInode.listChildren) is first watched by the gofer for
 * changes to its entries and their files (9P2000.L.fd's Tcachewatch: inotify's
 * CHANGE_EVENTS), on an inotify instance whose descriptor the gofer passes to the sentry
 * with the first reply. The host queues an event during the change itself, so reading
 * that descriptor (non-blocking, no round trip) before a lookup sees every change made
 * before the lookup began; an event ends the trust of its directory (its names are
 * checked as before from then on), an overflow the trust of all.
 *
 * Trust is counted in generations: a directory gets a new one (`watchGen`) when its watch
 * is set, and a child is confirmed in it (`seenGen`) only by what the gofer read after
 * the watch was set (the listing that follows it, a lookup or check made while it held).
 * A cached child is then trusted when its directory still holds the generation it was
 * confirmed in, and (confirms):
 * - a directory only while it is watched itself: its own attributes (mtime, nlink) move
 *   with changes to its entries, which its parent's watch does not report;
 * - a file only with one link: a change made through another link, in another
 *   directory, is reported to that directory's watchers only.
 * What the directory's watch never hears of stays a limit, until another change to the
 * directory: a host's writes through a shared mapping (Linux reports none), and writes
 * through a hard link the host made in another directory after the file was confirmed.
 *
 * Bounds: a watch per watched directory inode, released with it (evict) or when an event
 * ends its trust (Tuncachewatch, without waiting); the gofer bounds them per connection
 * (ENOSPC: the directory is then checked name by name as before), and only watches
 * directories of local file systems (EOPNOTSUPP elsewhere).
 */
import type { Client } from '../../../gofer/p9/client';
import * as inotify from '../../../gofer/hostfs/inotify';
import * as host from '../../../gofer/hostfs/sys';

/** Watched is what a cache watch needs of a directory inode (GoferInode). */
export interface Watched {
  readonly fid: number;
  readonly isDir: boolean;
  /** watchGen is the generation of the directory's watch while it holds, else 0. */
  watchGen: number;
  /** seenGen is the generation of its directory's watch the file was last confirmed in. */
  seenGen: number;
  /** cacheWd is the directory's watch (-1 when none). */
  cacheWd: number;
  readonly attr: { nlink: number };
}

/** EAGAIN is what a read of an empty non-blocking inotify descriptor returns. */
const EAGAIN = 11;

/** nextGen numbers the watches' generations (one counter: a generation names one watch of one directory). */
let nextGen = 1;

/** CacheWatches are the cache watches of one gofer connection. */
export class CacheWatches {
  /** fd is the connection's cache-watch inotify descriptor, once the gofer passed it. */
  private fd = -1;
  /** broken is set once the descriptor failed: nothing is trusted any more. */
  private broken = false;
  private readonly byWd = new Map<number, Set<Watched>>();
  private readonly buf = Buffer.alloc(16 * 1024);

  constructor(private readonly client: Client) {}

  /** size is the number of directories watched. */
  get size(): number {
    let n = 0;
    for (const s of this.byWd.values()) n += s.size;
    return n;
  }

  /**
   * watch asks the gofer to watch directory `dir` (its fid; the caller set the
   * connection's credentials) and gives it a new generation; false when it cannot be
   * watched (not over 9P2000.L.fd, not a local file system, the bound reached).
   */
  watch(dir: Watched): boolean {
    if (this.broken || !dir.isDir) return false;
    if (dir.watchGen !== 0) return true;
    try {
      return this.adopt(dir, this.client.sync.cacheWatch(dir.fid));
    } catch {
      return false;
    }
  }

  /**
   * adopt takes the cache watch `r` the gofer just set (Tcachewatch) as `dir`'s, with a
   * new generation (or, for no directory, ends it: it was set on a file not used), and
   * the connection's descriptor when it came with it. It tells whether `dir` is watched.
   */
  adopt(dir: Watched | null, r: { wd: number; fd: number }): boolean {
    if (r.fd >= 0) {
      if (this.fd < 0 && !this.broken) this.fd = r.fd;
      else host.close(r.fd); // a second instance: never asked for, not used
    }
    if (this.fd < 0 || !dir || !dir.isDir || dir.watchGen !== 0) {
      this.client.uncacheWatch(r.wd).catch(() => undefined);
      return dir !== null && dir.watchGen !== 0;
    }
    dir.cacheWd = r.wd;
    dir.watchGen = nextGen++;
    let set = this.byWd.get(r.wd);
    if (!set) this.byWd.set(r.wd, (set = new Set()));
    set.add(dir);
    return true;
  }

  /**
   * drain reads what the host reported since the last drain and ends the trust of each
   * event's directory (of all of them on an overflow, or when the descriptor fails).
   * It tells whether anything may still be trusted.
   */
  drain(): boolean {
    if (this.broken || this.fd < 0) return false;
    if (this.byWd.size === 0) return false;
    for (;;) {
      const got = inotify.readEvents(this.fd, this.buf);
      if (typeof got === 'number') {
        if (got === -EAGAIN) return this.byWd.size > 0;
        this.broken = true;
        this.untrustAll();
        return false;
      }
      if (got.length === 0) return this.byWd.size > 0;
      for (const e of got) {
        if (e.mask & inotify.IN_Q_OVERFLOW) this.untrustAll();
        else this.untrust(e.wd);
      }
    }
  }

  /** confirms tells whether `child`, cached as an entry of `dir`, needs no check with
   * the gofer (see the module comment); drain first (once for several). A directory a
   * path walk goes `through` (not the walk's last name) needs no watch of its own: what
   * the walk uses of it (that the name still leads to it, its permissions) is reported
   * to its parent's watch; its own attributes are not used. */
  confirms(dir: Watched, child: Watched, through = false): boolean {
    if (dir.watchGen === 0 || child.seenGen !== dir.watchGen) return false;
    return child.isDir ? through || child.watchGen !== 0 : child.attr.nlink <= 1;
  }

  /** release ends `dir`'s watch (its inode is evicted). */
  release(dir: Watched): void {
    const wd = dir.cacheWd;
    if (wd < 0) return;
    dir.cacheWd = -1;
    dir.watchGen = 0;
    const set = this.byWd.get(wd);
    if (set?.delete(dir) && set.size === 0) this.byWd.delete(wd);
    this.client.uncacheWatch(wd).catch(() => undefined);
  }

  /** end closes the descriptor (the connection is let go of). */
  end(): void {
    this.untrustAll();
    this.broken = true;
    if (this.fd >= 0) host.close(this.fd);
    this.fd = -1;
  }

  private untrust(wd: number): void {
    const set = this.byWd.get(wd);
    if (!set) return;
    for (const dir of [...set]) this.release(dir);
  }

  private untrustAll(): void {
    for (const wd of [...this.byWd.keys()]) this.untrust(wd);
  }
}

const byClient = new WeakMap<Client, CacheWatches>();

/** cacheWatchesOf returns the cache watches of gofer connection `client`. */
export function cacheWatchesOf(client: Client): CacheWatches {
  let w = byClient.get(client);
  if (!w) byClient.set(client, (w = new CacheWatches(client)));
  return w;
}

/** endCacheWatches closes the cache-watch descriptor of a connection about to be closed. */
export function endCacheWatches(client: Client): void {
  byClient.get(client)?.end();
}
