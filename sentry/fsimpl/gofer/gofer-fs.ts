/**
 * The container's files served by the gofer over 9P2000.L (the rootfs and each bind
 * mount). Every inode holds an unopened fid; opening clones it and sends Tlopen, and
 * with the 9P2000.L.fd dialect the reply for a regular file brings the host descriptor,
 * so reads and writes go straight to it (pread/pwrite by the sentry, no round trip). A
 * directory never has one (the gofer keeps it: carriesFd): an open directory keeps its
 * opened fid, lists it with Treaddir and syncs it with Tfsync. Attributes are cached
 * per inode and refreshed after changes; the sandbox is the only writer of its rootfs.
 * A watched file of a bind mount also hears of the host's changes (host-watch.ts).
 */
import { Errno, fail, LinuxError } from '../../kernel/errors';
import { Credentials } from '../../kernel/credentials';
import type { Task } from '../../kernel/task';
import type { Block } from '../../kernel/waiter';
import { FileDescription, FMODE_EXEC, O_ACCMODE, O_APPEND, O_DIRECTORY, O_EXCL, O_RDONLY } from '../../vfs/file';
import { Inode, S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, type DirEntry, type FileSystem, type SetAttr, type Stat, type StatFs } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import type { FileAttrs } from '../../vfs/permission';
import { XATTR_REPLACE } from '../../../gofer/p9/xattr';
import type { Client, Attr, PendingWalkList, Walked, WalkList, WatchList } from '../../../gofer/p9/client';
import type { Received } from '../../../gofer/p9/client-engine';
import { GetattrMask, LOPEN_EXEC, SetattrMask, type DirStat, type Message, type Qid } from '../../../gofer/p9';
import * as host from '../../../gofer/hostfs/sys';
import { allocDev } from '../tmpfs/tmpfs';
import { openNodeOfHost } from '../dev/device-ops';
import type { MemoryFile } from '../../../platform';
import { PageCache, type HostIo } from './page-cache';
import { openFifo, Pipe } from '../pipe/pipe';
import { endHostWatches, HostWatches } from './host-watch';
import { PHASES, phaseCount } from '../../../native/phases';
import { cacheWatchesOf, endCacheWatches } from './cache-watch';

/** p9 runs a 9P call, turning its error into the errno the application sees (asLinuxError). */
function p9<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asLinuxError(e as Error);
  }
}

/**
 * asLinuxError turns a 9P call's error into the errno the application sees: the
 * server's (or the client's) errno, except that a connection that is gone (the client's
 * ECONNRESET, e.g. a deleted pod member's, see releaseConnection) is EIO, as a file
 * system whose device went away. An error without an errno is returned as it is.
 */
function asLinuxError(e: Error): Error {
  const errno = (e as { errno?: number }).errno;
  if (typeof errno !== 'number' || errno <= 0) return e;
  return new LinuxError(errno === Errno.ECONNRESET ? Errno.EIO : errno);
}

/** onConnection holds the file systems served over each gofer connection (releaseConnection). */
const onConnection = new WeakMap<Client, Set<GoferFs>>();

/**
 * releaseConnection lets go of a gofer connection whose file systems no namespace mounts
 * any more (a deleted pod member's: kernel/containers.ts, after the sweep dropped their
 * dentries, which evicted the inodes nothing holds: their fids clunked and idle host
 * descriptors closed). The idle host descriptors that remain cached (of inodes a dentry
 * still names) are closed, the connection's host watches end, the requests still in
 * flight (those clunks) are answered, and the connection is closed. A file still open
 * (another container's process may hold one, passed over a Unix socket) keeps its host
 * descriptor until it is closed, which then closes it at once; what needs the connection
 * (a directory's listing, a lookup below it) fails with EIO.
 */
export function releaseConnection(client: Client): void {
  for (const gfs of onConnection.get(client) ?? []) {
    gfs.released = true;
    gfs.dropAhead();
  }
  for (let i = idle.length - 1; i >= 0; i--) {
    const { inode, acc } = idle[i];
    if (!inode.gfs.released) continue;
    idle.splice(i, 1);
    inode.dropIdleHostFd(acc);
  }
  endHostWatches(client);
  endCacheWatches(client);
  const t = client.engine.transport;
  if (!client.engine.closedBy) t.drive?.call(t, () => (client.engine.inFlight === 0 && client.detached === 0) || client.engine.closedBy !== '');
  client.close();
}

/** GoferFs is one 9P-served tree (an attach of the gofer). */
export class GoferFs implements FileSystem {
  readonly name = '9p';
  readonly dev = allocDev();
  readonly root: GoferInode;
  /** caches holds the page cache of each host file mapped MAP_SHARED, by qid path (page-cache.ts). */
  readonly caches = new Map<bigint, PageCache>();
  /**
   * fifos holds the pipe of each FIFO of this file system that is open, by qid path: a
   * FIFO is a meeting point of the sandbox's processes, served in the sentry (the host's
   * FIFO is never opened, so no host process takes part, as in gVisor).
   */
  private readonly fifos = new Map<bigint, Pipe>();
  /** hostWatches are the files of this tree the gofer watches on the host (host-watch.ts). */
  readonly hostWatches = new HostWatches(this);
  /** released is set once the connection is let go of (releaseConnection): a host
   * descriptor is closed as soon as no open file uses it, never cached idle. */
  released = false;
  /** ahead is the one listing read ahead of need in this tree (GoferInode.readahead), and
   * the directory it was asked of. */
  ahead: { dir: GoferInode; pending: PendingWalkList } | null = null;

  /** dropAhead gives up the listing read ahead, if any (its fid is clunked). */
  dropAhead(): void {
    this.ahead?.pending.drop();
    this.ahead = null;
  }

  /** fifoPipe returns the pipe of the FIFO with qid path `path`, dropping those no end holds. */
  fifoPipe(path: bigint): Pipe {
    for (const [k, p] of this.fifos) if (p.readers === 0 && p.writers === 0) this.fifos.delete(k);
    let p = this.fifos.get(path);
    if (!p) this.fifos.set(path, (p = new Pipe()));
    return p;
  }

  /**
   * `revalidate` is set for a bind mount, whose files the host may change behind the
   * sandbox's back: every lookup of a cached name then walks it again (Twalk + Tgetattr)
   * and keeps the cached dentry only if the name still leads to the same file (qid path
   * and type; for a non-directory also its ctime), with its attributes refreshed; else
   * the name is looked up afresh; except in a directory the gofer watches for the host's
   * changes while none was reported (cache-watch.ts). The rootfs is the sandbox's own: never.
   */
  constructor(readonly client: Client, aname: string, readonly ro: boolean, readonly revalidate = false) {
    const { fid } = p9(() => client.sync.attach(aname, 'root', 0));
    this.root = new GoferInode(this, fid, p9(() => client.sync.getattr(fid, GetattrMask.BASIC)));
    let fss = onConnection.get(client);
    if (!fss) onConnection.set(client, (fss = new Set()));
    fss.add(this);
  }

