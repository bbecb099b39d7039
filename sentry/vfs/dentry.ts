/**
 * Dentries and the dentry cache. A Dentry is a name in a directory of one file system,
 * caching the Inode it names and the children looked up so far.
 *
 * Lifetime (Linux's dcache, reduced): a dentry is *held* while something outside the tree
 * refers to it (an open file description, a mount on it, a task's cwd or root: `refs`,
 * `mounted`, DentryCache.pinned) or while it has cached children (a child keeps its parent,
 * so that `..` and pathOf always work). A dentry nothing holds is *idle*: it stays in its
 * parent's `children` map, and in the cache's LRU, until more than `capacity` dentries
 * are cached in all (held or idle: each may hold a gofer fid, so this bounds them); then
 * the least recently used idle one is evicted: it leaves its parent's map
 * (which may make the parent idle in turn) and, when it was the last dentry naming its
 * inode, the inode's evict() releases what the file system holds for it (the gofer's fid,
 * and with it the gofer's host descriptor). A dentry that is no longer in its parent's
 * map (unlinked, renamed over, revalidated away) is destroyed as soon as it is idle.
 *
 * A mount that left every namespace (a dead namespace's, MountNamespace.release) takes
 * its dentries with it (dropTree): nothing can reach them by a path any more, so they are
 * *gone*: the idle ones are destroyed at once (their inodes evicted: fids clunked, cached
 * host descriptors closed), and each one still held (an open file) is destroyed as soon
 * as nothing holds it, never cached again; its root too. One a task still uses as cwd or
 * root waits in the LRU for a trim.
 *
 * Invariants: a dentry's children map only holds names that exist (no negative
 * entries); every dentry in a children map has its parent in the tree; mount roots
 * (parent null) are never idle unless gone. A Location obtained during one syscall may name an idle
 * dentry: eviction only takes the least recently used, and a dentry is made most
 * recently used whenever a lookup returns it, so what one syscall just resolved is never
 * evicted under it (capacity has a floor, MIN_CAPACITY).
 */
import type { Credentials } from '../kernel/credentials';
import type { Inode } from './inode';
import type { Mount } from './mount';
import { PHASES, phaseAdd, phaseCount } from '../../native/phases';

/** DEFAULT_CAPACITY is the number of dentries kept when nothing else is configured
 * (annotation dev.tvisor.dentry-cache, see boot.ts). */
export const DEFAULT_CAPACITY = 1000;
/** MIN_CAPACITY is the least capacity accepted: what one path resolution may touch. */
export const MIN_CAPACITY = 64;
/** TRIM_SLACK dentries beyond capacity are tolerated before a trim, so that the
 * pinned set is computed once per batch of evictions rather than per lookup. */
const TRIM_SLACK = 32;
/** FILL_SHARE is the most of the cache's capacity one directory listing fills (Dentry.fill). */
const FILL_SHARE = 0.25;
/**
 * FILL_AFTER_MISSES is how many names must be missing from a directory's cached children
 * before it is listed (fill), unless its parent was listed and so was another of the
 * parent's subdirectories (a walk over a tree: it is then listed at its first miss, see
 * fill): one name looked up alone costs a round trip for that name,
 * a listing one for every entry's attributes (gofer statx, encoding, an inode each), so a
 * directory is listed only once a walk shows it visits several of its names. A sandbox's
 * boot and a short program look up one or two names in each of a few directories (busybox
 * `true`: 39 path walks, 7 listings of 285 entries when the first miss listed, ~25 ms of
 * the sentry's start); a walk over a tree misses many names in each directory.
 */
export const FILL_AFTER_MISSES = 3;

