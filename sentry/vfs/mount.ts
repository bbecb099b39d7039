/**
 * Dentries and mounts. A Dentry is a name in a directory of one file system, caching the
 * Inode it names and the children looked up so far. A Mount attaches a file system's root
 * (or a directory or file inside it: a bind mount) at a dentry of its parent mount. A
 * Location is the pair (mount, dentry): what a path resolves to and what a task's cwd
 * and root are.
 *
 * The mount table (MountNamespace.mounts) is kept in mount order, as Linux lists it in
 * /proc/<pid>/mountinfo (rendered by mountinfo.ts). Each mount has a Linux-like ID, its
 * per-mount flags (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and the atime flags) and its
 * propagation; what belongs to the file system instance (read-only at the super block, the
 * options it was mounted with) is in its Superblock, shared by every bind of it.
 *
 * Invariants: a dentry carries at most one mount directly (`mounted`); mounting again on
 * a mountpoint stacks the new mount on the top mount's root dentry (callers pass a
 * stepped-down Location), so `mounted` chains give the stack. A detached mount is out of
 * `mounts` and off its mountpoint (its `ns` is null); files opened in it keep working.
 * Every mount has its own dentry tree (a bind's root is a new Dentry naming the same
 * inode), so a mount namespace's copy (MountNamespace.copy) makes one Mount per mount and
 * only the dentries on the way to each mount point: its cost follows the mounts, not the
 * files. The peer groups of propagation span namespaces (propagation.ts).
 *
 * Dentries and their cache are in dentry.ts; a mount holds the dentry it is attached on.
 */
import { Errno, fail } from '../kernel/errors';
import { Dentry } from './dentry';
import { dtype, type DirEntry, type FileSystem, type Inode } from './inode';
import { copiesOf, propagateMount } from './propagation';

export { Dentry } from './dentry';

/** MS_RDONLY and the other mount flags of mount(2), reported by statfs/proc. */
export const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8;
/** The atime flags of mount(2). */
export const MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24;

/** Superblock is what the mounts of one file system instance share: read-only at the
 * file system level, and the options shown in mountinfo's last column. */
export class Superblock {
  constructor(
    readonly fs: FileSystem,
    /** readonly: mounted or remounted with MS_RDONLY (without MS_BIND). */
    public readonly: boolean,
    /** options are the file system's own options as Linux shows them (`size=65536k,mode=755`). */
    public options: string[] = [],
    /** type is the file system type shown (the spec's, e.g. tmpfs for the sentry's /dev). */
    readonly type: string = fs.name,
  ) {}
}

/** Propagation is a mount's propagation type as mountinfo shows it: shared with a peer
 * group, a slave of a master group, both, or neither (private); or unbindable. */
export interface Propagation {
  /** shared is the peer group ID (0: not shared). */
  shared: number;
  /** master is the peer group this mount receives from (0: none). */
  master: number;
  unbindable: boolean;
}

/** MOUNT_MAX bounds the mounts of the sandbox, all its mount namespaces together
 * (Linux's default fs.mount-max, which Linux counts per namespace): beyond it mount(2),
 * the copies propagation makes and a new namespace's copy fail with ENOSPC, so that an
 * application cannot grow the sentry's mount tables without end. */
export const MOUNT_MAX = 100_000;

/** live holds the mount namespaces not released yet: propagation reaches the mounts of
 * each, and MOUNT_MAX counts them. */
const live = new Set<MountNamespace>();

/** liveNamespaces lists the mount namespaces not released yet. */
export function liveNamespaces(): Iterable<MountNamespace> {
  return live;
}

/** checkRoom fails with ENOSPC when `more` mounts would take the sandbox past MOUNT_MAX. */
export function checkRoom(more: number): void {
  let n = more;
  for (const ns of live) n += ns.mounts.length;
  if (n > MOUNT_MAX) fail(Errno.ENOSPC);
}

let nextMountId = 1;
let nextPeerGroup = 1;

/** allocPeerGroup returns a new peer group ID (for MS_SHARED). */
export function allocPeerGroup(): number {
  return nextPeerGroup++;
}

/** Mount is a file system attached somewhere in the mount tree. */
export class Mount {
  readonly root: Dentry;
  /** id is the mount ID (mountinfo's first column, fdinfo's mnt_id). */
  readonly id = nextMountId++;
  readonly sb: Superblock;
  /** rootPath is the mount's root within its file system ('/' unless a bind of a part). */
  rootPath = '/';
  readonly propagation: Propagation = { shared: 0, master: 0, unbindable: false };
  /** ns is the mount namespace whose table holds this mount (null once detached). */
  ns: MountNamespace | null = null;

