/**
 * The permission checks on files, as pure functions of the caller's credentials and the
 * file's attributes, in the order Linux makes them (fs/namei.c: generic_permission,
 * build_open_flags, may_open, may_linkat; fs/fcntl.c: setfl). ops.ts, path.ts, exec and
 * fcntl call them; they return a boolean or an errno (0 = allowed) so that tests can
 * list every case without a file system.
 *
 * Capabilities over a file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
 * CAP_CHOWN, CAP_FSETID) are asked through capableWrt: with a user namespace, a file
 * whose owner or group is outside the mappings (FileAttrs.unmapped) is beyond every
 * capability of the container, as the kernel's capable_wrt_inode_uidgid makes it.
 */
import { Errno } from '../kernel/errors';
import { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER } from '../kernel/capabilities';
import { MAY_EXEC, MAY_READ, MAY_WRITE, type Credentials } from '../kernel/credentials';
import { hasMapping } from '../kernel/user-namespace';
import { O_ACCMODE, O_NOATIME, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY } from './file';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, S_ISUID } from './inode';

/** FileAttrs are the attributes a permission check reads. */
export interface FileAttrs {
  mode: number;
  uid: number;
  gid: number;
  /** unmapped: the owner or group has no id in the container (see Stat.unmapped). */
  unmapped?: boolean;
}

/** capableWrt is capable_wrt_inode_uidgid: the caller holds `cap` in its user namespace
 * and the file's owner and group are both mapped there (and into the container). */
export function capableWrt(c: Credentials, cap: number, st: FileAttrs): boolean {
  if (st.unmapped || !c.capableIn(cap)) return false;
  return c.userns === null || (hasMapping(c.userns, 'uid', st.uid) && hasMapping(c.userns, 'gid', st.gid));
}

/**
 * permitted checks access `want` (MAY_* bits) to a file as generic_permission does: the
 * owner's, group's or others' mode bits, then the capabilities that override them:
 * CAP_DAC_READ_SEARCH for reading a file and for reading or searching a directory,
 * CAP_DAC_OVERRIDE for everything but executing a file that has no execute bit at all;
 * neither over an unmapped file.
 */
export function permitted(c: Credentials, st: FileAttrs, want: number): boolean {
  let bits: number;
  if (c.euid === st.uid) bits = (st.mode >> 6) & 7;
  else if (c.inGroup(st.gid)) bits = (st.mode >> 3) & 7;
  else bits = st.mode & 7;
  if ((bits & want) === want) return true;
  if ((st.mode & S_IFMT) === S_IFDIR) {
    if (!(want & MAY_WRITE) && capableWrt(c, CAP_DAC_READ_SEARCH, st)) return true;
    return capableWrt(c, CAP_DAC_OVERRIDE, st);
  }
  if (want === MAY_READ && capableWrt(c, CAP_DAC_READ_SEARCH, st)) return true;
  if (!(want & MAY_EXEC) || (st.mode & 0o111) !== 0) return capableWrt(c, CAP_DAC_OVERRIDE, st);
  return false;
}

/** openAccess is the MAY_* mask an open asks for (build_open_flags): the access mode,
 * plus MAY_WRITE for O_TRUNC whatever the access mode; nothing for O_PATH. */
export function openAccess(flags: number): number {
  if (flags & O_PATH) return 0;
  const acc = flags & O_ACCMODE;
  let want = acc === O_RDONLY ? MAY_READ : acc === O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
  if (flags & O_TRUNC) want |= MAY_WRITE;
  return want;
}

/** ownerOrCapable is inode_owner_or_capable: the caller owns the file or holds
 * CAP_FOWNER over it. */
export function ownerOrCapable(c: Credentials, st: FileAttrs): boolean {
  return c.euid === st.uid || capableWrt(c, CAP_FOWNER, st);
}

/** mayNoatime checks setting O_NOATIME on a file, by open(2) or fcntl(F_SETFL): only
 * its owner or a holder of CAP_FOWNER over it may (else EPERM). Returns 0 or the errno. */
export function mayNoatime(c: Credentials, st: FileAttrs): number {
  return ownerOrCapable(c, st) ? 0 : Errno.EPERM;
}

/**
 * mayOpen checks opening an existing file with `flags` (may_open): a symlink is ELOOP; a
 * directory asked for writing (O_WRONLY, O_RDWR or O_TRUNC) EISDIR; writing a regular
 * file, directory or symlink on a read-only mount EROFS; then the mode bits and
 * capabilities (EACCES); then O_NOATIME, which takes ownership or CAP_FOWNER (EPERM).
 * O_PATH checks nothing on the file itself. Returns 0 or the errno.
 */
export function mayOpen(c: Credentials, st: FileAttrs, flags: number, readonlyMount: boolean): number {
  if (flags & O_PATH) return 0;
  const fmt = st.mode & S_IFMT;
  const want = openAccess(flags);
  if (fmt === S_IFLNK) return Errno.ELOOP;
  if (fmt === S_IFDIR && want & MAY_WRITE) return Errno.EISDIR;
  if (want & MAY_WRITE && readonlyMount && (fmt === S_IFREG || fmt === S_IFDIR)) return Errno.EROFS;
  if (!permitted(c, st, want)) return Errno.EACCES;
  return flags & O_NOATIME ? mayNoatime(c, st) : 0;
}

/** openTruncates tells whether an allowed open with `flags` empties the file: O_TRUNC on
 * a regular file, whatever the access mode (a FIFO, socket or device ignores it). */
export function openTruncates(st: FileAttrs, flags: number): boolean {
  return (flags & O_TRUNC) !== 0 && (flags & O_PATH) === 0 && (st.mode & S_IFMT) === S_IFREG;
}

/**
 * mayLink checks hard-linking an existing file as fs.protected_hardlinks = 1 makes
 * Linux do (may_linkat; Debian's default, and what runc's containers get): the owner or
 * a holder of CAP_FOWNER may link anything; others only a "safe" source, a regular file
 * that is neither set-user-ID nor set-group-ID with group execute, and that they may
 * both read and write. Returns 0 or EPERM.
 */
export function mayLink(c: Credentials, st: FileAttrs): number {
  if (ownerOrCapable(c, st)) return 0;
  const fmt = st.mode & S_IFMT;
  if (fmt !== S_IFREG) return Errno.EPERM;
  if (st.mode & S_ISUID) return Errno.EPERM;
  if ((st.mode & (S_ISGID | 0o010)) === (S_ISGID | 0o010)) return Errno.EPERM;
  if (!permitted(c, st, MAY_READ | MAY_WRITE)) return Errno.EPERM;
  return 0;
}
