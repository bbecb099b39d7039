/**
 * Dentries and mounts. A Dentry is a name in a directory of one file system, caching the
 * Inode it names and the children looked up so far. A Mount attaches a file system's root
 * at a dentry of its parent mount. A Location is the pair (mount, dentry): what a path
 * resolves to and what a task's cwd and root are.
 *
 * Invariant: a dentry's children map only holds names that exist (no negative entries);
 * operations that add or remove names update it.
 */
import type { Credentials } from '../kernel/credentials';
import type { FileSystem, Inode } from './inode';

/** Dentry is one named file in the dentry tree of a file system. */
export class Dentry {
  readonly children = new Map<string, Dentry>();
  /** mounted is the mount attached on this dentry (the topmost), if any. */
  mounted: Mount | null = null;

  constructor(public name: string, public parent: Dentry | null, public inode: Inode) {}

  /** child returns the cached child or looks it up in the inode, for the task with
   * credentials `c` (the sentry itself when absent). */
  child(name: string, c?: Credentials): Dentry {
    let d = this.children.get(name);
    if (d?.inode.stale) {
      this.children.delete(name);
      d = undefined;
    }
    if (!d) {
      d = new Dentry(name, this, this.inode.lookup(name, c));
      this.children.set(name, d);
    }
    return d;
  }
}

/** MS_RDONLY and the other mount flags reported by statfs/proc. */
export const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8;

/** Mount is a file system attached somewhere in the mount tree. */
export class Mount {
  readonly root: Dentry;

  constructor(
    readonly fs: FileSystem,
    /** parent is the mount holding the mountpoint (null for the root mount). */
    readonly parent: Mount | null,
    /** mountpoint is the dentry in parent where this mount is attached. */
    readonly mountpoint: Dentry | null,
    public flags: number,
    /** source is what /proc/mounts shows in its first column. */
    readonly source: string,
    /** rootInode is the mounted tree's top: the file system's root, or a file inside it (a bind). */
    rootInode: Inode = fs.root,
  ) {
    this.root = new Dentry('/', null, rootInode);
  }

  get readonly(): boolean {
    return (this.flags & MS_RDONLY) !== 0;
  }
}

/** Location is a place in the mount tree. */
export interface Location {
  mount: Mount;
  dentry: Dentry;
}

/** MountNamespace holds the mount tree of a sandbox. */
export class MountNamespace {
  readonly mounts: Mount[] = [];
  readonly root: Location;

  constructor(rootFs: FileSystem, flags: number, source: string) {
    const m = new Mount(rootFs, null, null, flags, source);
    this.mounts.push(m);
    this.root = { mount: m, dentry: m.root };
  }

  /** mount attaches fs (or the part of it under rootInode) at `at`. */
  mount(at: Location, fs: FileSystem, flags: number, source: string, rootInode?: Inode): Mount {
    const m = new Mount(fs, at.mount, at.dentry, flags, source, rootInode);
    at.dentry.mounted = m;
    this.mounts.push(m);
    return m;
  }

  /** pathOf returns the absolute path of a location (as seen from the namespace root). */
  pathOf(loc: Location, root: Location = this.root): string {
    const parts: string[] = [];
    let { mount, dentry } = loc;
    for (;;) {
      if (mount === root.mount && dentry === root.dentry) break;
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
    return `/${parts.reverse().join('/')}`;
  }
}