  /**
   * asTask makes the gofer's next lookups, opens and changes for the task with credentials
   * `c` (its effective ids, groups and filesystem capabilities), sending Tsetcreds when they
   * differ from the last ones sent on the connection (shared by every GoferFs on it).
   * Without a task (the sentry's own lookups), container root's. In plain 9P2000.L, or
   * when the gofer cannot switch, it does nothing.
   */
  asTask(c: Credentials = KERNEL): void {
    const conn = connState(this.client);
    if (!conn.enabled) return;
    const key = credsKey(c);
    if (key === conn.last) return;
    try {
      this.client.sync.setcreds(c.euid, c.egid, c.groups, Number(c.caps.effective & FS_CAPS));
      conn.last = key;
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (errno === Errno.EOPNOTSUPP) {
        conn.enabled = false;
        return;
      }
      conn.last = '';
      throw asLinuxError(e as Error);
    }
  }

  /**
   * actsForTask tells whether the gofer's last confirmed switch on this connection was to
   * a task's credentials other than container root's (asTask): a task's are never more
   * than container root's, so a walk made as them reaches no more than one made as root.
   */
  actsForTask(): boolean {
    const conn = connState(this.client);
    return conn.enabled && conn.last !== '' && conn.last !== KERNEL_KEY;
  }

  statfs(): StatFs {
    const s = p9(() => this.client.sync.statfs(this.root.fid));
    return { type: 0x01021997, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namelen: s.namelen, flags: 0 };
  }
}

/** FS_CAPS are the filesystem capabilities passed to the gofer: CAP_CHOWN,
 * CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER and CAP_FSETID (bits 0 to 4). */
const FS_CAPS = 0x1fn;

/** ConnCreds is what the sentry last told one gofer connection about its caller. */
interface ConnCreds {
  enabled: boolean;
  last: string;
}

const conns = new WeakMap<Client, ConnCreds>();

/** KERNEL are the credentials of what the sentry does for no task: container root's. */
const KERNEL = new Credentials(0, 0);

/** credsKey names what Tsetcreds sends for `c` (ids, groups, filesystem capabilities). */
function credsKey(c: Credentials): string {
  return `${c.euid}:${c.egid}:${Number(c.caps.effective & FS_CAPS)}:${c.groups.join(',')}`;
}

const KERNEL_KEY = credsKey(KERNEL);

function connState(client: Client): ConnCreds {
  let st = conns.get(client);
  if (!st) {
    st = { enabled: client.fdPassing, last: '' };
    conns.set(client, st);
  }
  return st;
}

/**
 * sameFile tells whether attributes just read for a cached file's name are still that
 * file's (qid path and type, format; for a non-directory also its ctime: a file removed
 * and another made under its name may get its inode number back, while a directory's
 * ctime moves with every entry made in it and a directory cannot be re-created without
 * emptying it first); if so the cached attributes are refreshed.
 */
function sameFile(child: GoferInode, a: Attr): boolean {
  const same = a.qid.path === child.attr.qid.path && a.qid.type === child.attr.qid.type && (a.mode & S_IFMT) === (child.mode & S_IFMT)
    && (child.isDir || (a.ctimeSec === child.attr.ctimeSec && a.ctimeNsec === child.attr.ctimeNsec));
  if (same) {
    child.attr = a;
    child.mode = a.mode;
  }
  return same;
}

function inoOf(q: Qid): number {
  return Number(q.path & 0xffffffffffffn);
}

/** IDLE_FDS bounds the host descriptors kept open for files nobody has open right now. */
const IDLE_FDS = 256;
const idle: Array<{ inode: GoferInode; acc: number }> = [];

interface CachedFd {
  fd: number;
  refs: number;
}

/** GoferInode is a file of a GoferFs. */
export class GoferInode extends Inode {
  private target: string | null = null;
  /** hostFds caches the descriptors the gofer passed, by access mode, shared by every open
   * (made on first use: most inodes of a walk are only stat'ed). */
  private hostFds: Map<number, CachedFd> | null = null;
  /** walkedFid is the fid once walked to (-1 for an entry of a listing not used yet). */
  private walkedFid: number;
  /** attrStale says the host reported a change: the attributes are read again when asked. */
  private attrStale = false;
  /** echoName is the name this file was opened by while it (or its directory) was
   * watched on the host: the close of a host descriptor then needs a barrier. */
  echoName: string | null = null;
  /** evicted is set once the fid is released (evict): nothing is asked of it any more. */
  private evicted = false;
  /** watchGen, seenGen and cacheWd are this file's cache watch state on a bind mount
   * (cache-watch.ts): a directory's watch generation while it holds, the generation of
   * its directory's watch it was last confirmed in, the directory's watch. */
  watchGen = 0;
  seenGen = 0;
  cacheWd = -1;

  /**
   * An inode comes with its fid (`fid`, after a lookup or a create), or with -1,
   * `originDir`, the directory whose listing (listChildren) named it, and `originName`,
   * its name there: its fid is then walked to on first use (see fid). Two fields rather
   * than one object: a listing makes an inode for each of its entries.
   */
  constructor(readonly gfs: GoferFs, fid: number, public attr: Attr, private originDir: GoferInode | null = null, private originName = '') {
    super(gfs, inoOf(attr.qid), attr.mode);
    this.walkedFid = fid;
  }

  /**
   * fid is the file's fid, walked to from the listed directory on first use when the
   * inode came from a listing: one Twalkstat as container root (the task that listed the
   * directory could read and search it), checked to reach the same file (qid path and
   * type), else ESTALE, as a revalidation finds it changed. When the connection acts for
   * a task (a path walk in progress), the walk is first tried as that task, which reaches
   * no more than root would: a task's walk through listed directories then costs no
   * Tsetcreds to root and back per directory (6 of a busybox true's 8 at boot); only if
   * it fails is it made again as root.
   */
  get fid(): number {
    if (this.walkedFid >= 0) return this.walkedFid;
    const name = this.originName;
    const dir = this.originDir!.fid;
    let r = this.gfs.actsForTask() ? p9(() => this.c.walkChain(dir, [name])) : null;
    if (!r || r.error || r.walked.length !== 1) {
      this.gfs.asTask();
      r = p9(() => this.c.walkChain(dir, [name]));
    }
    const { walked, error } = r;
    if (error || walked.length !== 1) throw error ?? new LinuxError(Errno.ESTALE);
    if (!this.adopt(walked[0])) fail(Errno.ESTALE);
    return this.walkedFid;
  }