/** DentryCache is the LRU of idle dentries of one sandbox. */
export class DentryCache {
  /** lruHead and lruTail end the list of idle dentries, least recently used first, linked
   * through the dentries themselves (Dentry.lruPrev, lruNext): moving one to the recent
   * end, which every lookup of a cached name does, allocates nothing. */
  private lruHead: Dentry | null = null;
  private lruTail: Dentry | null = null;
  /** idle counts the dentries in that list. */
  private idle = 0;
  private cap = DEFAULT_CAPACITY;
  /** cached counts the dentries in the tree (attached by addChild, not yet destroyed). */
  private cached = 0;
  /** walks numbers the path resolutions (newWalk), for Dentry.fresh. */
  walks = 1;
  /** filledIn is the walk number of the last Dentry.fill, and filled the entries the
   * listings of that walk brought (bounded per walk). */
  filledIn = 0;
  filled = 0;
  /** evictions counts the dentries evicted so far (for tests and figures). */
  evictions = 0;
  /** pinned returns the dentries tasks use as cwd or root (set by the kernel at boot): they
   * are held although no reference is counted for them. */
  pinned: () => Iterable<Dentry> = () => [];

  /** fillShare is the most entries the listings of one path walk bring (see Dentry.fill). */
  get fillShare(): number {
    return Math.floor((this.cap - MIN_CAPACITY) * FILL_SHARE);
  }

  /** capacity is the number of dentries kept, beyond which idle ones are evicted (at
   * least MIN_CAPACITY). Held dentries (open files, cwds and their ancestors) count but
   * are never evicted, so the cache may exceed it by what is held. */
  get capacity(): number {
    return this.cap;
  }

  set capacity(n: number) {
    this.cap = Math.max(MIN_CAPACITY, Math.floor(n));
    this.trim(this.cap);
  }

  /** idleCount is the number of idle dentries cached. */
  get idleCount(): number {
    return this.idle;
  }

  /** lruRemove takes `d` out of the idle list if it is there; it tells whether it was. */
  private lruRemove(d: Dentry): boolean {
    if (!d.inLru) return false;
    const prev = d.lruPrev, next = d.lruNext;
    if (prev) prev.lruNext = next;
    else this.lruHead = next;
    if (next) next.lruPrev = prev;
    else this.lruTail = prev;
    d.lruPrev = d.lruNext = null;
    d.inLru = false;
    this.idle--;
    return true;
  }

  /** lruAppend puts `d` at the idle list's recent end (out of its place first). */
  private lruAppend(d: Dentry): void {
    if (d.inLru) {
      if (this.lruTail === d) return;
      this.lruRemove(d);
    }
    d.lruPrev = this.lruTail;
    if (this.lruTail) this.lruTail.lruNext = d;
    else this.lruHead = d;
    this.lruTail = d;
    d.inLru = true;
    this.idle++;
  }

  /** size is the number of dentries cached, held or idle. */
  get size(): number {
    return this.cached;
  }

  /** added counts a dentry that joined the tree. */
  added(d: Dentry): void {
    if (d.counted) return;
    d.counted = true;
    this.cached++;
  }

  /** newWalk starts a path resolution: what an earlier one checked must be checked again. */
  newWalk(): void {
    this.walks++;
  }

  /** touch makes an idle dentry the most recently used. */
  touch(d: Dentry): void {
    if (d.inLru) this.lruAppend(d);
  }

  /** settle files `d` where its state says: out of the LRU when held, at its most recent
   * end when idle in the tree, destroyed when idle and out of the tree or gone. */
  settle(d: Dentry): void {
    if (d.held) {
      this.lruRemove(d);
    } else if (d.attached && !d.gone) {
      this.lruAppend(d);
      if (this.cached > this.cap + TRIM_SLACK) this.trim(this.cap);
    } else if (!this.isPinned(d)) {
      this.destroy(d);
    } else if (d.gone) {
      // A task's cwd or root in a gone tree: the LRU's trim destroys it once no task uses it.
      this.lruAppend(d);
    }
  }

  private isPinned(d: Dentry): boolean {
    for (const p of this.pinned()) if (p === d) return true;
    return false;
  }

