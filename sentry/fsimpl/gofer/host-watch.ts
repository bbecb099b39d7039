/**
 * Host changes to watched files of bind mounts (9P2000.L.fd's Twatch/Tunwatch/Tnotify,
 * see the README's gofer section). The first inotify watch on a file of a bind mount
 * (Inode.watchStarted) asks the gofer to watch the host file; one Tnotify long poll per
 * gofer connection is kept parked, and its replies (received by a synchronous call in
 * progress, or, while the sentry is idle, when the reactor finds the gofer's socket
 * readable) are checked like any peer's message and delivered to the sandbox's watches
 * (vfs/fsnotify.ts notifyExternal) from the event loop, never inside a syscall handler.
 *
 * The sandbox's own changes and reads are reported by the VFS already; the gofer drops the
 * host's echo of its requests, and the sentry follows what it changes without a request (a
 * write or truncate through a passed descriptor of a watched file, the close of a writable
 * descriptor, the write-back of a MAP_SHARED mapping's page cache) with a barrier naming
 * the file (barrier()): the gofer drops what it has not read yet, the sentry what came
 * before the barrier's reply. What it reads through a passed descriptor, and the close of
 * a read-only one, is followed by a reads-only barrier, which drops only IN_OPEN,
 * IN_ACCESS and IN_CLOSE_NOWRITE: a host change made meanwhile is still reported.
 *
 * Routes: the gofer's wds are per connection; a wd leads to every (file system, inode)
 * that watches that host file (two bind mounts of one directory share it).
 */
import type { Client } from '../../../gofer/p9/client';
import { FdTransport } from '../../../gofer/p9/client';
import { GetattrMask, NOFID, type Note } from '../../../gofer/p9';
import { IN_ACCESS, IN_ATTRIB, IN_CLOSE_NOWRITE, IN_DELETE_SELF, IN_IGNORED, IN_ISDIR, IN_OPEN, IN_Q_OVERFLOW, IN_UNMOUNT, notifyExternal } from '../../vfs/fsnotify';
import { EPOLLIN, reactor } from '../../net/reactor';
import type { GoferFs, GoferInode } from './gofer-fs';

/** HOST_MASK holds every bit a gofer's event may carry (gofer/hostfs/inotify.ts
 * HOST_EVENTS and the kernel's own); an event with any other is dropped. */
const HOST_MASK = 0xfff | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ISDIR;
/** READ_EVENTS are the events of reading a file, which a reads-only barrier covers. */
const READ_EVENTS = IN_ACCESS | IN_OPEN | IN_CLOSE_NOWRITE;
/** NAME_MAX bounds an event's name, as Linux's names. */
const NAME_MAX = 255;

/** acceptable tells whether an event of the gofer may be used: only known mask bits; a
 * queue overflow without a wd, anything else with one; a name empty (the watched file
 * itself) or valid. Anything else is dropped (the gofer is a peer). */
export function acceptable(e: Note): boolean {
  if ((e.mask & ~HOST_MASK) !== 0) return false;
  if ((e.wd === NOFID) !== ((e.mask & IN_Q_OVERFLOW) !== 0)) return false;
  return e.name === '' || validName(e.name);
}

/** Route is one watched inode of one file system, reached by a gofer wd; `fid` is its
 * own fid of the file (the inode's may be released by a revalidation that replaces it),
 * for reading its link count. */
interface Route {
  fs: GoferFs;
  inode: GoferInode;
  wd: number;
  fid: number;
}

/** validName tells whether an event's name may be used: one component, no NUL, not `.`
 * or `..`, at most NAME_MAX bytes (the gofer is a peer: its names are checked). */
export function validName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0') && Buffer.byteLength(name) <= NAME_MAX;
}

/** NotifyConn is the host watches of one gofer connection and its long poll. */
class NotifyConn {
  private readonly routes = new Map<number, Route[]>();
  private polling = false;
  private pumped = false;
  private queued: Note[] = [];
  private scheduled = false;

  constructor(readonly client: Client) {}

  get size(): number {
    return this.routes.size;
  }

  add(r: Route): void {
    const list = this.routes.get(r.wd) ?? [];
    list.push(r);
    this.routes.set(r.wd, list);
    this.poll();
  }

  remove(r: Route): void {
    const list = this.routes.get(r.wd)?.filter((x) => x !== r) ?? [];
    if (list.length) this.routes.set(r.wd, list);
    else this.routes.delete(r.wd);
  }

  /**
   * end stops listening for the connection's host events, before it is closed
   * (releaseConnection): the reactor lets go of its descriptor (a closed descriptor's
   * number is soon another's) and no route is left to deliver to.
   */
  end(): void {
    const t = this.client.engine.transport;
    if (this.pumped && t instanceof FdTransport) reactor().unwatch(t.fd);
    this.pumped = false;
    this.routes.clear();
    this.queued = [];
  }