  /** adopt takes the fid just walked to from the listed directory as this file's, when
   * it reaches the same file (qid path and type); else it clunks it and says no. */
  private adopt(w: Walked): boolean {
    if (w.attr.qid.path !== this.attr.qid.path || w.attr.qid.type !== this.attr.qid.type) {
      this.gfs.client.clunkDetached(w.fid);
      return false;
    }
    this.walkedFid = w.fid;
    this.forgetOrigin();
    return true;
  }

  private forgetOrigin(): void {
    this.originDir = null;
  }

  private get c() {
    return this.gfs.client.sync;
  }

  override get readonly(): boolean {
    return this.gfs.ro;
  }

  /** revalidate checks a cached child against the gofer on a bind mount (GoferFs): a
   * Twalk, Tgetattr and Tclunk of the name in one round trip, unless this directory's
   * cache watch confirms it (cache-watch.ts). */
  override revalidate(name: string, child: Inode, c?: Credentials): boolean {
    if (!this.gfs.revalidate || !(child instanceof GoferInode) || child.gfs !== this.gfs) return true;
    if (this.watchGen !== 0 && child.seenGen === this.watchGen) {
      const w = cacheWatchesOf(this.gfs.client);
      if (w.drain() && w.confirms(this, child)) return true;
    }
    return this.lookupChain([name], c, [child]).valid === 1;
  }

  /** evict releases the fid once no dentry names the file (vfs/dentry.ts): the gofer
   * closes its descriptor. Idle cached host descriptors go too. */
  override evict(): void {
    for (const [acc, cfd] of this.hostFds ?? []) {
      if (cfd.refs > 0) continue;
      const i = idle.findIndex((e) => e.inode === this && e.acc === acc);
      if (i >= 0) idle.splice(i, 1);
      this.dropIdleHostFd(acc);
    }
    this.evicted = true;
    if (this.gfs.ahead?.dir === this) this.gfs.dropAhead();
    if (this.cacheWd >= 0) cacheWatchesOf(this.gfs.client).release(this);
    if (this.walkedFid < 0) this.forgetOrigin();
    if (this === this.gfs.root || this.walkedFid < 0) return;
    this.gfs.client.clunkDetached(this.walkedFid);
  }

  /** watchStarted and watchEnded start and stop the gofer's watch of the host file. */
  override watchStarted(): void {
    this.gfs.hostWatches.start(this);
  }

  override watchEnded(): void {
    this.gfs.hostWatches.end(this);
  }

  /** markStale makes the next stat read the attributes again (the host changed the file). */
  markStale(): void {
    this.attrStale = true;
  }

  /** closeHostFd closes a host descriptor of this file; its close is an event the host
   * reports (IN_CLOSE_WRITE, IN_CLOSE_NOWRITE), which a barrier marks as the sandbox's. */
  closeHostFd(fd: number, acc: number): void {
    host.close(fd);
    if (this.echoName !== null && this.gfs.hostWatches.any) this.gfs.hostWatches.barrier(this.echoName, this.ino, (acc & O_ACCMODE) === O_RDONLY);
  }

  /** pageCache is this file's page cache while something maps it, else null. */
  get pageCache(): PageCache | null {
    return this.gfs.caches.get(this.attr.qid.path) ?? null;
  }

  /**
   * cacheFor returns the file's page cache, made (with the size `size`, the host file's
   * as an open description sees it) when the file has none: every inode of the host file
   * shares it, since a bind mount's revalidation may give one file several inodes.
   */
  cacheFor(mf: MemoryFile, size: number): PageCache {
    const key = this.attr.qid.path;
    let c = this.gfs.caches.get(key);
    if (!c) {
      const made = new PageCache(mf, size, () => {
        if (this.gfs.caches.get(key) === made) this.gfs.caches.delete(key);
      });
      this.gfs.caches.set(key, (c = made));
    }
    return c;
  }

  /** refresh re-reads the attributes from the gofer. */
  refresh(): void {
    this.attr = p9(() => this.c.getattr(this.fid, GetattrMask.BASIC));
    this.mode = this.attr.mode;
  }

  /** freshAttr is the cached attributes, read again first when the host reported a change. */
  private freshAttr(): Attr {
    if (this.attrStale && !this.evicted) {
      this.attrStale = false;
      try {
        this.refresh();
      } catch {
        // the file may be gone: its last attributes stand
      }
    }
    return this.attr;
  }

  /** accessAttrs is the cached attributes themselves (mode, uid and gid, as stat shows
   * them), without a Stat made; a file whose owner or group is unmapped gets stat's. */
  override accessAttrs(): FileAttrs {
    const a = this.freshAttr();
    return (a.valid & GetattrMask.UNMAPPED) === 0 ? a : this.stat();
  }

  stat(): Stat {
    const a = this.freshAttr();
    return {
      dev: this.gfs.dev, ino: this.ino, mode: a.mode, nlink: a.nlink, uid: a.uid, gid: a.gid, rdev: a.rdev, size: a.size,
      blksize: a.blksize || 4096, blocks: a.blocks, atime: { sec: a.atimeSec, nsec: a.atimeNsec },
      mtime: { sec: a.mtimeSec, nsec: a.mtimeNsec }, ctime: { sec: a.ctimeSec, nsec: a.ctimeNsec },
      unmapped: (a.valid & GetattrMask.UNMAPPED) !== 0,
    };
  }

  /** lookup walks to a child as the task with credentials `c` (the gofer's lookup needs
   * search permission on this directory, checked by the host for that task). */
  override lookup(name: string, c?: Credentials): Inode {
    if (!this.isDir) fail(Errno.ENOTDIR);
    const { walked, error } = this.walkChain([name], c);
    if (error) throw error;
    return new GoferInode(this.gfs, walked[0].fid, walked[0].attr);
  }