  constructor(
    readonly fs: FileSystem,
    /** parent is the mount holding the mountpoint (null for the root mount). */
    public parent: Mount | null,
    /** mountpoint is the dentry in parent where this mount is attached. */
    public mountpoint: Dentry | null,
    /** flags are the per-mount flags: MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and the
     * atime ones (MS_NOATIME, MS_NODIRATIME, MS_RELATIME), Linux's MNT_* set. */
    public flags: number,
    /** source is what /proc/mounts shows in its first column. */
    readonly source: string,
    /** rootInode is the mounted tree's top: the file system's root, or a file inside it (a bind). */
    rootInode: Inode = fs.root,
    sb?: Superblock,
  ) {
    this.root = new Dentry('/', null, rootInode);
    this.sb = sb ?? new Superblock(fs, false);
  }

  /** readonly: writes through this mount fail with EROFS (read-only mount or file system). */
  get readonly(): boolean {
    return (this.flags & MS_RDONLY) !== 0 || this.sb.readonly;
  }
}

/** Location is a place in the mount tree. */
export interface Location {
  mount: Mount;
  dentry: Dentry;
}

/** MountNamespace holds one mount tree of the sandbox (the kernel's is the first; unshare
 * and clone with CLONE_NEWNS make copies, kernel/mount-namespaces.ts). */
export class MountNamespace {
  readonly mounts: Mount[] = [];
  root: Location;
  /** copies maps each mount of the namespace this one was copied from to its copy here
   * (translate); empty for the first. */
  private readonly copies = new WeakMap<Mount, Mount>();
  /** released is set once the namespace died (release): it holds no mount any more. */
  released = false;

  /** The namespace's root mount is a new mount of rootFs, or `root` itself (a copy's). */
  constructor(rootFs: FileSystem | Mount, flags = 0, source = 'none', sb?: Superblock) {
    const m = rootFs instanceof Mount ? rootFs : new Mount(rootFs, null, null, flags, source, rootFs.root, sb);
    m.ns = this;
    this.mounts.push(m);
    this.root = { mount: m, dentry: m.root };
    live.add(this);
  }

  /** mount attaches fs (or the part of it under rootInode) at `at`. */
  mount(at: Location, fs: FileSystem, flags: number, source: string, rootInode?: Inode, sb?: Superblock): Mount {
    checkRoom(1);
    const m = new Mount(fs, at.mount, at.dentry, flags, source, rootInode, sb);
    this.attach(m, at);
    m.ns = this;
    this.mounts.push(m);
    return m;
  }

  /** bind mounts what `src` names at `at` (a new mount of src's file system, rooted at
   * src, sharing its super block), with per-mount flags `flags`. */
  bind(at: Location, src: Location, flags: number): Mount {
    const m = this.mount(at, src.mount.fs, flags, src.mount.source, src.dentry.inode, src.mount.sb);
    m.rootPath = this.fsPathOf(src);
    return m;
  }

  /**
   * copy makes a new namespace holding a copy of each of this one's mounts (Linux's
   * copy_mnt_ns, the caller's user namespace being the same): new mount objects and IDs
   * on the same super blocks, with the same flags, sources and roots, attached at the
   * same places, in the same order; a copy of a shared mount joins its peer group, of a
   * slave the same master, an unbindable one stays unbindable. ENOSPC past MOUNT_MAX.
   */
  copy(): MountNamespace {
    checkRoom(this.mounts.length);
    const children = new Map<Mount, Mount[]>();
    for (const m of this.mounts) {
      if (!m.parent) continue;
      const list = children.get(m.parent);
      if (list) list.push(m);
      else children.set(m.parent, [m]);
    }
    const top = this.root.mount;
    const rootCopy = cloneMount(top, null, null);
    const ns = new MountNamespace(rootCopy);
    ns.copies.set(top, rootCopy);
    const order = new Map<Mount, Mount>([[top, rootCopy]]);
    // Parents before children (mount order need not be: pivot_root puts the old root last).
    const queue = [top];
    for (let i = 0; i < queue.length; i++) {
      const parent = queue[i];
      const parentCopy = ns.copies.get(parent)!;
      for (const c of children.get(parent) ?? []) {
        const at = relocate(c.mountpoint!, parent.root, parentCopy);
        const copy = cloneMount(c, parentCopy, at);
        ns.attach(copy, { mount: parentCopy, dentry: at });
        copy.ns = ns;
        ns.copies.set(c, copy);
        order.set(c, copy);
        queue.push(c);
      }
    }
    ns.mounts.length = 0;
    for (const m of this.mounts) {
      const c = order.get(m);
      if (c) ns.mounts.push(c);
    }
    ns.root = ns.translate(this.root);
    return ns;
  }