  /** trim evicts least recently used idle dentries until at most `target` dentries are
   * cached or none is idle (a parent left idle by its last child's eviction joins the
   * recent end, for this trim or the next). A pinned one (a cwd or root) is moved to the
   * recent end instead. At most as many dentries are looked at as were idle at the start:
   * each leaves the least recent end (evicted, found held, or moved to the recent end). */
  trim(target: number): void {
    if (this.cached <= target) return;
    const pinned = new Set(this.pinned());
    let budget = this.idle;
    for (let d = this.lruHead; d !== null; d = this.lruHead) {
      if (this.cached <= target || budget-- <= 0) break;
      if (pinned.has(d)) {
        this.lruAppend(d);
        continue;
      }
      if (d.held) {
        this.lruRemove(d);
        continue;
      }
      this.evictions++;
      if (PHASES.on) phaseCount('vfs:evict');
      this.destroy(d);
    }
  }

  /**
   * dropTree makes every dentry of the tree under `root` (a mount's root, the mount
   * having left every namespace) gone (see the module comment): the idle ones are
   * destroyed now, children before parents, the held ones once nothing holds them.
   */
  dropTree(root: Dentry): void {
    const all: Dentry[] = [];
    for (const stack = [root]; stack.length > 0;) {
      const d = stack.pop()!;
      d.gone = true;
      all.push(d);
      for (const c of d.children.values()) stack.push(c);
    }
    // Every child is after its parent in `all`: backwards, children settle first.
    for (let i = all.length - 1; i >= 0; i--) this.settle(all[i]);
  }

  /** destroy takes an idle dentry out of the tree for good and releases its inode when it
   * was the inode's last dentry; its parent may become idle. */
  private destroy(d: Dentry): void {
    this.lruRemove(d);
    if (d.destroyed) return;
    d.destroyed = true;
    if (d.counted) this.cached--;
    d.inode.dentries--;
    if (d.inode.dentries === 0) d.inode.evict();
    const p = d.parent;
    if (!p) return;
    p.unlinkChild(d);
    this.settle(p);
  }
}

/**
 * DirListing is a directory dentry's listing state: `listed` once fill asked its file
 * system for all its entries, `filled` once such a listing brought them; `subdirs` names
 * the directories among those entries in the listing's order and `sortedSubdirs` the same
 * in natural order (made when first needed), `lastVisit` the last of them listed in turn
 * (readahead); `misses` counts the distinct names found missing from its cached children
 * before it was listed (FILL_AFTER_MISSES), `lastMiss` the latest (a walk's prefetch and its
 * lookup miss the same name: one miss).
 */
interface DirListing {
  listed: boolean;
  filled: boolean;
  subdirs: string[] | null;
  sortedSubdirs: string[] | null;
  lastVisit: string;
  misses: number;
  lastMiss: string;
}

/** NO_CHILDREN is the children of every dentry that has had none yet (never changed). */
const NO_CHILDREN: ReadonlyMap<string, Dentry> = new Map();

/** dentryCache is the sandbox's dentry cache (one sandbox per sentry). */
export const dentryCache = new DentryCache();

/** Dentry is one named file in the dentry tree of a file system. */
export class Dentry {
  /** kids holds the children looked up so far, made at the first (most dentries of a walk
   * are files, which never have any): read through `children`. */
  private kids: Map<string, Dentry> | null = null;
  private mountedHere: Mount | null = null;
  /** refs counts the holders outside the tree: open file descriptions. */
  private refs = 0;
  /** checkedIn is the cache's walk number when prefetch last looked this dentry up or
   * revalidated it: within that path walk it needs no revalidation. */
  checkedIn = 0;
  /** lruPrev, lruNext and inLru place the dentry in its cache's idle list (DentryCache's
   * lruHead): for the cache only. */
  lruPrev: Dentry | null = null;
  lruNext: Dentry | null = null;
  inLru = false;
  /** counted is set once the dentry joined the tree (DentryCache.size counts it). */
  counted = false;
  /** destroyed is set once the dentry left the cache for good (its inode may be released). */
  destroyed = false;
  /** placeholder marks a name the sentry made for a mount point its file system lacks
   * (boot.ts): listed by withMountpoints in mount.ts, and never evicted while it leads
   * to a mount (a placeholder with no mount below it is dropped like any idle dentry). */
  placeholder = false;
  /** dir is this directory's listing state (see DirListing), made at its first miss or
   * listing: null for files and for directories never missed, most dentries of a walk. */
  private dir: DirListing | null = null;
  /** gone is set once the mount this dentry is in left every namespace (DentryCache.dropTree):
   * it is destroyed as soon as nothing holds it, never cached. A child looked up below it
   * later (through a file still open there) is cached as any (a path walk may go on below
   * it), and evicted in its turn. */
  gone = false;
  readonly cache: DentryCache;