  /**
   * lookupChain walks several names below this directory in one round trip (a Twalk and
   * a Tgetattr per name, pipelined: SyncClient.walkChain). The names whose dentries are
   * cached (`cached`, a prefix) are checked when this is a bind mount (GoferFs
   * revalidate), else skipped over; the chain stops at the first name that is missing,
   * changed, or cannot be walked from (a symlink, a file), without an error.
   */
  override lookupChain(names: readonly string[], c?: Credentials, cached: readonly Inode[] = []): { valid: number; inodes: Inode[] } {
    const known = cached.filter((i): i is GoferInode => i instanceof GoferInode && i.gfs === this.gfs);
    if (!this.isDir || known.length !== cached.length) return { valid: 0, inodes: [] };
    // Nothing to check (the rootfs), or the cached names the cache watches confirm: the
    // chain starts from the last of them.
    const skip = this.gfs.revalidate ? this.confirmedPrefix(known, names.length) : known.length;
    if (skip > 0) {
      const rest = names.slice(skip);
      if (rest.length === 0) return { valid: skip, inodes: [] };
      try {
        // A listed directory not walked to yet is walked to now: one the host replaced
        // since the drain (ESTALE) ends the valid part above it, as a check would.
        void known[skip - 1].fid;
      } catch {
        return { valid: skip - 1, inodes: [] };
      }
      const r = known[skip - 1].lookupChain(rest, c, known.slice(skip));
      return { valid: skip + r.valid, inodes: r.inodes };
    }
    // A listed name not walked to yet (its fid made on first use) that is gone or
    // changed ends the chain's valid part above it.
    let reachable = 0;
    for (; reachable < known.length; reachable++) {
      try {
        void known[reachable].fid;
      } catch {
        break;
      }
    }
    if (reachable < known.length) {
      if (reachable === 0) return { valid: 0, inodes: [] };
      return { valid: this.lookupChain(names.slice(0, reachable), c, known.slice(0, reachable)).valid, inodes: [] };
    }
    // The watch generations before the walk: what it reads is confirmed in them. A
    // directory of a bind mount whose cached name is checked (a second lookup below it)
    // is watched from then on, the watch set in the same round trip, before the walk.
    const gens = this.gfs.revalidate ? [this, ...known].map((d) => d.watchGen) : null;
    const watchFirst = gens !== null && known.length > 0 && this.watchGen === 0 && this.cacheWd === -1;
    const { walked } = this.walkChain(names, c, known, watchFirst);
    if (watchFirst) gens![0] = this.watchGen;
    let valid = 0;
    for (; valid < known.length && valid < walked.length; valid++) {
      if (!sameFile(known[valid], walked[valid].attr)) break;
    }
    if (valid < known.length) {
      // Changed or gone: what was walked below it came from a stale directory.
      for (const w of walked.slice(known.length)) this.gfs.client.clunkDetached(w.fid);
      if (gens) this.confirmed(gens, known.slice(0, valid));
      return { valid, inodes: [] };
    }
    const inodes = walked.slice(known.length).map((w) => new GoferInode(this.gfs, w.fid, w.attr));
    if (gens) this.confirmed(gens, [...known, ...inodes]);
    return { valid, inodes };
  }

  /** confirmedPrefix is how many of `known`, cached one below the other from this
   * directory on a bind mount, its cache watches confirm (cache-watch.ts), in a chain
   * of `names` names (all but the last are gone through). */
  private confirmedPrefix(known: readonly GoferInode[], names: number): number {
    if (known.length === 0 || this.watchGen === 0 || known[0].seenGen !== this.watchGen) return 0;
    const w = cacheWatchesOf(this.gfs.client);
    if (!w.drain()) return 0;
    let n = 0;
    for (let dir: GoferInode = this; n < known.length && w.confirms(dir, known[n], n < names - 1); n++) dir = known[n];
    return n;
  }

  /** confirmed marks `chain` (files just read by the gofer, one below the other from this
   * directory) as confirmed in their directory's watch generation `gens[i]` as it was
   * before the walk, where that watch still holds. */
  private confirmed(gens: readonly number[], chain: readonly GoferInode[]): void {
    for (let i = 0; i < chain.length && i < gens.length; i++) {
      const dir: GoferInode = i === 0 ? this : chain[i - 1];
      if (gens[i] !== 0 && dir.watchGen === gens[i]) chain[i].seenGen = gens[i];
    }
  }

  /**
   * listChildren lists this directory with every entry's attributes in one round trip
   * (9P2000.L.fd's Treaddirstat, as the task with credentials `c`), at most `max`
   * entries, each an inode whose fid is walked to on first use. On a bind mount (GoferFs
   * revalidate) only under a cache watch set first (cache-watch.ts: the entries are then
   * confirmed in it); never in plain 9P2000.L; null then, or when the listing fails (the
   * caller looks names up one by one).
   */
  override listChildren(max: number, c?: Credentials): Array<{ name: string; inode: Inode }> | null {
    if (!this.gfs.client.fdPassing || !this.isDir || max <= 0) return null;
    if (this.gfs.revalidate) return this.listWatched(max, c);
    try {
      this.gfs.asTask(c);
      let entries: DirStat[];
      if (this.walkedFid < 0) {
        // Itself listed and not walked to yet: the walk and the listing in one round trip.
        const dir = this.originDir!;
        const r = dir.walkListOf(dir.fid, this.originName, max);
        if (!r.walked || !this.adopt(r.walked) || r.list instanceof Error) return null;
        entries = r.list.entries;
      } else {
        entries = this.c.readdirStat(this.fid, 0, max).entries;
      }
      return this.listed(entries);
    } catch {
      return null;
    }
  }

  /** listWatched lists this directory of a bind mount under a cache watch set first, in
   * one round trip (Tcachewatch, then Treaddirstat: SyncClient.watchList; for a listed
   * directory not walked to yet, the walk first in the same round trip), as the task
   * with credentials `c`; null when it cannot be watched or listed. */
  private listWatched(max: number, c?: Credentials): Array<{ name: string; inode: Inode }> | null {
    const w = cacheWatchesOf(this.gfs.client);
    try {
      let r: WatchList;
      if (this.walkedFid < 0) {
        // The directory's own fid first: walking to it (a listed directory) switches the
        // connection to container root's credentials, the walk and listing are the task's.
        const from = this.originDir!.fid;
        this.gfs.asTask(c);
        r = this.c.watchList(from, this.originName, max);
        if (!r.walked || !this.adopt(r.walked)) {
          if (!(r.watch instanceof Error)) w.adopt(null, r.watch);
          return null;
        }
      } else {
        const fid = this.fid;
        this.gfs.asTask(c);
        r = this.c.watchList(fid, null, max);
      }
      if (r.watch instanceof Error || !w.adopt(this, r.watch) || r.list instanceof Error) return null;
      const gen = this.watchGen;
      const got = this.listed(r.list.entries);
      for (const e of got) (e.inode as GoferInode).seenGen = gen;
      return got;
    } catch {
      return null;
    }
  }