  /** translate returns the place in this namespace that copies `loc` of the namespace it
   * was copied from (a task's root or cwd moved by unshare), or loc itself when its mount
   * was not copied here. */
  translate(loc: Location): Location {
    const copy = this.copies.get(loc.mount);
    return copy ? { mount: copy, dentry: relocate(loc.dentry, loc.mount.root, copy) } : loc;
  }

  /** release empties a namespace that died (its last task and reference gone): every
   * mount is detached, as Linux's put_mnt_ns unmounts its tree lazily; files open in
   * them keep working. No path reaches their dentries any more: each mount's tree is
   * dropped from the dentry cache (DentryCache.dropTree: what nothing holds is released
   * now, what an open file holds when it closes). It returns the mounts it took out. */
  release(): Mount[] {
    const gone = [...this.mounts];
    for (const m of gone) this.unhook(m);
    for (const m of gone) m.ns = null;
    for (const m of gone) m.root.cache.dropTree(m.root);
    this.mounts.length = 0;
    this.released = true;
    live.delete(this);
    return gone;
  }

  /** fsPathOf returns the path of a location within its file system (mountinfo's root). */
  fsPathOf(loc: Location): string {
    return fsPathOf(loc);
  }

  /** childrenOf lists the mounts attached inside m, in mount order. */
  childrenOf(m: Mount): Mount[] {
    return this.mounts.filter((c) => c.parent === m);
  }

  /** subtree lists m and every mount below it, in mount order. */
  subtree(m: Mount): Mount[] {
    const inside = new Set<Mount>([m]);
    for (const c of this.mounts) if (c.parent && inside.has(c.parent)) inside.add(c);
    return this.mounts.filter((c) => inside.has(c));
  }

  /** detach takes m and the mounts below it out of the tree (umount; MNT_DETACH for a
   * subtree). Open files in them keep working; what no path reaches any more leaves the
   * dentry cache (DentryCache.dropTree; the mounts below m stay on their mountpoints, as
   * Linux's lazy umount leaves them, reachable through a file open above them). */
  detach(m: Mount): void {
    const gone = new Set(this.subtree(m));
    this.unhook(m);
    for (const g of gone) g.ns = null;
    for (let i = this.mounts.length - 1; i >= 0; i--) if (gone.has(this.mounts[i])) this.mounts.splice(i, 1);
    for (const g of gone) g.root.cache.dropTree(g.root);
  }

  /** move reattaches mount m (with what is below it) at `at` (MS_MOVE). */
  move(m: Mount, at: Location): void {
    this.unhook(m);
    m.parent = at.mount;
    m.mountpoint = at.dentry;
    this.attach(m, at);
  }

  /** pivot makes `newRoot` (a mount) the namespace's root and attaches the old root mount
   * at `putOld` (pivot_root(2)). */
  pivot(newRoot: Mount, putOld: Location): Mount {
    const old = this.root.mount;
    this.unhook(newRoot);
    newRoot.parent = null;
    newRoot.mountpoint = null;
    old.parent = putOld.mount;
    old.mountpoint = putOld.dentry;
    this.attach(old, putOld);
    this.root = { mount: newRoot, dentry: newRoot.root };
    // Mount order: Linux lists a namespace from its root mount down.
    this.mounts.splice(this.mounts.indexOf(newRoot), 1);
    this.mounts.unshift(newRoot);
    return old;
  }

  /**
   * propagate applies mount propagation to the tree `m` heads, just attached
   * (propagation.ts): under a shared parent each of its mounts joins a peer group, and a
   * copy of the tree is attached at the same place in each mount that receives from the
   * parent's group, in this namespace or another. Past MOUNT_MAX, m is detached again
   * and ENOSPC thrown.
   */
  propagate(m: Mount): void {
    propagateMount(m, () => this.detach(m));
  }

  /** propagatedCopies lists the copies of `m` that propagate() attached in the mounts
   * receiving from its parent (umount takes them too), those with no mount below them. */
  propagatedCopies(m: Mount): Mount[] {
    return copiesOf(m);
  }

  /** attach hangs m on its mount point (`at`); the caller adds it to a table. */
  attach(m: Mount, at: Location): void {
    at.dentry.mounted = m; // keeps the dentry (and its ancestors) in the tree: see Dentry.mounted
    at.dentry.cache.settle(at.dentry);
  }

