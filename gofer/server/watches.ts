/**
 * WatchTable is one connection's host inotify watches (Twatch, Tunwatch, Tnotify): one
 * host inotify instance, made on the first Twatch, whose events are queued here until a
 * Tnotify takes them.
 *
 * Bounds: at most MAX_WATCHES watches per connection (ENOSPC beyond, as Linux's
 * max_user_watches), at most MAX_QUEUED events queued (then one IN_Q_OVERFLOW, as
 * Linux's max_queued_events), at most MAX_NOTES events per Rnotify.
 *
 * The client's own changes: a request of the connection that changes a file makes the
 * host queue events the client has already reported to its own watchers. The queue is
 * therefore read before each changing request (what it holds is the host's) and after
 * it: what it holds then for the names the request changed (handlers/notify.ts ownEvents), or for a watched
 * file itself, the request made, and is dropped; the rest is the host's (a host change
 * made meanwhile to another name). A request that only reads (a walk, a listing, a read)
 * drops only the events of reading (inotify.READ_EVENTS): a host change to the same file
 * meanwhile is still reported. Changes the client makes without a request (writes
 * through a passed descriptor) are followed by a Tnotify barrier naming the file, which
 * drops what the host queued for it likewise; its reads and read-only closes, by a
 * barrier with NOTIFY_READS, which drops only the events of reading.
 *
 * Only files of an export are watched: a watch is added on a fid's own O_PATH
 * descriptor (hostfs/inotify.ts addWatch), a directory or a regular file.
 */
import { Errno } from '../../native/libc';
import { MAX_NOTES, NOFID, type Note } from '../p9';
import * as inotify from '../hostfs/inotify';
import type { File } from './file';
import { WatchRefs } from './watch-refs';

/** MAX_WATCHES bounds one connection's watches (Linux's max_user_watches answers ENOSPC). */
export const MAX_WATCHES = 8192;
/** MAX_QUEUED bounds the events queued for one connection (Linux's max_queued_events). */
export const MAX_QUEUED = 16384;

const readBuf = Buffer.alloc(64 * 1024);

/** WatchTable holds one connection's watches and its queue of host events. */
export class WatchTable {
  /** parked is the tag of a Tnotify waiting for events (-1 when none waits). */
  parked = -1;
  private readonly watches = new WatchRefs(MAX_WATCHES);
  /** watched is the File each wd was first added for: its name (kept current by renames)
   * tells whether the events of that watched file itself are a request's own. */
  private readonly watched = new Map<number, File>();
  private queue: Note[] = [];

  /** ifd is the host inotify instance (-1 until the first watch). */
  get ifd(): number {
    return this.watches.ifd;
  }

  /** size is the number of watches. */
  get size(): number {
    return this.watches.size;
  }

  /** add watches `file` (a directory or a regular file) and returns its wd, or -errno. */
  add(file: File): number {
    if (!file.isDir && !file.isRegular) return -Errno.EOPNOTSUPP;
    const wd = this.watches.add(file.fd);
    if (wd === -Errno.ENOSPC) this.drain(null); // the IN_IGNORED of a watch refused: dropped
    if (wd < 0) return wd;
    if (!this.watched.has(wd)) this.watched.set(wd, file);
    return wd;
  }

  /** remove drops a reference to watch `wd`; the last one ends the watch (0 or -EINVAL). */
  remove(wd: number): number {
    const r = this.watches.release(wd);
    if (r !== 1) return r;
    // What the host reported of others before is still the host's; of this one, dropped.
    this.drain(null);
    this.watched.delete(wd);
    this.queue = this.queue.filter((e) => e.wd !== wd);
    return 0;
  }

  /**
   * drain reads every event the host has queued and queues them (an IN_IGNORED ends its
   * watch), but for the client's own: with `own`, the events of `kinds` (IN_* bits, all
   * by default) naming one of `own` in a watched directory, and those of a watched file
   * itself whose name is one of `own` (another watched file's are the host's: a file
   * followed by tail -f must not lose an append made while the client changed another).
   * Events of watches no longer held (ended by Tunwatch) are dropped.
   */
  drain(own: readonly string[] | null, kinds = inotify.ALL_EVENTS): void {
    if (this.ifd < 0) return;
    for (;;) {
      const got = inotify.readEvents(this.ifd, readBuf);
      if (typeof got === 'number') return; // EAGAIN: empty
      if (got.length === 0) return;
      for (const e of got) {
        if (e.mask & inotify.IN_Q_OVERFLOW) {
          this.push({ wd: NOFID, mask: inotify.IN_Q_OVERFLOW, cookie: 0, name: '' });
          continue;
        }
        if (!this.watches.has(e.wd)) continue;
        if (e.mask & inotify.IN_IGNORED) {
          this.watches.forget(e.wd);
          this.watched.delete(e.wd);
        } else if (own && (e.mask & kinds) !== 0 && own.includes(e.name === '' ? this.watched.get(e.wd)?.name ?? '' : e.name)) {
          continue;
        }
        this.push({ wd: e.wd, mask: e.mask, cookie: e.cookie, name: e.name });
      }
    }
  }

  private push(e: Note): void {
    const last = this.queue[this.queue.length - 1];
    if (this.queue.length >= MAX_QUEUED) {
      if (last?.mask !== inotify.IN_Q_OVERFLOW) this.queue.push({ wd: NOFID, mask: inotify.IN_Q_OVERFLOW, cookie: 0, name: '' });
      return;
    }
    this.queue.push(e);
  }

  /** pending is true when events wait to be taken. */
  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** take removes and returns up to MAX_NOTES queued events, oldest first. */
  take(): Note[] {
    return this.queue.splice(0, MAX_NOTES);
  }

  /** close ends every watch and the instance (Tversion, or the end of the connection). */
  close(): void {
    this.watches.close();
    this.watched.clear();
    this.queue = [];
    this.parked = -1;
  }
}