  /** listed makes the inodes of this directory's entries just listed with their
   * attributes, each walked to on first use (see fid). */
  private listed(entries: DirStat[]): Array<{ name: string; inode: Inode }> {
    const out: Array<{ name: string; inode: Inode }> = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const { name, attr } = entries[i];
      const inode = new GoferInode(this.gfs, -1, attr, this, name);
      out[i] = { name, inode };
    }
    return out;
  }

  /**
   * lookupListing walks to the child `name` and lists it (Twalkstat and Treaddirstat
   * pipelined: one round trip, SyncClient.walkList), as the task with credentials `c`.
   * Under the same conditions as listChildren (never on a bind mount, nor in plain
   * 9P2000.L); null when the walk fails (the caller's own lookup then meets the error).
   */
  override lookupListing(name: string, max: number, c?: Credentials): { inode: Inode; entries: Array<{ name: string; inode: Inode }> | null } | null {
    if (this.gfs.revalidate || !this.gfs.client.fdPassing || !this.isDir || max <= 0) return null;
    let r;
    try {
      // The directory's own fid first: walking to it (a listed directory) switches the
      // connection to container root's credentials, the walk and listing are the task's.
      const dir = this.fid;
      this.gfs.asTask(c);
      r = this.walkListOf(dir, name, max);
    } catch {
      return null;
    }
    if (!r.walked) return null;
    const child = new GoferInode(this.gfs, r.walked.fid, r.walked.attr);
    return { inode: child, entries: r.list instanceof Error || !child.isDir ? null : child.listed(r.list.entries) };
  }

  /**
   * readahead sends, without waiting, the walk to the child `name` and its listing (a
   * Twalkstat and a Treaddirstat of at most `max` entries, as the task with credentials
   * `c`: SyncClient.startWalkList) that lookupListing, or the listChildren of `cached`
   * (the child, named by this directory's listing and not walked to yet), would make, so
   * that the gofer lists it while the walk goes on (Dentry's readahead). Only on the
   * rootfs (the sandbox is its only writer: never on a bind mount) and from a directory
   * walked to already; one per file system at a time (a new one drops the last). What
   * it read is used only if nothing but clunks went to the gofer since (walkListOf): the
   * sandbox changes a directory through requests, and a file written through its host
   * descriptor is open, so its directories are cached and walked to, never read ahead.
   */
  override readahead(name: string, max: number, c?: Credentials, cached?: Inode): void {
    if (this.gfs.revalidate || this.gfs.released || !this.gfs.client.fdPassing || !this.isDir || this.walkedFid < 0 || this.evicted || max <= 0) return;
    if (cached && !(cached instanceof GoferInode && cached.walkedFid < 0 && cached.isDir && cached.originDir === this)) return;
    this.gfs.dropAhead();
    try {
      this.gfs.asTask(c);
      this.gfs.ahead = { dir: this, pending: this.c.startWalkList(this.walkedFid, name, max) };
      if (PHASES.on) phaseCount('gofer-fs:readahead');
    } catch {
      // the connection is gone: nothing read ahead
    }
  }

  /**
   * walkListOf is SyncClient.walkList of the child `name` from this directory (`fid`, its
   * own), taken from the listing read ahead for it when there is one that still holds:
   * same directory, name and credentials, no more entries than `max`, and no request but
   * clunks sent to the gofer since (Engine.requested); any other is dropped.
   */
  walkListOf(fid: number, name: string, max: number): WalkList {
    const a = this.gfs.ahead;
    if (a) {
      this.gfs.ahead = null;
      const p = a.pending;
      if (a.dir === this && p.fid === fid && p.name === name && p.max <= max && p.requested === this.gfs.client.engine.requested) {
        if (PHASES.on) phaseCount('gofer-fs:readahead-used');
        return p.take();
      }
      p.drop();
    }
    return this.c.walkList(fid, name, max);
  }

  /** adoptWatch takes the answer to a Tcachewatch of this directory (cache-watch.ts). */
  private adoptWatch(got: Received | Error): boolean {
    if (got instanceof Error) return false;
    const r = got.msg as Message<'Rcachewatch'>;
    if (r.passed && got.fd < 0) return false;
    return cacheWatchesOf(this.gfs.client).adopt(this, { wd: r.wd, fd: got.fd });
  }

  /** walkChain walks `names` from this directory (checking the `known` ones), with
   * `watchFirst` a cache watch of this directory set first in the same round trip
   * (cache-watch.ts; a refusal is remembered: cacheWd -2). */
  private walkChain(names: readonly string[], c?: Credentials, known: readonly GoferInode[] = [], watchFirst = false): { walked: Walked[]; error: Error | null } {
    // The fids first: walking to a listed one switches the connection to container
    // root's credentials, and the chain is walked as the task.
    const from = this.fid;
    const knownFids = known.map((k) => k.fid);
    this.gfs.asTask(c);
    const before = watchFirst ? { req: { kind: 'Tcachewatch' as const, fid: from }, what: `cachewatch fid ${from}` } : undefined;
    const { walked, error, pre } = p9(() => this.c.walkChain(from, names, knownFids, GetattrMask.BASIC, before));
    if (pre !== undefined && !this.adoptWatch(pre) && this.cacheWd === -1) this.cacheWd = -2;
    return { walked, error: error === null ? null : asLinuxError(error) };
  }

  /**
   * acquireHostFd returns a host descriptor of this regular file open with access mode
   * `acc`, from the cache
   * or from one Tlopen whose fid is clunked without waiting (the descriptor is enough).
   * It returns -1 when the gofer passes no descriptors (plain 9P2000.L) or this is not a
   * regular file (the gofer passes none for anything else). The gofer opens
   * the file for the task with credentials `creds` (container root's when absent), which
   * the host checks again; `exec` asks for execute access instead of read (execve's
   * open, LOPEN_EXEC). A cached descriptor is shared by every open the sentry allowed.
   */
  acquireHostFd(acc: number, creds?: Credentials, exec = false): number {
    const c = this.hostFds?.get(acc);
    if (c) {
      if (c.refs++ === 0) {
        const i = idle.findIndex((e) => e.inode === this && e.acc === acc);
        if (i >= 0) idle.splice(i, 1);
      }
      return c.fd;
    }
    if (!this.gfs.client.fdPassing || !this.isRegular) return -1;
    this.gfs.asTask(creds);
    const { fid } = p9(() => this.c.walk(this.fid, []));
    let fd: number;
    try {
      fd = p9(() => this.c.lopen(fid, acc | (exec ? LOPEN_EXEC : 0))).hostFd;
    } finally {
      this.gfs.client.clunk(fid).catch(() => undefined);
    }
    if (fd < 0) fail(Errno.EIO); // a 9P2000.L.fd gofer passes a regular file's descriptor
    (this.hostFds ??= new Map()).set(acc, { fd, refs: 1 });
    return fd;
  }

  /** releaseHostFd drops a reference; idle descriptors stay cached up to IDLE_FDS in all
   * (none of a released connection's file systems: closed at once). */
  releaseHostFd(acc: number): void {
    const c = this.hostFds?.get(acc);
    if (!c || --c.refs > 0) return;
    if (this.gfs.released) {
      this.dropIdleHostFd(acc);
      return;
    }
    idle.push({ inode: this, acc });
    while (idle.length > IDLE_FDS) {
      const old = idle.shift()!;
      old.inode.dropIdleHostFd(old.acc);
    }
  }

  /** dropIdleHostFd closes the cached descriptor of access mode `acc` that no open file
   * uses (the caller took it off the idle list). */
  dropIdleHostFd(acc: number): void {
    const c = this.hostFds?.get(acc);
    if (!c || c.refs > 0) return;
    this.closeHostFd(c.fd, acc);
    this.hostFds!.delete(acc);
  }

  /** readdir lists the directory for the sentry itself (container root's credentials):
   * a fid opened for it, read with Treaddir, clunked. */
  override readdir(): DirEntry[] {
    this.gfs.asTask();
    const { fid } = p9(() => this.c.walk(this.fid, []));
    try {
      p9(() => this.c.lopen(fid, O_RDONLY | O_DIRECTORY));
      return this.list(fid);
    } finally {
      p9(() => this.c.clunk(fid));
    }
  }

  /** list reads the entries of this directory, opened as `fid`, with Treaddir (without
   * `.` and `..`). */
  list(fid: number): DirEntry[] {
    return p9(() => this.c.readdirAll(fid))
      .filter((d) => d.name !== '.' && d.name !== '..')
      .map((d) => ({ name: d.name, ino: inoOf(d.qid), type: d.type }));
  }

  override readlink(): string {
    if (!this.isSymlink) fail(Errno.EINVAL);
    if (this.target === null) this.target = p9(() => this.c.readlink(this.fid));
    return this.target;
  }

  private child(name: string, c: Credentials): Inode {
    const n = this.lookup(name, c) as GoferInode;
    if (c.euid !== n.attr.uid) {
      this.gfs.asTask(c);
      p9(() => this.c.setattr(n.fid, { valid: SetattrMask.UID, uid: c.euid }));
      n.refresh();
    }
    this.refresh();
    return n;
  }

  override create(name: string, mode: number, c: Credentials): Inode {
    this.gfs.asTask(c);
    p9(() => this.c.mknod(this.fid, name, S_IFREG | (mode & 0o7777), 0, 0, c.egid));
    return this.child(name, c);
  }

  /**
   * createOpen creates and opens the file with one Tlcreate, which the host does as one
   * open(O_CREAT|O_EXCL): a second open by the gofer, as the caller, would be refused for
   * a file created without write permission (git's 0444 objects). The descriptor the
   * gofer passes becomes the new inode's cached one for this access mode.
   */
  override createOpen(name: string, mode: number, flags: number, c: Credentials, at: (inode: Inode) => Location): FileDescription {
    if (!this.gfs.client.fdPassing) return super.createOpen(name, mode, flags, c, at);
    this.gfs.asTask(c);
    const acc = flags & O_ACCMODE;
    const { fid } = p9(() => this.c.walk(this.fid, []));
    let hostFd: number;
    try {
      hostFd = p9(() => this.c.lcreate(fid, name, acc | O_EXCL, S_IFREG | (mode & 0o7777), c.egid)).hostFd;
    } finally {
      this.gfs.client.clunk(fid).catch(() => undefined);
    }
    if (hostFd < 0) fail(Errno.EIO); // a 9P2000.L.fd gofer passes a regular file's descriptor
    let n: GoferInode;
    try {
      n = this.child(name, c) as GoferInode;
    } catch (e) {
      host.close(hostFd);
      throw e;
    }
    (n.hostFds ??= new Map()).set(acc, { fd: hostFd, refs: 1 });
    return new GoferFile(at(n), flags, n, -1, hostFd, acc);
  }

  override mkdir(name: string, mode: number, c: Credentials): Inode {
    this.gfs.asTask(c);
    p9(() => this.c.mkdir(this.fid, name, mode & 0o7777, c.egid));
    return this.child(name, c);
  }

  override symlink(name: string, target: string, c: Credentials): Inode {
    this.gfs.asTask(c);
    p9(() => this.c.symlink(this.fid, name, target, c.egid));
    return this.child(name, c);
  }

  override mknod(name: string, mode: number, _rdev: number, c: Credentials): Inode {
    this.gfs.asTask(c);
    p9(() => this.c.mknod(this.fid, name, mode, 0, 0, c.egid));
    return this.child(name, c);
  }

  override link(name: string, target: Inode, c?: Credentials): void {
    if (!(target instanceof GoferInode) || target.gfs !== this.gfs) fail(Errno.EXDEV);
    this.gfs.asTask(c);
    p9(() => this.c.link(this.fid, target.fid, name));
    target.refresh();
  }

  override unlink(name: string, c?: Credentials): void {
    this.gfs.asTask(c);
    p9(() => this.c.unlinkat(this.fid, name, 0));
  }

  override rmdir(name: string, c?: Credentials): void {
    this.gfs.asTask(c);
    p9(() => this.c.unlinkat(this.fid, name, 0x200));
    this.refresh();
  }

  override rename(oldName: string, newDir: Inode, newName: string, c?: Credentials, moving?: Inode): void {
    if (!(newDir instanceof GoferInode) || newDir.gfs !== this.gfs) fail(Errno.EXDEV);
    // A listed entry that moves is walked to first: its fid follows it, its origin would not.
    if (moving instanceof GoferInode && moving.walkedFid < 0 && moving.originDir === this && moving.originName === oldName) void moving.fid;
    this.gfs.asTask(c);
    p9(() => this.c.renameat(this.fid, oldName, newDir.fid, newName));
  }

  /** moved keeps echoName the file's name: the barrier after a host descriptor's close
   * names the file as the host's event does (a read, a rename, then the close at unlink
   * sent the old name: the host's IN_CLOSE_NOWRITE of the new one came through). */
  override moved(name: string): void {
    if (this.echoName !== null) this.echoName = name;
  }

  override setattr(a: SetAttr, c?: Credentials): void {
    this.gfs.asTask(c);
    let valid = 0;
    const req: Record<string, number> = {};
    if (a.mode !== undefined) { valid |= SetattrMask.MODE; req.mode = a.mode; }
    if (a.uid !== undefined) { valid |= SetattrMask.UID; req.uid = a.uid; }
    if (a.gid !== undefined) { valid |= SetattrMask.GID; req.gid = a.gid; }
    if (a.size !== undefined) { valid |= SetattrMask.SIZE; req.size = a.size; }
    if (a.atime !== undefined) {
      valid |= SetattrMask.ATIME;
      if (a.atime !== 'now') { valid |= SetattrMask.ATIME_SET; req.atimeSec = a.atime.sec; req.atimeNsec = a.atime.nsec; }
    }
    if (a.mtime !== undefined) {
      valid |= SetattrMask.MTIME;
      if (a.mtime !== 'now') { valid |= SetattrMask.MTIME_SET; req.mtimeSec = a.mtime.sec; req.mtimeNsec = a.mtime.nsec; }
    }
    p9(() => this.c.setattr(this.fid, { valid, ...req }));
    if (a.size !== undefined) this.pageCache?.resized(a.size);
    this.refresh();
  }

  /** xattrRead reads attribute `name` ('' for the NUL-separated list of names) with a
   * Txattrwalk and Treads of the new fid, as the task with credentials `c`. */
  private xattrRead(name: string, c?: Credentials): Buffer {
    this.gfs.asTask(c);
    const { fid, size } = p9(() => this.c.xattrwalk(this.fid, name));
    try {
      const out = Buffer.alloc(size);
      let at = 0;
      while (at < size) {
        const b = p9(() => this.c.read(fid, at, size - at));
        if (b.length === 0) break;
        b.copy(out, at);
        at += b.length;
      }
      return out.subarray(0, at);
    } finally {
      this.gfs.client.clunk(fid).catch(() => undefined);
    }
  }

  /**
   * xattrWrite sets attribute `name` (a Txattrcreate of a clone of this fid, the value
   * in Twrites, set by the gofer at the Tclunk, whose error is the call's). A size of 0
   * with XATTR_REPLACE alone removes it (the convention of Linux's 9P client, which
   * the gofer follows).
   */
  private xattrWrite(name: string, value: Buffer, flags: number, c?: Credentials): void {
    this.gfs.asTask(c);
    const { fid } = p9(() => this.c.walk(this.fid, []));
    let sent = false;
    try {
      p9(() => this.c.xattrcreate(fid, name, value.length, flags));
      for (let at = 0; at < value.length;) {
        const n = p9(() => this.c.write(fid, at, value.subarray(at)));
        if (n <= 0) fail(Errno.EIO);
        at += n;
      }
      sent = true;
      p9(() => this.c.clunk(fid));
    } finally {
      if (!sent) this.gfs.client.clunk(fid).catch(() => undefined);
    }
    this.refresh();
  }

  override getxattr(name: string, c?: Credentials): Buffer {
    return this.xattrRead(name, c);
  }

  override listxattr(c?: Credentials): string[] {
    const list = this.xattrRead('', c).toString('latin1');
    return list.split('\0').filter((n) => n !== '').map((n) => Buffer.from(n, 'latin1').toString());
  }

  override setxattr(name: string, value: Buffer, flags: number, c?: Credentials): void {
    if (value.length === 0 && flags & XATTR_REPLACE) {
      // Not a removal: the attribute must exist (ENODATA), then it is set empty.
      this.xattrRead(name, c);
      flags &= ~XATTR_REPLACE;
    }
    this.xattrWrite(name, value, flags, c);
  }

  override removexattr(name: string, c?: Credentials): void {
    this.xattrWrite(name, Buffer.alloc(0), XATTR_REPLACE, c);
  }

  override open(loc: Location, flags: number, c?: Credentials): FileDescription {
    const acc = flags & O_ACCMODE;
    const exec = (flags & FMODE_EXEC) !== 0;
    if ((this.mode & S_IFMT) === S_IFIFO) return openFifo(this.gfs.fifoPipe(this.attr.qid.path), flags, loc);
    // A host device node is the sandbox's device of that number, or ENXIO (never the host's).
    const fmt = this.mode & S_IFMT;
    if (fmt === S_IFCHR || fmt === S_IFBLK) return openNodeOfHost(this, this.attr.rdev, fmt === S_IFBLK, loc, flags);
    if (this.isRegular) {
      const fd = this.acquireHostFd(acc, c, exec);
      if (fd >= 0) return new GoferFile(loc, flags, this, -1, fd, acc);
    }
    // A directory (or a plain 9P2000.L file): the file keeps an opened fid of its own.
    const how = this.isDir ? O_RDONLY | O_DIRECTORY : (flags & (O_ACCMODE | O_APPEND | O_DIRECTORY)) | (exec ? LOPEN_EXEC : 0);
    this.gfs.asTask(c);
    const { fid } = p9(() => this.c.walk(this.fid, []));
    try {
      const o = p9(() => this.c.lopen(fid, how));
      return new GoferFile(loc, flags, this, fid, o.hostFd, -1);
    } catch (e) {
      p9(() => this.c.clunk(fid));
      throw e;
    }
  }
}