  constructor(public name: string, public parent: Dentry | null, public inode: Inode, cache?: DentryCache) {
    this.cache = cache ?? parent?.cache ?? dentryCache;
    inode.dentries++;
  }

  /** listed is set once fill asked this directory's file system for all its entries. */
  get listed(): boolean {
    return this.dir !== null && this.dir.listed;
  }

  set listed(v: boolean) {
    this.listing().listed = v;
  }

  /** filled is set once such a listing brought the entries (fill, lookupFilled). */
  get filled(): boolean {
    return this.dir !== null && this.dir.filled;
  }

  set filled(v: boolean) {
    this.listing().filled = v;
  }

  private listing(): DirListing {
    return (this.dir ??= { listed: false, filled: false, subdirs: null, sortedSubdirs: null, lastVisit: '', misses: 0, lastMiss: '' });
  }

  /** children are the children looked up so far, by name (see the module comment). */
  get children(): ReadonlyMap<string, Dentry> {
    return this.kids ?? NO_CHILDREN;
  }

  /** mounted is the mount attached on this dentry (the topmost), if any. A dentry of a
   * file system that caches no names (/proc, /sys) joins its parent's children, and its
   * ancestors theirs, once something is mounted on it, so that later walks find the mount. */
  get mounted(): Mount | null {
    return this.mountedHere;
  }

  set mounted(m: Mount | null) {
    this.mountedHere = m;
    if (!m) return;
    for (let d: Dentry = this; d.parent && !d.attached; d = d.parent) d.parent.attach(d);
  }

  /** fresh tells whether prefetch checked this dentry during the path walk under way. */
  get fresh(): boolean {
    return this.checkedIn === this.cache.walks;
  }

  /** held tells whether something keeps this dentry (see the module comment): a mount
   * root holds itself until its mount is gone. */
  get held(): boolean {
    return (this.parent === null && !this.gone) || this.refs > 0 || this.children.size > 0 || this.mounted !== null;
  }

  /** attached tells whether the dentry is still its parent's child by its name. */
  get attached(): boolean {
    return this.parent !== null && !this.destroyed && this.parent.children.get(this.name) === this;
  }

  /** incRef takes a reference (an open file description on this dentry). */
  incRef(): void {
    if (this.refs++ === 0) this.cache.settle(this);
  }

  /** decRef drops a reference; the dentry may become idle (or be destroyed if it left
   * the tree meanwhile). */
  decRef(): void {
    if (--this.refs === 0) this.cache.settle(this);
  }

