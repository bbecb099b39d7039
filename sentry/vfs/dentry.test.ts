import { Errno, fail } from '../kernel/errors';
import { Dentry, DentryCache, FILL_AFTER_MISSES, MIN_CAPACITY, naturalOrder } from './dentry';
import { Inode, S_IFDIR, S_IFREG, type FileSystem, type Stat } from './inode';
import type { FileDescription } from './file';

/** FakeFs is a tree of names whose inodes count their evictions. */
class FakeFs implements FileSystem {
  readonly name = 'fake';
  readonly dev = 99;
  readonly root: FakeInode;
  evicted: string[] = [];
  lookups = 0;
  chains: string[][] = [];
  cacheDentries?: boolean;
  revalidate?: boolean;
  /** listable: directories answer listChildren with `listed` names (f0, f1, ...), or
   * with `names` when set (those starting with d are directories). */
  listable = false;
  listed = 100;
  names: string[] | null = null;
  /** readaheads records each readahead: the directory, the name, and whether the child was cached. */
  readaheads: Array<[string, string, boolean]> = [];
  /** listings records each listChildren: the directory and the most asked for. */
  listings: Array<[string, number]> = [];
  /** lookupListings records each lookupListing: the directory, the name and the most asked for. */
  lookupListings: Array<[string, string, number]> = [];
  /** chainCached records how many names of each lookupChain were cached already. */
  chainCached: number[] = [];
  constructor() {
    this.root = new FakeInode(this, '', true);
  }
  statfs(): never {
    return fail(Errno.ENOSYS);
  }
}

let nextIno = 1;
class FakeInode extends Inode {
  readonly names = new Set<string>();
  valid = true;
  constructor(readonly ffs: FakeFs, readonly path: string, dir: boolean) {
    super(ffs, nextIno++, dir ? S_IFDIR | 0o755 : S_IFREG | 0o644);
  }
  stat(): Stat {
    return { mode: this.mode } as Stat;
  }
  open(): FileDescription {
    return fail(Errno.ENOSYS);
  }
  override lookup(name: string): Inode {
    this.ffs.lookups++;
    if (!this.isDir) fail(Errno.ENOTDIR);
    return new FakeInode(this.ffs, `${this.path}/${name}`, name.startsWith('d'));
  }
  override lookupChain(names: readonly string[], _c?: unknown, cached: readonly Inode[] = []): { valid: number; inodes: Inode[] } {
    this.ffs.chains.push([...names]);
    this.ffs.chainCached.push(cached.length);
    let valid = 0;
    while (valid < cached.length && (cached[valid] as FakeInode).valid) valid++;
    if (valid < cached.length) return { valid, inodes: [] };
    const inodes: Inode[] = [];
    let dir: FakeInode = (cached[cached.length - 1] as FakeInode | undefined) ?? this;
    for (const n of names.slice(cached.length)) {
      if (!dir.isDir) break;
      dir = new FakeInode(this.ffs, `${dir.path}/${n}`, n.startsWith('d'));
      inodes.push(dir);
    }
    return { valid, inodes };
  }
  override revalidate(_name: string, child: Inode): boolean {
    return (child as FakeInode).valid;
  }
  override listChildren(max: number): Array<{ name: string; inode: Inode }> | null {
    if (!this.ffs.listable) return null;
    this.ffs.listings.push([this.path, max]);
    if (this.ffs.names) return this.ffs.names.slice(0, max).map((n) => ({ name: n, inode: new FakeInode(this.ffs, `${this.path}/${n}`, n.startsWith('d')) }));
    return Array.from({ length: Math.min(max, this.ffs.listed) }, (_, i) => ({ name: `f${i}`, inode: new FakeInode(this.ffs, `${this.path}/f${i}`, false) }));
  }
  override lookupListing(name: string, max: number): { inode: Inode; entries: Array<{ name: string; inode: Inode }> | null } | null {
    if (!this.ffs.listable) return null;
    this.ffs.lookupListings.push([this.path, name, max]);
    const child = this.lookup(name) as FakeInode;
    return { inode: child, entries: child.isDir ? child.listChildren(max) : null };
  }
  override readahead(name: string, _max: number, _c?: unknown, cached?: Inode): void {
    this.ffs.readaheads.push([this.path, name, cached !== undefined]);
  }
  override evict(): void {
    this.ffs.evicted.push(this.path);
  }
}