/** GoferFile is an open gofer file: a host descriptor when the gofer passed one (a
 * regular file in 9P2000.L.fd), else an opened fid read, listed and synced through 9P. */
export class GoferFile extends FileDescription implements HostIo {
  private dirCache: DirEntry[] | null = null;

  /**
   * A file opened through the cache has fid -1 and a shared hostFd (cachedAcc >= 0);
   * otherwise it owns its fid and the hostFd that came with its Tlopen.
   */
  constructor(loc: Location, flags: number, readonly inode: GoferInode, readonly fid: number, readonly hostFd: number, readonly cachedAcc: number) {
    super(loc, flags);
    if (hostFd >= 0 && this.watchedOnHost()) inode.echoName = loc.dentry.name;
  }

  /** watchedOnHost tells whether the gofer watches this file or its directory. */
  private watchedOnHost(): boolean {
    const w = this.inode.gfs.hostWatches;
    return w.any && w.watched(this.inode.ino, this.loc?.dentry.parent?.inode.ino ?? -1);
  }

  override read(t: Task, dst: Buffer, offset?: number): number | Block {
    return this.readv(t, [dst], offset);
  }

  /**
   * readBound is what a read at `offset` can return: the bytes to the end of the file as
   * the page cache or the host descriptor knows it (unbounded over plain 9P).
   */
  override readBound(offset?: number): number {
    const at = offset ?? this.offset;
    const cache = this.inode.isRegular ? this.inode.pageCache : null;
    if (cache) return Math.max(0, cache.size - at);
    if (this.hostFd < 0 || !this.inode.isRegular) return Infinity;
    const st = host.fstat(this.hostFd);
    return typeof st === 'number' ? Infinity : Math.max(0, st.size - at);
  }