  /** child returns the child called `name`: the cached one if its file system confirms it
   * (Inode.revalidate), else a fresh lookup in the inode, for the task with credentials
   * `c` (the sentry itself when absent). A file system whose names change on their own
   * (cacheDentries false: /proc) gets a fresh, uncached dentry on every lookup, except
   * for a mount point and the way to one (see `mounted`). */
  child(name: string, c?: Credentials): Dentry {
    if (this.inode.fs.cacheDentries === false) {
      // Only a mountpoint, or the way to one, is kept (see `mounted`).
      const kept = this.children.get(name);
      if (kept && (kept.mounted || kept.children.size > 0) && !kept.inode.stale) return kept;
      return new Dentry(name, this, this.inode.lookup(name, c));
    }
    const cached = this.children.get(name);
    if (cached) {
      // A mountpoint stays what it is (the mount hides the name beneath), and so does a
      // placeholder (its file system does not have it: revalidation would drop it); an
      // inode that says it no longer stands for a live object (Inode.stale) is looked up again.
      if (cached.mounted || cached.placeholder || (!cached.inode.stale && (cached.fresh || this.revalidate(name, cached, c)))) {
        this.cache.touch(cached);
        return cached;
      }
      this.removeChild(name);
    } else if (this.fill(name, c)) {
      const listed = this.children.get(name);
      if (listed) return listed;
    }
    if (!PHASES.on) return this.addChild(name, this.inode.lookup(name, c));
    const t0 = performance.now();
    const inode = this.inode.lookup(name, c);
    phaseAdd('vfs:lookup', performance.now() - t0);
    return this.addChild(name, inode);
  }

  /** revalidate asks the file system whether `cached` is still its child `name`. */
  private revalidate(name: string, cached: Dentry, c?: Credentials): boolean {
    if (!PHASES.on) return this.inode.revalidate(name, cached.inode, c);
    const t0 = performance.now();
    const ok = this.inode.revalidate(name, cached.inode, c);
    phaseAdd('vfs:revalidate', performance.now() - t0);
    return ok;
  }

  /**
   * fill caches this directory's entries in one go once FILL_AFTER_MISSES names (the
   * latest `missing`) were missing from its children, where its file system lists names with their attributes more
   * cheaply than it looks them up one by one (Inode.listChildren: the gofer's rootfs,
   * one round trip for the directory instead of one per name), so that a walk over
   * many files of one directory costs one round trip. The listings of one path walk
   * bring at most a quarter of the cache's capacity beyond MIN_CAPACITY in all
   * (FILL_SHARE), so that what a syscall resolved before (its MIN_CAPACITY most recent)
   * is never evicted by the listings of its later walks; a directory is listed only
   * while at least half of that share is left (else in a later walk); a name left out
   * is looked up as before, and names already cached are kept. It tells whether
   * anything was listed (never twice for one dentry).
   */
  private fill(missing: string, c?: Credentials): boolean {
    if (this.listed || !this.inode.isDir) return false;
    const dir = this.listing();
    if (missing !== dir.lastMiss) {
      dir.lastMiss = missing;
      dir.misses++;
    }
    // A directory named by its parent's listing, once another of the parent's
    // subdirectories was listed (the parent was listed after its misses, and the walk
    // went on into a second one: a walk over a tree, not a program's lookups under a
    // listed root), is listed at its first miss, as lookupFilled lists a child directory
    // that is not cached, in the round trip that walks to it.
    if (dir.misses < FILL_AFTER_MISSES && !(this.parent?.filled && this.parent.dir!.lastVisit !== '')) return false;
    const max = this.fillBudget();
    if (max === 0) return false;
    this.listed = true;
    const t0 = PHASES.on ? performance.now() : 0;
    const got = this.inode.listChildren(max, c);
    if (!got) return false;
    if (PHASES.on) phaseAdd('vfs:fill-list', performance.now() - t0);
    this.filled = true;
    this.addListed(got);
    if (this.parent?.filled) this.parent.readahead(this.name, c);
    return true;
  }

  /** fillBudget is how many entries a listing may bring now: what is left of this walk's
   * share (see fill), or 0 when too little is left (the directory then waits for a later
   * walk rather than being listed in part for good). */
  private fillBudget(): number {
    const cache = this.cache;
    const share = cache.fillShare;
    if (cache.filledIn !== cache.walks) {
      cache.filledIn = cache.walks;
      cache.filled = 0;
    }
    const max = share - cache.filled;
    return max < share / 2 ? 0 : max;
  }