  private unhook(m: Mount): void {
    const mp = m.mountpoint;
    if (mp && mp.mounted === m) {
      mp.mounted = null;
      mp.cache.settle(mp);
    }
  }

  /** pathOf returns the absolute path of a location (as seen from the namespace root). */
  pathOf(loc: Location, root: Location = this.root): string {
    return this.reach(loc, root).path;
  }

  /** reach returns the path of `loc` from `root`, and whether root is on its way up (a
   * location outside a task's root is not reachable: mountinfo leaves it out). */
  reach(loc: Location, root: Location): { path: string; reachable: boolean } {
    const parts: string[] = [];
    let { mount, dentry } = loc;
    let reachable = false;
    for (;;) {
      if (mount === root.mount && dentry === root.dentry) {
        reachable = true;
        break;
      }
      if (dentry === mount.root) {
        if (!mount.parent || !mount.mountpoint) break;
        dentry = mount.mountpoint;
        mount = mount.parent;
        continue;
      }
      parts.push(dentry.name);
      if (!dentry.parent) break;
      dentry = dentry.parent;
    }
    return { path: `/${parts.reverse().join('/')}`, reachable };
  }
}

/** withMountpoints adds to a directory listing the mount points attached below `dir`
 * that its file system does not list: the placeholders boot made where the image lacks
 * a spec mount's destination (Linux's runtimes create those directories; the sentry
 * keeps them in its dentry tree only). Each shows the placeholder's own inode number and
 * type, as Linux's d_ino is the mountpoint's underlying dentry's. */
export function withMountpoints(dir: Dentry, entries: DirEntry[]): DirEntry[] {
  let names: Set<string> | null = null;
  for (const [name, child] of dir.children) {
    if (!child.placeholder) continue;
    names ??= new Set(entries.map((e) => e.name));
    if (names.has(name)) continue;
    const st = child.inode.stat();
    entries.push({ name, ino: st.ino, type: dtype(st.mode) });
  }
  return entries;
}

/** cloneMount makes a copy of m (same file system, super block, root, flags, source and
 * propagation) attached at `at` of `parent`; the caller hangs it and lists it. */
function cloneMount(m: Mount, parent: Mount | null, at: Dentry | null): Mount {
  const c = new Mount(m.fs, parent, at, m.flags, m.source, m.root.inode, m.sb);
  c.rootPath = m.rootPath;
  Object.assign(c.propagation, m.propagation);
  return c;
}

/**
 * relocate returns the dentry under `copy`'s root that stands where `d` stands under
 * `from` (a dentry of the mount copy copies, from being its root or a bound directory):
 * the names on the way are taken from copy's cached children, else added naming the same
 * inodes as the original's (no lookup: a copy costs its depth, and a name since unlinked
 * still leads where the original does); a placeholder (a mount point its file system
 * lacks) stays one. d must be below `from` (the caller knows it is).
 */
export function relocate(d: Dentry, from: Dentry, copy: Mount): Dentry {
  const chain: Dentry[] = [];
  for (let x: Dentry | null = d; x && x !== from; x = x.parent) chain.push(x);
  let cur = copy.root;
  for (const orig of chain.reverse()) {
    const cached = cur.children.get(orig.name);
    if (cached) {
      cur = cached;
      continue;
    }
    cur = cur.addChild(orig.name, orig.inode);
    cur.placeholder = orig.placeholder;
  }
  return cur;
}

/** locate finds the place of file system path `fsPath` inside mount `target` (on top of
 * what is mounted there), or null when target does not show it. */
export function locate(target: Mount, fsPath: string): Location | null {
  const base = target.rootPath;
  if (fsPath !== base && !fsPath.startsWith(base === '/' ? '/' : `${base}/`)) return null;
  const names = fsPath.slice(base.length).split('/').filter((n) => n !== '');
  let mount = target;
  let dentry = target.root;
  try {
    for (const n of names) {
      if (dentry.mounted) return null; // hidden below another mount
      dentry = dentry.child(n);
    }
  } catch {
    return null;
  }
  while (dentry.mounted) {
    mount = dentry.mounted;
    dentry = mount.root;
  }
  return { mount, dentry };
}

/** fsPathOf returns the path of a location within its file system (mountinfo's root). */
export function fsPathOf(loc: Location): string {
  const parts: string[] = [];
  for (let d: Dentry | null = loc.dentry; d && d !== loc.mount.root; d = d.parent) parts.push(d.name);
  const base = loc.mount.rootPath === '/' ? '' : loc.mount.rootPath;
  return parts.length === 0 ? loc.mount.rootPath : `${base}/${parts.reverse().join('/')}`;
}