  /**
   * readv reads the file into dsts in order (views of application memory from the
   * syscall layer: the host descriptor's pread fills them directly), stopping at a short
   * read; an error after some bytes returns them. A file mapped MAP_SHARED is read
   * through its page cache (what the mappings wrote).
   */
  override readv(_t: Task, dsts: readonly Buffer[], offset?: number): number | Block {
    if (this.inode.isDir) fail(Errno.EISDIR);
    const at = offset ?? this.offset;
    const cache = this.inode.isRegular ? this.inode.pageCache : null;
    let done = 0;
    try {
      for (const d of dsts) {
        const n = cache ? cache.read(d, at + done, this) : this.readRaw(d, at + done);
        done += n;
        if (n < d.length) break;
      }
    } catch (e) {
      if (done === 0) throw e;
    }
    if (offset === undefined) this.offset += done;
    return done;
  }

  /** readRaw reads the host file at `at` (the host descriptor, else Tread on the fid). */
  readRaw(dst: Buffer, at: number): number {
    if (this.hostFd >= 0) {
      const n = host.pread(this.hostFd, dst, 0, dst.length, at);
      // The host reports a read (IN_ACCESS) as the sandbox's VFS does: its echo is dropped.
      if (n > 0) this.hostEcho(true);
      return n < 0 ? fail(-n) : n;
    }
    const data = p9(() => this.inode.gfs.client.sync.read(this.fid, at, dst.length));
    data.copy(dst);
    return data.length;
  }