function tree(capacity = MIN_CAPACITY) {
  const fs = new FakeFs();
  const cache = new DentryCache();
  cache.capacity = capacity;
  const root = new Dentry('/', null, fs.root, cache);
  return { fs, cache, root };
}

/** fill looks up `n` distinct files under root/dir and returns the dir's dentry. */
function fill(root: Dentry, dir: string, n: number): Dentry {
  const d = root.child(dir);
  for (let i = 0; i < n; i++) d.child(`f${i}`);
  return d;
}

describe('dentry cache', () => {
  test('idle dentries beyond the capacity are evicted, least recently used first, and their inodes released', () => {
    const { fs, cache, root } = tree(100);
    const dir = fill(root, 'd', 1000);
    // At most capacity (plus the trim slack) dentries remain; the rest were evicted.
    expect(cache.size).toBeLessThanOrEqual(100 + 32);
    expect(cache.size).toBe(dir.children.size + 1);
    expect(dir.children.size).toBeLessThanOrEqual(100 + 32);
    expect(fs.evicted.length).toBe(1000 - dir.children.size);
    expect(fs.evicted[0]).toBe('/d/f0');
    // The most recent names are still cached: looking one up again asks nobody.
    const before = fs.lookups;
    dir.child('f999');
    expect(fs.lookups).toBe(before);
    dir.child('f0');
    expect(fs.lookups).toBe(before + 1);
  });

  test('a cached name looked up again moves to the recent end: evictions follow the order of last use, and the idle count follows the list', () => {
    const { fs, cache, root } = tree(MIN_CAPACITY);
    const dir = fill(root, 'd', 40);
    expect(cache.idleCount).toBe(40);
    for (const i of [5, 0, 17]) dir.child(`f${i}`); // f5, f0, f17 become the most recent, in that order
    expect(fs.lookups).toBe(41);
    fill(root, 'd', 0);
    for (let i = 40; i < 40 + MIN_CAPACITY + 32; i++) dir.child(`f${i}`);
    const order = fs.evicted.filter((p) => /^\/d\/f([0-9]|[1-3][0-9])$/.test(p));
    expect(order.slice(0, 37)).toEqual(Array.from({ length: 40 }, (_, i) => `/d/f${i}`).filter((p) => !['/d/f5', '/d/f0', '/d/f17'].includes(p)));
    expect(order.slice(37)).toEqual(['/d/f5', '/d/f0', '/d/f17'].slice(0, order.length - 37));
    expect(cache.idleCount).toBe(dir.children.size);
  });

  test('held dentries count toward the bound: a wide tree of one file per directory stays bounded', () => {
    const { fs, cache, root } = tree(100);
    for (let i = 0; i < 1000; i++) root.child(`d${i}`).child('f');
    expect(cache.size).toBeLessThanOrEqual(100 + 32);
    expect(fs.evicted.length).toBe(2000 - cache.size);
  });

  test('a dentry with a cached child keeps its parent; the parent goes once the children have', () => {
    const { fs, cache, root } = tree(MIN_CAPACITY);
    const sub = root.child('d1').child('d2');
    sub.child('x');
    expect(cache.idleCount).toBe(1); // only the leaf is idle
    fill(root, 'd9', 500); // pushes everything older out
    expect(fs.evicted).toEqual(expect.arrayContaining(['/d1/d2/x', '/d1/d2', '/d1']));
    expect(root.children.has('d1')).toBe(false);
    // Evicted in order: a child before its parent.
    expect(fs.evicted.indexOf('/d1/d2/x')).toBeLessThan(fs.evicted.indexOf('/d1/d2'));
  });

  test('a referenced dentry (an open file) is never evicted; released, it becomes idle again', () => {
    const { fs, cache, root } = tree(MIN_CAPACITY);
    const held = root.child('d').child('held');
    held.incRef();
    fill(root, 'd', 1000);
    expect(fs.evicted).not.toContain('/d/held');
    expect(root.children.get('d')!.children.get('held')).toBe(held);
    held.decRef();
    expect(cache.idleCount).toBeGreaterThan(0);
    fill(root, 'd', 2000);
    expect(fs.evicted).toContain('/d/held');
  });

  test('a pinned dentry (a cwd) is kept and its ancestors with it', () => {
    const { fs, cache, root } = tree(MIN_CAPACITY);
    const cwd = root.child('dw').child('dx');
    cache.pinned = () => [cwd];
    fill(root, 'd', 1000);
    expect(fs.evicted).not.toContain('/dw/dx');
    expect(root.children.get('dw')!.children.get('dx')).toBe(cwd);
  });

  test('a dropped tree (its mount left every namespace) releases every idle dentry and inode at once; an open file\'s goes when it closes, with its directories and root', () => {
    const { fs, cache, root } = tree(1000);
    const d = fill(root, 'd', 300);
    root.child('d2').child('x');
    const held = d.child('f7');
    held.incRef();
    const rootCount = (fs.root as FakeInode).dentries;
    cache.dropTree(root);
    // Left: the open file, its directory and the root (3 of 304 dentries); every other inode released.
    expect(fs.evicted.length).toBe(300 - 1 + 2);
    expect(fs.evicted).not.toContain('/d/f7');
    expect(cache.idleCount).toBe(0);
    expect(root.children.get('d')!.children.size).toBe(1);
    held.decRef();
    expect(fs.evicted.slice(-3)).toEqual(['/d/f7', '/d', '']);
    expect(cache.size).toBe(0);
    expect((fs.root as FakeInode).dentries).toBe(rootCount - 1);
  });

  test('a dropped tree keeps a task\'s cwd until no task uses it (the next trim)', () => {
    const { fs, cache, root } = tree(MIN_CAPACITY);
    const cwd = root.child('dw').child('dx');
    let pinned = [cwd];
    cache.pinned = () => pinned;
    cache.dropTree(root);
    expect(fs.evicted).toEqual([]);
    pinned = [];
    cache.trim(0);
    expect(fs.evicted).toEqual(['/dw/dx', '/dw', '']);
    expect(cache.size).toBe(0);
  });

  test('a mountpoint is held', () => {
    const { fs, root } = tree(MIN_CAPACITY);
    const mp = root.child('dmnt');
    mp.mounted = {} as never;
    mp.cache.settle(mp);
    fill(root, 'd', 1000);
    expect(fs.evicted).not.toContain('/dmnt');
  });

  test('a removed name is released when its last reference goes, not before', () => {
    const { fs, root } = tree();
    const dir = root.child('d');
    const f = dir.child('gone');
    f.incRef();
    dir.removeChild('gone');
    expect(fs.evicted).not.toContain('/d/gone');
    f.decRef();
    expect(fs.evicted).toContain('/d/gone');
    expect(dir.children.size).toBe(0);
  });

  test('an inode named by two dentries (a hard link) is released with the last one', () => {
    const { fs, root } = tree();
    const dir = root.child('d');
    const a = dir.child('a');
    dir.addChild('b', a.inode);
    dir.removeChild('a');
    expect(fs.evicted).not.toContain('/d/a');
    dir.removeChild('b');
    expect(fs.evicted).toContain('/d/a');
  });

  test('a child that fails revalidation is looked up again and the stale one released', () => {
    const { fs, root } = tree();
    const dir = root.child('d');
    const old = dir.child('f');
    (old.inode as FakeInode).valid = false;
    const fresh = dir.child('f');
    expect(fresh).not.toBe(old);
    expect(fs.evicted).toContain('/d/f');
    expect(dir.children.get('f')).toBe(fresh);
  });

  test('rename moves a dentry; the old parent may become idle', () => {
    const { cache, root } = tree();
    const a = root.child('da');
    const b = root.child('db');
    const f = a.child('f');
    f.moveTo(b, 'g');
    expect(a.children.size).toBe(0);
    expect(b.children.get('g')).toBe(f);
    expect(f.parent).toBe(b);
    expect(cache.idleCount).toBe(2); // da and g
  });

  test('prefetch looks a chain up in one go; the walk then finds it cached and checked', () => {
    const { fs, cache, root } = tree();
    cache.newWalk();
    root.prefetch(['da', 'db', 'f']);
    expect(fs.chains).toEqual([['da', 'db', 'f']]);
    expect(fs.lookups).toBe(0);
    const f = root.child('da').child('db').child('f');
    expect(f.fresh).toBe(true);
    expect(fs.lookups).toBe(0);
    // A file ends the chain: nothing below it is made up.
    root.prefetch(['da', 'db', 'f', 'g']);
    expect(root.child('da').child('db').child('f').children.size).toBe(0);
  });

  test('prefetch of names all cached asks nothing where the file system says they need no check (revalidate false)', () => {
    const { fs, cache, root } = tree();
    root.child('da').child('db').child('f');
    fs.revalidate = false;
    cache.newWalk();
    root.prefetch(['da', 'db', 'f']);
    expect(fs.chains).toEqual([]);
    const f = root.child('da').child('db').child('f');
    expect(f.fresh).toBe(true);
    expect(fs.lookups).toBe(3); // the three made above, none since
    // A name not cached yet still goes to the file system, with the cached prefix.
    cache.newWalk();
    root.prefetch(['da', 'db', 'g']);
    expect(fs.chains).toEqual([['da', 'db', 'g']]);
    expect(fs.chainCached).toEqual([2]);
    // Where the file system decides name by name, the cached chain is asked about.
    fs.revalidate = undefined;
    cache.newWalk();
    root.prefetch(['da', 'db', 'f']);
    expect(fs.chains).toEqual([['da', 'db', 'g'], ['da', 'db', 'f']]);
  });

  test('prefetch revalidates the cached prefix; a changed name stops the chain and is looked up again', () => {
    const { fs, cache, root } = tree();
    const dx = root.child('dx');
    dx.child('old');
    (dx.inode as FakeInode).valid = false;
    cache.newWalk();
    root.prefetch(['dx', 'old']);
    expect(dx.fresh).toBe(false);
    const again = root.child('dx');
    expect(again).not.toBe(dx);
    expect(fs.evicted).not.toContain('/dx'); // its child still holds it until evicted
    cache.newWalk();
    expect(again.fresh).toBe(false); // checked in an earlier walk only
  });

  test('a file system that caches nothing gets a fresh dentry per lookup', () => {
    const { fs, root } = tree();
    fs.cacheDentries = false;
    const one = root.child('x');
    const two = root.child('x');
    expect(one).not.toBe(two);
    expect(root.children.size).toBe(0);
    expect(fs.lookups).toBe(2);
  });

  test('a directory whose file system lists names with attributes is listed once, at its FILL_AFTER_MISSES-th missing name', () => {
    const { fs, cache, root } = tree(1000);
    const d = root.child('d');
    d.listed = true; // f5 is looked up before the directory is listed
    const f5 = d.child('f5');
    d.listed = false;
    fs.listable = true;
    fs.lookups = 0;
    fs.listings = [];
    for (let i = 0; i < 100; i++) {
      cache.newWalk();
      d.child(`f${i}`);
    }
    expect(fs.listings).toEqual([['/d', Math.floor((1000 - MIN_CAPACITY) / 4)]]);
    // The names missed before it (a program's few lookups) were looked up alone.
    expect(fs.lookups).toBe(FILL_AFTER_MISSES - 1);
    // A name cached before the listing keeps its dentry; the listed inode is released.
    expect(d.children.get('f5')).toBe(f5);
    const before = Array.from({ length: FILL_AFTER_MISSES - 1 }, (_, i) => `/d/f${i}`);
    expect(fs.evicted).toEqual([...before, '/d/f5']);
    // A name the listing did not bring is looked up as before, and nothing is listed again.
    cache.newWalk();
    d.child('g');
    expect(fs.lookups).toBe(FILL_AFTER_MISSES);
    expect(fs.listings).toHaveLength(1);
    // A program's few lookups (a name or two in each of a few directories) list nothing.
    const few = tree(1000);
    few.fs.listable = true;
    few.fs.listings = [];
    for (let i = 0; i < FILL_AFTER_MISSES - 1; i++) {
      few.cache.newWalk();
      few.root.child(`d${i}`).child('f');
    }
    expect(few.fs.listings).toEqual([]);
    // Without the file system's help: one lookup per name, as before.
    const plain = tree(1000);
    const p = plain.root.child('d');
    for (let i = 0; i < 100; i++) p.child(`f${i}`);
    expect(plain.fs.lookups).toBe(101);
  });

  test('a directory named by its parent\'s listing is listed at its first missing name once another of the parent\'s subdirectories was (a walk over a tree); not when the parent\'s listing failed', () => {
    const { fs, cache, root } = tree(1000);
    fs.listable = true;
    fs.listed = 5; // a listing brings f0..f4 (files: one is made a directory below)
    const top = root.child('dtop');
    for (let k = 0; k < FILL_AFTER_MISSES; k++) {
      cache.newWalk();
      top.child(`x${k}`); // the misses that list top
    }
    expect(fs.listings.map(([dir]) => dir)).toEqual(['/dtop']);
    expect(top.filled).toBe(true);
    const f0 = top.children.get('f0')!;
    const f1 = top.children.get('f1')!;
    f0.inode.mode = S_IFDIR | 0o755; // listed as directories
    f1.inode.mode = S_IFDIR | 0o755;
    // The first subdirectory entered: a program's lookup under a listed directory may be
    // no walk over it: FILL_AFTER_MISSES as before.
    for (let k = 0; k < FILL_AFTER_MISSES; k++) {
      cache.newWalk();
      f0.child(`h${k}`);
    }
    expect(fs.listings.map(([dir]) => dir)).toEqual(['/dtop', '/dtop/f0']);
    fs.lookups = 0;
    cache.newWalk();
    f1.child('g0');
    // The second: listed at once, in one go, instead of FILL_AFTER_MISSES - 1 lookups of its own first.
    expect(fs.listings.map(([dir]) => dir)).toEqual(['/dtop', '/dtop/f0', '/dtop/f1']);
    expect(fs.lookups).toBe(1); // g0 is not among its entries (f0..f4): looked up
    // A parent whose listing brought nothing (its file system cannot list) changes nothing.
    const other = tree(1000);
    const dir = other.root.child('dir');
    for (let k = 0; k < FILL_AFTER_MISSES; k++) dir.child(`d${k}`); // dir's listing is tried and fails
    expect(dir.listed && !dir.filled).toBe(true);
    other.fs.listable = true;
    const d0 = dir.children.get('d0')!;
    d0.child('f');
    expect(other.fs.listings).toEqual([]);
  });

  test('a walk listing a listed directory\'s subdirectories one after another in its listing order, or in natural order, has the next one read ahead', () => {
    const { fs, cache, root } = tree(1000);
    fs.listable = true;
    // The listing's order is neither sorted nor natural (a host's hash order).
    fs.names = ['d7', 'd2', 'd10', 'd1', 'd3', 'file'];
    root.listed = true; // as lookupFilled finds it: listed, its entries gone since
    root.filled = true;
    cache.newWalk();
    root.prefetch(['dtop', 'x']); // lists dtop: d7 d2 d10 d1 d3 file
    const top = root.children.get('dtop')!;
    expect(top.filled).toBe(true);
    fs.names = ['f0'];
    // A visit looks up names below the directory until it is listed (the first one at
    // its FILL_AFTER_MISSES-th miss, the next ones at their first).
    const visit = (name: string) => {
      for (let k = 0; k < FILL_AFTER_MISSES; k++) {
        cache.newWalk();
        top.prefetch([name, `g${k}`]);
      }
    };
    // Listing order: d7 then d2 predicts d10 (cached from top's listing, not listed yet).
    visit('d7');
    expect(fs.readaheads).toEqual([]); // one visit predicts nothing
    visit('d2');
    expect(fs.readaheads).toEqual([['/dtop', 'd10', true]]);
    // Natural order: d1, d2 predicts d3 (d10 is not next: natural, not byte order).
    fs.readaheads = [];
    visit('d1');
    expect(fs.readaheads).toEqual([]); // d2 -> d1 follows no order
    visit('d3');
    expect(fs.readaheads).toEqual([]); // d1 -> d3: neither order
    const other = tree(1000);
    other.fs.listable = true;
    other.fs.names = ['d3', 'd2', 'd10', 'd1'];
    other.root.listed = true;
    other.root.filled = true;
    other.cache.newWalk();
    other.root.prefetch(['dtop', 'x']);
    const t2 = other.root.children.get('dtop')!;
    other.fs.names = ['f0'];
    const visit2 = (name: string) => {
      for (let k = 0; k < FILL_AFTER_MISSES; k++) {
        other.cache.newWalk();
        t2.prefetch([name, `g${k}`]);
      }
    };
    visit2('d1');
    visit2('d2');
    expect(other.fs.readaheads).toEqual([['/dtop', 'd3', true]]);
    // The next one listed already (or a mountpoint) is not read ahead.
    t2.children.get('d10')!.listed = true;
    visit2('d3');
    expect(other.fs.readaheads).toEqual([['/dtop', 'd3', true]]);
  });

  test('naturalOrder sorts runs of digits as numbers', () => {
    expect(['d10', 'd2', 'd1', 'a', 'd02', 'd', 'e1', 'd1x'].sort(naturalOrder)).toEqual(['a', 'd', 'd1', 'd1x', 'd2', 'd02', 'd10', 'e1']);
    expect(naturalOrder('part-00009', 'part-00010')).toBeLessThan(0);
    expect(naturalOrder('x', 'x')).toBe(0);
  });

  test('a listing is bounded by the cache: a quarter of the capacity beyond its floor, and the cache stays bounded', () => {
    const { fs, cache, root } = tree(200);
    fs.listable = true;
    fs.listed = 10_000;
    for (let i = 0; i < 20; i++) {
      cache.newWalk();
      const d = root.child(`d${i}`);
      for (let k = 0; k < FILL_AFTER_MISSES; k++) d.child(`f${k}`);
    }
    expect(fs.listings.every(([, max]) => max === Math.floor((200 - MIN_CAPACITY) / 4))).toBe(true);
    expect(cache.size).toBeLessThanOrEqual(200 + 32);
    // A directory listed and then evicted with its children is listed again when looked up anew.
    expect(fs.evicted.length).toBeGreaterThan(0);
  });

  test('the listings of one path walk share a budget (what a syscall resolved stays cached), and the prefetched chain uses a listing', () => {
    const { fs, cache, root } = tree(1000); // a share of (1000 - 64) / 4 = 234 entries per walk
    // The root's listing (at its third miss) fails: its children are listed at their own misses.
    const a = root.child('da');
    const b = root.child('db');
    const d = root.child('dc');
    fs.listable = true;
    // Each has missed all but one of the names it takes to be listed, in earlier walks.
    for (const x of [a, b, d]) {
      for (let k = 0; k < FILL_AFTER_MISSES - 1; k++) {
        cache.newWalk();
        x.child(`g${k}`);
      }
    }
    fs.listings = [];
    cache.newWalk();
    a.child('f1'); // 100 listed, 134 left
    b.child('f1'); // at least half the share left: listed, with what is left at most
    d.child('f1'); // 34 left: looked up, listed in a later walk
    expect(fs.listings).toEqual([['/da', 234], ['/db', 134]]);
    cache.newWalk();
    fs.chains = [];
    root.prefetch(['dc', 'f7']);
    // dc was listed in this new walk, and f7 came from the listing.
    expect(fs.listings.map(([dir]) => dir)).toEqual(['/da', '/db', '/dc']);
    expect(d.children.has('f7')).toBe(true);
  });

  test('a name not seen yet with names below it is looked up and listed in one go: the names below come from its listing', () => {
    const { fs, cache, root } = tree(1000);
    fs.listable = true;
    root.listed = true; // listed before, its entries gone since (evicted)
    cache.newWalk();
    root.prefetch(['d9', 'f7']);
    expect(fs.lookupListings).toEqual([['', 'd9', Math.floor((1000 - MIN_CAPACITY) / 4)]]);
    expect(fs.listings).toEqual([['/d9', Math.floor((1000 - MIN_CAPACITY) / 4)]]);
    // Nothing is left to look up by name: the chain is all cached, and checked in this walk.
    expect(fs.chainCached).toEqual([2]);
    const d9 = root.children.get('d9')!;
    expect(d9.listed).toBe(true);
    expect(d9.fresh && d9.children.get('f7')!.fresh).toBe(true);
    fs.lookups = 0;
    d9.child('f7');
    d9.child('f8');
    expect(fs.lookups).toBe(0);
    // The last name of a chain is not listed (it need not be a directory), nor a name
    // whose file system cannot list.
    cache.newWalk();
    root.prefetch(['d8']);
    expect(fs.lookupListings).toHaveLength(1);
    fs.listable = false;
    cache.newWalk();
    root.prefetch(['d7', 'f1']);
    expect(fs.lookupListings).toHaveLength(1);
    expect(fs.chains.at(-1)).toEqual(['d7', 'f1']);
  });
});