  /** addListed caches the entries a listing of this directory brought (counted against
   * the walk's share); a name already cached keeps its dentry, the listed inode is
   * released unused. */
  private addListed(got: Array<{ name: string; inode: Inode }>): void {
    const t0 = PHASES.on ? performance.now() : 0;
    const dir = this.listing();
    dir.subdirs = got.filter((g) => g.inode.isDir).map((g) => g.name);
    dir.sortedSubdirs = null;
    this.cache.filled += got.length;
    for (const { name, inode } of got) {
      if (this.children.has(name)) inode.evict();
      else this.addChild(name, inode);
    }
    if (PHASES.on) {
      phaseAdd('vfs:fill-cache', performance.now() - t0);
      phaseCount('vfs:fill-entries', got.length);
    }
  }

  /**
   * lookupFilled looks up the child `name`, which a path walk is about to go below (so
   * a directory, if anything), and lists it in the same round trip where its file system
   * can (Inode.lookupListing) and the walk's listing share allows (fillBudget): the child
   * comes back cached, checked in this walk, with its entries cached (listed). Null when
   * it cannot: the walk then looks the name up as usual. Only below a directory that was
   * listed itself (a walk over a tree, not a program's few lookups: FILL_AFTER_MISSES).
   */
  private lookupFilled(name: string, c?: Credentials): Dentry | null {
    if (!this.listed || !this.inode.isDir || this.children.has(name)) return null;
    const max = this.fillBudget();
    if (max === 0) return null;
    const t0 = PHASES.on ? performance.now() : 0;
    const got = this.inode.lookupListing(name, max, c);
    if (!got) return null;
    if (PHASES.on) phaseAdd('vfs:lookup-list', performance.now() - t0);
    const d = this.addChild(name, got.inode);
    d.checkedIn = this.cache.walks;
    if (got.entries) {
      d.listed = true;
      d.filled = true;
      d.addListed(got.entries);
      this.readahead(name, c);
    }
    return d;
  }

  /**
   * readahead notes that the walk just listed this (listed) directory's child directory
   * `name`, and when that child follows the one listed before it in an order the
   * directories are commonly walked in (this directory's listing order, as find and du
   * walk; or the natural order of their names, d1 before d2 before d10, as sorted or
   * numbered walks go), it has the file system start listing the next one in that order
   * now (Inode.readahead, without waiting), so that the walk finds the listing there when
   * it comes: one directory ahead, the listing's size bounded as any (the cache's share
   * of one walk), unless that one is listed already or a mountpoint. A walk in no such
   * order predicts nothing and costs nothing more.
   */
  private readahead(name: string, c?: Credentials): void {
    const dir = this.listing();
    const prev = dir.lastVisit;
    dir.lastVisit = name;
    if (prev === '' || !dir.subdirs) return;
    const next = successor(dir.subdirs, prev, name) ?? successor((dir.sortedSubdirs ??= [...dir.subdirs].sort(naturalOrder)), prev, name);
    if (next === undefined) return;
    const cached = this.children.get(next);
    if (cached && (cached.listed || cached.mounted || cached.placeholder)) return;
    this.inode.readahead(next, this.cache.fillShare, c, cached?.inode);
  }