  /** writeRaw writes the host file at `at` (the host descriptor, else Twrite on the fid). */
  writeRaw(src: Buffer, at: number): number {
    if (this.hostFd >= 0) {
      const n = host.pwrite(this.hostFd, src, at);
      return n < 0 ? fail(-n) : n;
    }
    return p9(() => this.inode.gfs.client.sync.write(this.fid, at, src));
  }

  override write(t: Task, src: Buffer, offset?: number): number | Block {
    return this.writev(t, [src], offset);
  }

  /**
   * writev writes srcs in order as one write (O_APPEND: at the host file's end, even when
   * an offset is given, as pwrite(2) does on Linux), from views of application memory
   * straight to the host descriptor, stopping at a short write; an error after some
   * bytes returns them. The page cache's pages are the file's too: a mapping sees the write.
   */
  override writev(_t: Task, srcs: readonly Buffer[], offset?: number): number | Block {
    const append = (this.flags & O_APPEND) !== 0;
    if (append) {
      const st = this.hostFd >= 0 ? host.fstat(this.hostFd) : -1;
      if (typeof st === 'number') this.inode.refresh();
      else this.inode.attr.size = st.size;
    }
    const at = append ? this.inode.attr.size : offset ?? this.offset;
    const cache = this.inode.isRegular ? this.inode.pageCache : null;
    let done = 0;
    try {
      for (const src of srcs) {
        const n = this.writeRaw(src, at + done);
        cache?.wrote(src.subarray(0, n), at + done);
        done += n;
        if (n < src.length) break;
      }
    } catch (e) {
      if (done === 0) throw e;
    }
    if (offset === undefined) this.offset = at + done;
    this.hostChanged();
    const a = this.inode.attr;
    if (at + done > a.size) a.size = at + done;
    const now = Date.now();
    a.mtimeSec = Math.floor(now / 1000);
    a.mtimeNsec = (now % 1000) * 1e6;
    return done;
  }

  override readdir(): DirEntry[] {
    if (this.offset === 0 || !this.dirCache) {
      const i = this.inode;
      const parent = this.loc!.dentry.parent?.inode ?? i;
      const entries = this.fid >= 0 ? i.list(this.fid) : i.readdir();
      this.dirCache = [{ name: '.', ino: i.ino, type: 4 }, { name: '..', ino: parent.ino, type: 4 }, ...entries];
    }
    return this.dirCache;
  }

  /** truncate is ftruncate(2): the host descriptor opened for writing when there is one
   * (an open file needs no permission check), else a Tsetattr. */
  override truncate(size: number): void {
    if (this.hostFd >= 0 && this.writable) {
      const r = host.ftruncate(this.hostFd, size);
      if (r < 0) fail(-r);
      this.hostChanged();
      this.inode.attr.size = size;
      this.inode.pageCache?.resized(size);
      return;
    }
    this.inode.setattr({ size });
  }

  /** sync is fsync(2), after writing back the page cache's dirty chunks: on the host
   * descriptor, or with Tfsync on the opened fid (a directory's, or any file's in plain
   * 9P2000.L). */
  override sync(): void {
    // What the file's shared mappings wrote goes to the host first.
    if (this.inode.isRegular) this.inode.pageCache?.sync();
    if (this.hostFd >= 0) {
      const r = host.fsync(this.hostFd, false);
      if (r < 0) fail(-r);
    } else if (this.fid >= 0) {
      p9(() => this.inode.gfs.client.sync.fsync(this.fid));
    }
  }

  override stat(): Stat {
    if ((this.inode.mode & S_IFMT) === S_IFREG && this.hostFd >= 0) {
      // The size, link count and times of the host file, without a round trip.
      const st = host.fstat(this.hostFd);
      if (typeof st !== 'number') {
        const a = this.inode.attr;
        Object.assign(a, { size: st.size, blocks: st.blocks, nlink: st.nlink, mtimeSec: st.mtimeSec, mtimeNsec: st.mtimeNsec, ctimeSec: st.ctimeSec, ctimeNsec: st.ctimeNsec, atimeSec: st.atimeSec, atimeNsec: st.atimeNsec });
      }
    }
    return this.inode.stat();
  }

  /** wroteBack follows the page cache's write-back through this description (msync,
   * fsync, the last munmap) as a write: the host's echo is the sandbox's own change, which
   * Linux does not report for a mapping's writes. */
  wroteBack(): void {
    this.hostChanged();
  }

  /** hostChanged follows a write or truncate through the host descriptor of a file the
   * gofer watches (itself or its directory) with a barrier: the host's echo is the
   * sandbox's own change, already reported (host-watch.ts). */
  private hostChanged(): void {
    this.hostEcho(false);
  }

  /** hostEcho follows a change (or with `readsOnly` a read) through the host descriptor
   * of a file the gofer watches with a barrier (host-watch.ts). */
  private hostEcho(readsOnly: boolean): void {
    if (this.hostFd >= 0 && this.loc && this.watchedOnHost()) this.inode.gfs.hostWatches.barrier(this.loc.dentry.name, this.inode.ino, readsOnly);
  }

  protected override release(): void {
    if (this.cachedAcc >= 0) {
      this.inode.releaseHostFd(this.cachedAcc);
      return;
    }
    if (this.hostFd >= 0) this.inode.closeHostFd(this.hostFd, this.flags);
    this.inode.gfs.client.clunk(this.fid).catch(() => undefined);
  }
}

