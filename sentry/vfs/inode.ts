/**
 * Inode is a file of some file system (tmpfs, proc, dev, the gofer's rootfs...): its
 * attributes and the operations on it. Directory operations take single names; the
 * path walk (vfs/path.ts) is the only place paths are split. Every operation that a
 * file system does not support throws the errno Linux gives (ENOTDIR, EPERM, EROFS...).
 */
import { Errno, fail } from '../kernel/errors';
import type { Credentials } from '../kernel/credentials';
import type { FileDescription } from './file';
import type { Location } from './mount';
import type { FileAttrs } from './permission';

/** S_IF* file type bits. */
export const S_IFMT = 0o170000, S_IFSOCK = 0o140000, S_IFLNK = 0o120000, S_IFREG = 0o100000, S_IFBLK = 0o060000,
  S_IFDIR = 0o040000, S_IFCHR = 0o020000, S_IFIFO = 0o010000;
/** S_ISUID, S_ISGID, S_ISVTX are the set-user-ID, set-group-ID and sticky bits. */
export const S_ISUID = 0o4000, S_ISGID = 0o2000, S_ISVTX = 0o1000;

/** Timespec is a time in seconds and nanoseconds. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** Stat is what stat(2) reports. */
export interface Stat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** unmapped is set when the owner or the group has no id in the container's user
   * namespace (a host file outside the uid/gid mappings, shown as 65534): no capability
   * applies to the file then (Linux's privileged_wrt_inode_uidgid). */
  unmapped?: boolean;
}

/** SetAttr lists the attribute changes of chmod/chown/truncate/utimensat (absent = unchanged). */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec | 'now';
  mtime?: Timespec | 'now';
}

/** StatFs is what statfs(2) reports. */
export interface StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  flags: number;
}

/** FileSystem is one mounted file system instance. */
export interface FileSystem {
  /** name is the type shown in /proc/mounts (tmpfs, proc, 9p...). */
  readonly name: string;
  /** dev is the device number stat reports for its files. */
  readonly dev: number;
  readonly root: Inode;
  statfs(): StatFs;
  /** cacheDentries false keeps its names out of the dentry cache: every lookup asks the
   * file system again (procfs, whose entries come and go with tasks). */
  readonly cacheDentries?: boolean;
  /** revalidate false says that the names it caches change only through the sandbox
   * (the gofer's rootfs): a cached name needs no check with the file system
   * (Inode.revalidate and lookupChain confirm it without asking), so a walk over cached
   * names asks nothing. True or absent: the file system decides name by name. */
  readonly revalidate?: boolean;
}

/** DirEntry is one directory entry as getdents64 reports it. */
export interface DirEntry {
  name: string;
  ino: number;
  /** type is the DT_* value. */
  type: number;
}