  /**
   * prefetch prepares the names `names` below this dentry, each below the one before, in
   * one go where the file system can (Inode.lookupChain): the cached ones are revalidated
   * if their file system wants it, the others looked up and cached, so that the path
   * walk then finds them all cached and checked (`fresh`: no revalidation on that use).
   * It stops silently where the chain does (a missing or changed name, a symlink): the
   * walk's own lookup then deals with it. A mountpoint ends the cached prefix (another
   * file system begins there).
   */
  prefetch(names: readonly string[], c?: Credentials): void {
    if (this.inode.fs.cacheDentries === false) return;
    const cached: Dentry[] = [];
    for (let d: Dentry = this; cached.length < names.length; ) {
      let next = d.children.get(names[cached.length]);
      if (!next && d.inode.fs.cacheDentries !== false && d.fill(names[cached.length], c)) next = d.children.get(names[cached.length]);
      // A name not seen yet with more below it: looked up and listed at once, if it can be.
      if (!next && d.inode.fs.cacheDentries !== false && cached.length < names.length - 1) next = d.lookupFilled(names[cached.length], c) ?? undefined;
      if (!next) break;
      if (next.mounted) return;
      cached.push(next);
      d = next;
    }
    if (cached.length === names.length && this.inode.fs.revalidate === false) {
      // All cached where nothing needs checking (lookupChain would confirm them all).
      for (const d of cached) d.checkedIn = this.cache.walks;
      return;
    }
    const t0 = PHASES.on ? performance.now() : 0;
    const { valid, inodes } = this.inode.lookupChain(names, c, cached.map((d) => d.inode));
    if (PHASES.on) phaseAdd('vfs:prefetch-chain', performance.now() - t0);
    for (let i = 0; i < valid; i++) cached[i].checkedIn = this.cache.walks;
    if (valid < cached.length) return;
    let d: Dentry = cached.length ? cached[cached.length - 1] : this;
    inodes.forEach((inode, i) => {
      d = d.addChild(names[cached.length + i], inode);
      d.checkedIn = this.cache.walks;
    });
  }

  /** addChild caches a new child naming `inode` (after a lookup or a create) and returns
   * it; a cached child of that name is replaced. */
  addChild(name: string, inode: Inode): Dentry {
    const d = new Dentry(name, this, inode);
    this.attach(d);
    return d;
  }

  /** removeChild forgets the child called `name` (unlinked, or found stale): it is
   * destroyed once nothing holds it. */
  removeChild(name: string): void {
    const d = this.children.get(name);
    if (!d) return;
    this.kids!.delete(name);
    this.cache.settle(d);
    this.cache.settle(this);
  }

  /** moveTo makes this dentry `newParent`'s child `newName` (rename), replacing what
   * was cached there. */
  moveTo(newParent: Dentry, newName: string): void {
    const old = this.parent;
    old?.unlinkChild(this);
    this.name = newName;
    this.parent = newParent;
    newParent.attach(this);
    if (old && old !== newParent) this.cache.settle(old);
  }

  /** unlinkChild takes `d` out of this dentry's children if it is still the one cached
   * by its name (DentryCache.destroy, moveTo). */
  unlinkChild(d: Dentry): void {
    if (this.kids?.get(d.name) === d) this.kids.delete(d.name);
  }

  private attach(d: Dentry): void {
    const prev = this.children.get(d.name);
    (this.kids ??= new Map()).set(d.name, d);
    this.cache.added(d);
    if (prev && prev !== d) this.cache.settle(prev);
    this.cache.settle(this);
    this.cache.settle(d);
  }
}

/** successor is the name after `cur` in `order` when `prev` is right before it there. */
function successor(order: readonly string[], prev: string, cur: string): string | undefined {
  const i = order.indexOf(cur);
  return i > 0 && order[i - 1] === prev ? order[i + 1] : undefined;
}

/** naturalOrder compares names with their runs of digits as numbers (d2 before d10). */
export function naturalOrder(a: string, b: string): number {
  const pa = a.split(/(\d+)/), pb = b.split(/(\d+)/);
  for (let i = 0; i < pa.length && i < pb.length; i++) {
    if (pa[i] === pb[i]) continue;
    if (i % 2 === 0) return pa[i] < pb[i] ? -1 : 1; // text (split puts digit runs at odd places)
    const na = pa[i].replace(/^0+/, ''), nb = pb[i].replace(/^0+/, '');
    if (na !== nb) return na.length - nb.length || (na < nb ? -1 : 1);
    return pa[i].length - pb[i].length; // the same number: fewer leading zeros first
  }
  return pa.length - pb.length;
}
