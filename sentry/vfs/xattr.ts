/**
 * Extended attributes: the checks Linux makes before a file system sees a request
 * (fs/xattr.c's xattr_permission, after the name and size checks of the syscalls), and
 * XattrMap, the store of a file system that keeps attributes in the sentry (tmpfs).
 *
 * Only the "user." namespace is stored. The others are refused with EOPNOTSUPP, as by a
 * Linux file system without a handler for them: "trusted." needs CAP_SYS_ADMIN over the
 * host, "security." (file capabilities, SELinux labels) would act on the host's
 * executables of a bind mount, and "system." holds POSIX ACLs, which the sandbox does
 * not enforce. The gofer refuses other namespaces too: the rule is gofer/p9/xattr.ts's.
 */
import { isUserXattrName, XATTR_CREATE, XATTR_REPLACE, XATTR_SIZE_MAX } from '../../gofer/p9/xattr';
import { Errno, fail } from '../kernel/errors';
import { MAY_READ, MAY_WRITE } from '../kernel/credentials';
import type { Task } from '../kernel/task';
import { IN_ATTRIB, notifyFile } from './fsnotify';
import { S_IFDIR, S_IFMT, S_IFREG, S_ISVTX } from './inode';
import type { Location } from './mount';
import { checkWritableMount, mayAccess } from './ops';
import { ownerOrCapable } from './permission';

export { isUserXattrName, XATTR_CREATE, XATTR_REPLACE, XATTR_SIZE_MAX };
/** XATTR_NAME_MAX is Linux's limit on a name. */
export const XATTR_NAME_MAX = 255;
/** XATTR_LIST_MAX is the largest list listxattr returns (Linux's; E2BIG beyond). */
export const XATTR_LIST_MAX = 65536;

/**
 * check makes xattr_permission's checks of `want` (MAY_READ or MAY_WRITE) on attribute
 * `name` of the file at `loc`: EOPNOTSUPP outside the "user." namespace; a file other
 * than a regular file or directory has no user attributes (EPERM to write, ENODATA to
 * read); a sticky directory's are its owner's (or CAP_FOWNER's) to write; then the file's
 * read or write permission, and a writable mount to write.
 */
function check(t: Task, loc: Location, name: string, want: number): void {
  if (!isUserXattrName(name)) fail(Errno.EOPNOTSUPP);
  const st = loc.dentry.inode.stat();
  const fmt = st.mode & S_IFMT;
  if (fmt !== S_IFREG && fmt !== S_IFDIR) fail(want & MAY_WRITE ? Errno.EPERM : Errno.ENODATA);
  if (want & MAY_WRITE) {
    checkWritableMount(loc);
    if (fmt === S_IFDIR && st.mode & S_ISVTX && !ownerOrCapable(t.creds, st)) fail(Errno.EPERM);
  }
  mayAccess(t, loc, want);
}

/** getXattr returns the value of attribute `name` of the file at `loc`. */
export function getXattr(t: Task, loc: Location, name: string): Buffer {
  check(t, loc, name, MAY_READ);
  return loc.dentry.inode.getxattr(name, t.creds);
}

/** listXattr returns the attribute names of the file at `loc` (no permission needed). */
export function listXattr(t: Task, loc: Location): string[] {
  const fmt = loc.dentry.inode.stat().mode & S_IFMT;
  if (fmt !== S_IFREG && fmt !== S_IFDIR) return [];
  return loc.dentry.inode.listxattr(t.creds).filter(isUserXattrName);
}

/** setXattr sets attribute `name` of the file at `loc` (flags: XATTR_CREATE, XATTR_REPLACE). */
export function setXattr(t: Task, loc: Location, name: string, value: Buffer, flags: number): void {
  check(t, loc, name, MAY_WRITE);
  loc.dentry.inode.setxattr(name, value, flags, t.creds);
  notifyFile(loc.dentry, IN_ATTRIB);
}

/** removeXattr removes attribute `name` of the file at `loc` (ENODATA when absent). */
export function removeXattr(t: Task, loc: Location, name: string): void {
  check(t, loc, name, MAY_WRITE);
  loc.dentry.inode.removexattr(name, t.creds);
  notifyFile(loc.dentry, IN_ATTRIB);
}

/**
 * XattrMap holds the attributes of a file kept in the sentry. Like Linux's tmpfs it bounds
 * the space one file's attributes take (names and values, 128 KiB: ENOSPC beyond), so an
 * application cannot grow the sentry's memory through them without bound but by files.
 */
export class XattrMap {
  static readonly SPACE = 128 * 1024;
  private readonly map = new Map<string, Buffer>();
  private used = 0;

  get(name: string): Buffer {
    const v = this.map.get(name);
    if (!v) fail(Errno.ENODATA);
    return Buffer.from(v);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  set(name: string, value: Buffer, flags: number): void {
    const old = this.map.get(name);
    if (old && flags & XATTR_CREATE) fail(Errno.EEXIST);
    if (!old && flags & XATTR_REPLACE) fail(Errno.ENODATA);
    const n = Buffer.byteLength(name);
    const used = this.used - (old ? n + old.length : 0) + n + value.length;
    if (used > XattrMap.SPACE) fail(Errno.ENOSPC);
    this.map.set(name, Buffer.from(value));
    this.used = used;
  }

  remove(name: string): void {
    const old = this.map.get(name);
    if (!old) fail(Errno.ENODATA);
    this.map.delete(name);
    this.used -= Buffer.byteLength(name) + old.length;
  }
}