/** dtype returns the DT_* value for a mode. */
export function dtype(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

export function nowTimespec(): Timespec {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

/** Inode is the base of every file system's files; subclasses override what they support. */
export abstract class Inode {
  /** dentries counts the dentries naming this inode (dentry.ts); when the last one leaves
   * the dentry cache, evict() is called. */
  dentries = 0;

  constructor(readonly fs: FileSystem, readonly ino: number, public mode: number) {}

  /** evict releases what the file system holds for this file once no dentry names it
   * any more (the gofer's fid). Nothing holds the inode then but open files that keep
   * their own resources. */
  evict(): void {}

  /** watchStarted is called when the first inotify watch on this file begins, and
   * watchEnded when the last one ends (vfs/fsnotify.ts): a file system whose files change
   * outside the sandbox starts and stops reporting those changes there. */
  watchStarted(): void {}
  watchEnded(): void {}

  /** revalidate tells whether `child`, cached as this directory's entry `name`, is still
   * what the name refers to (for the task with credentials `c`), refreshing its cached
   * attributes as a side effect where the file system checks. Files only the sandbox
   * changes are always valid. */
  revalidate(_name: string, _child: Inode, _c?: Credentials): boolean {
    return true;
  }

  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }

  get isSymlink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }

  get isRegular(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }

  /** stat returns the current attributes. */
  abstract stat(): Stat;

  /** accessAttrs returns the attributes a permission check reads (mode, owner, group),
   * as current as stat's: a file system that holds them in an object of its own returns
   * that instead of making a Stat (path resolution checks search permission on every
   * directory it passes). */
  accessAttrs(): FileAttrs {
    return this.stat();
  }

  /** open returns an open file description for the file at `loc`. */
  abstract open(loc: Location, flags: number, creds: Credentials): FileDescription;

  /** readonly file systems (and their mounts) refuse changes with EROFS. */
  get readonly(): boolean {
    return false;
  }

  /** namesCreatable: a name this directory lacks can be created (if the mount, the file
   * system and the permissions allow). False for a directory whose lookup of a missing
   * name fails ENOENT rather than giving a negative dentry (Linux's procfs: mkdir or
   * creat of a new name in /proc fails ENOENT, before EROFS and EACCES). */
  get namesCreatable(): boolean {
    return true;
  }

  /** setattr applies changes already checked by the caller; `c` is who asks (a file
   * system served by the gofer passes it on, as its second line of checks). */
  setattr(_a: SetAttr, _c?: Credentials): void {
    fail(Errno.EPERM);
  }

  readlink(): string {
    return fail(Errno.EINVAL);
  }

  /** jump is, for a "magic" symlink (/proc/<pid>/fd/N), where following it leads instead
   * of its text: the open file itself, even unnamed or deleted (Linux's nd_jump_link).
   * null for an ordinary symlink. */
  jump(): Location | null {
    return null;
  }

  /** stale tells the dentry cache that this inode no longer stands for a live object (a
   * /proc entry of a reaped process or a closed descriptor): look the name up again. */
  get stale(): boolean {
    return false;
  }

  /** lookup returns the child called name (never '.' or '..'), or throws ENOENT; `c` are
   * the credentials of the task it is looked up for (a file system that checks again). */
  lookup(_name: string, _c?: Credentials): Inode {
    return fail(this.isDir ? Errno.ENOENT : Errno.ENOTDIR);
  }

  /**
   * lookupChain prepares `names`, each below the one before, in one go where the file
   * system can do it in fewer round trips than one lookup per name (the gofer's). The
   * first `cached.length` names have cached dentries with these inodes: `valid` says how
   * many of them are confirmed (revalidated, or needing none); `inodes` are new inodes
   * for the names after them, as far as they go (a missing name, or one that is no
   * directory, ends them without an error). Other file systems confirm nothing and
   * return none: the path walk then goes name by name.
   */
  lookupChain(_names: readonly string[], _c?: Credentials, _cached: readonly Inode[] = []): { valid: number; inodes: Inode[] } {
    return { valid: 0, inodes: [] };
  }

  /**
   * listChildren returns this directory's entries (at most `max`), each with an inode
   * whose attributes are fresh, in one go where the file system can do it more cheaply
   * than a lookup per name (the gofer's Treaddirstat), listed for the task with
   * credentials `c`; null where it cannot or should not (names that change behind the
   * sandbox's back must be looked up each time).
   */
  listChildren(_max: number, _c?: Credentials): Array<{ name: string; inode: Inode }> | null {
    return null;
  }

  /**
   * readahead starts, without waiting for it, what lookupListing (or listChildren of the
   * child `cached`, an inode its listing named) would ask of the file system for the
   * child `name`: a path walk over a tree is predicted to go there next (Dentry's
   * readahead). A file system that cannot does nothing; one that can keeps the answer
   * only as long as it still holds (see GoferInode.readahead).
   */
  readahead(_name: string, _max: number, _c?: Credentials, _cached?: Inode): void {}

  /**
   * lookupListing looks up the child `name` of this directory and lists that child's
   * entries (at most `max`, as listChildren would) in one go, where the file system can
   * do both in the round trip of the lookup alone (the gofer's Twalkstat and Treaddirstat
   * pipelined): a path walk about to go below a name it has not seen. `entries` is null
   * when the child could not be listed (not a directory, not readable for the task with
   * credentials `c`); the whole answer is null where the file system cannot, or when the
   * lookup failed (the caller then looks the name up as usual, and meets its error).
   */
  lookupListing(_name: string, _max: number, _c?: Credentials): { inode: Inode; entries: Array<{ name: string; inode: Inode }> | null } | null {
    return null;
  }

  /**
   * Extended attributes of the "user." namespace (vfs/xattr.ts checks the name, the file
   * type and the permissions first; `c` is who asks, for a file system that checks again).
   * A file system that stores none refuses get, set and remove with EOPNOTSUPP and lists
   * nothing, as Linux's do. getxattr throws ENODATA for a name the file lacks; setxattr
   * takes XATTR_CREATE (EEXIST when present) and XATTR_REPLACE (ENODATA when absent).
   */
  getxattr(_name: string, _c?: Credentials): Buffer {
    return fail(Errno.EOPNOTSUPP);
  }

  listxattr(_c?: Credentials): string[] {
    return [];
  }

  setxattr(_name: string, _value: Buffer, _flags: number, _c?: Credentials): void {
    fail(Errno.EOPNOTSUPP);
  }

  removexattr(_name: string, _c?: Credentials): void {
    fail(Errno.EOPNOTSUPP);
  }

  /** readdir lists the directory's entries without '.' and '..'. */
  readdir(): DirEntry[] {
    return fail(Errno.ENOTDIR);
  }

  create(_name: string, _mode: number, _c: Credentials): Inode {
    return fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  /**
   * createOpen creates the regular file `name` and opens it with `flags`, as one step:
   * the new file is open for writing even when its mode grants no write permission (an
   * open(O_CREAT) never checks the permissions of the file it creates). `at` makes the
   * location of the new file from its inode. File systems whose open checks permissions
   * again (the gofer's host) override it to create and open at once.
   */
  createOpen(name: string, mode: number, flags: number, c: Credentials, at: (inode: Inode) => Location): FileDescription {
    const inode = this.create(name, mode, c);
    return inode.open(at(inode), flags, c);
  }

  mkdir(_name: string, _mode: number, _c: Credentials): Inode {
    return fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  symlink(_name: string, _target: string, _c: Credentials): Inode {
    return fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  mknod(_name: string, _mode: number, _rdev: number, _c: Credentials): Inode {
    return fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  link(_name: string, _target: Inode, _c?: Credentials): void {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  unlink(_name: string, _c?: Credentials): void {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  rmdir(_name: string, _c?: Credentials): void {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  /** rename moves child `oldName` to `newDir`/`newName` (same file system, checked by the
   * caller); `moving` is the inode the caller's dentry of `oldName` names, when it has one. */
  rename(_oldName: string, _newDir: Inode, _newName: string, _c?: Credentials, _moving?: Inode): void {
    fail(this.isDir ? Errno.EPERM : Errno.ENOTDIR);
  }

  /** moved tells this inode that it is now called `name` in its directory (a rename of
   * it succeeded); a file system that keeps the name it was opened by follows it. */
  moved(_name: string): void {}
}