  /** poll keeps one Tnotify parked while something is watched. */
  private poll(): void {
    if (this.polling || this.routes.size === 0 || this.client.engine.closedBy) return;
    const t = this.client.engine.transport;
    if (!this.pumped && t instanceof FdTransport) {
      // While idle, the sentry learns of the reply through the reactor.
      reactor().watch(t.fd, EPOLLIN, () => t.pump());
      this.pumped = true;
    }
    this.polling = true;
    this.client.waitNotify((err, events) => {
      this.polling = false;
      if (err) return; // the connection ended (or the gofer refused): no more host events
      this.queued.push(...events);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.deliver());
      }
      this.poll();
    });
  }

  /** deliver hands the queued events to the sandbox's watches, checking each. */
  private deliver(): void {
    this.scheduled = false;
    const events = this.queued;
    this.queued = [];
    for (const e of events) {
      if (!acceptable(e)) continue;
      if (e.wd === NOFID) {
        for (const list of this.routes.values()) for (const r of list) notifyExternal(r.fs, r.inode.ino, IN_Q_OVERFLOW, 0, null);
        continue;
      }
      for (const r of [...(this.routes.get(e.wd) ?? [])]) this.route(r, e);
    }
  }

  private route(r: Route, e: Note): void {
    const { fs, inode } = r;
    if (e.name !== '' && !inode.isDir) return; // a file's own watch names nothing
    inode.markStale();
    if (e.mask & IN_IGNORED) {
      // The host ended the watch (the file is gone, or its file system unmounted).
      fs.hostWatches.forget(inode.ino);
      notifyExternal(fs, inode.ino, IN_IGNORED, 0, null);
      return;
    }
    notifyExternal(fs, inode.ino, e.mask, e.cookie, e.name === '' ? null : e.name);
    // A file whose last link went is gone for the sandbox's watches at once, as when the
    // sandbox unlinks it (the host reports IN_DELETE_SELF only once the gofer's own
    // descriptors of it are closed).
    if (e.name === '' && e.mask === IN_ATTRIB && !inode.isDir && linkCount(r) === 0) {
      notifyExternal(fs, inode.ino, IN_DELETE_SELF, 0, null);
    }
  }

  /**
   * barrier tells the gofer that what the host queued so far for `name` (and watched
   * files themselves) is the sandbox's own. What the gofer had already read of it came
   * before the barrier's reply, in a parked Tnotify's: those events, received and not yet
   * delivered, are dropped here (`wd`, the file's own watch, or -1).
   */
  barrier(name: string, wd: number, readsOnly: boolean): void {
    if (this.routes.size === 0) return;
    try {
      this.client.sync.notifyBarrier(name, readsOnly);
    } catch {
      // a gofer without barriers: its echo is reported
    }
    const kinds = readsOnly ? READ_EVENTS : ~0;
    this.queued = this.queued.filter((e) => (e.mask & kinds) === 0 || (e.name !== name && !(e.name === '' && e.wd === wd)));
  }
}

/** linkCount reads a watched file's link count through its route's fid (-1 on failure). */
function linkCount(r: Route): number {
  try {
    return r.fs.client.sync.getattr(r.fid, GetattrMask.NLINK).nlink;
  } catch {
    return -1;
  }
}

const conns = new WeakMap<Client, NotifyConn>();

function connOf(client: Client): NotifyConn {
  let c = conns.get(client);
  if (!c) conns.set(client, (c = new NotifyConn(client)));
  return c;
}

/** endHostWatches ends the host watches of a gofer connection about to be closed (NotifyConn.end). */
export function endHostWatches(client: Client): void {
  conns.get(client)?.end();
}

/** HostWatches is the host watches of one GoferFs, by inode number. */
export class HostWatches {
  private readonly byIno = new Map<number, Route>();

  constructor(private readonly fs: GoferFs) {}

  /** start asks the gofer to watch `inode`'s host file (a directory or regular file of a
   * bind mount, over 9P2000.L.fd); elsewhere nothing changes behind the sandbox, nor
   * once the connection is released (a deleted pod member's: nothing is heard any more). */
  start(inode: GoferInode): void {
    const { client } = this.fs;
    if (!this.fs.revalidate || !client.fdPassing || this.fs.released || this.byIno.has(inode.ino)) return;
    if (!inode.isDir && !inode.isRegular) return;
    // As container root: the task's own read permission was checked by the sentry.
    this.fs.asTask();
    const { fid } = client.sync.walk(inode.fid, []);
    let wd: number;
    try {
      wd = client.sync.watch(fid);
    } catch (e) {
      client.clunk(fid).catch(() => undefined);
      throw e;
    }
    const r = { fs: this.fs, inode, wd, fid };
    this.byIno.set(inode.ino, r);
    connOf(client).add(r);
  }

  /** end drops the gofer's watch of `inode`. */
  end(inode: GoferInode): void {
    const r = this.byIno.get(inode.ino);
    if (!r) return;
    this.forget(inode.ino);
    this.fs.client.unwatch(r.wd).catch(() => undefined);
  }

  /** forget drops the route of `ino` (and its fid) without ending the gofer's watch. */
  forget(ino: number): void {
    const r = this.byIno.get(ino);
    if (!r) return;
    this.byIno.delete(ino);
    connOf(this.fs.client).remove(r);
    this.fs.client.clunk(r.fid).catch(() => undefined);
  }

  /** watched tells whether any of the inode numbers `inos` is watched on the host. */
  watched(...inos: number[]): boolean {
    return this.byIno.size > 0 && inos.some((i) => this.byIno.has(i));
  }

  /** any tells whether this file system watches anything on the host. */
  get any(): boolean {
    return this.byIno.size > 0;
  }

  /** barrier follows a change the sandbox made to file `name` (inode number `ino`)
   * without a gofer request, or with `readsOnly` a read or a read-only close (see the top). */
  barrier(name: string, ino: number, readsOnly = false): void {
    connOf(this.fs.client).barrier(name, this.byIno.get(ino)?.wd ?? -1, readsOnly);
  }
}
