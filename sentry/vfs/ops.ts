/**
 * VFS operations on paths, shared by the syscalls that name files (open, stat, mkdir,
 * unlink, rename, link, symlink, readlink, chmod, chown, truncate, utimens, access):
 * resolution, permission and read-only checks, then the inode operation, keeping the
 * dentry cache in step.
 */
import { Errno, fail } from '../kernel/errors';
import { CAP_CHOWN, CAP_FSETID, CAP_MKNOD } from '../kernel/capabilities';
import { MAY_EXEC, MAY_WRITE } from '../kernel/credentials';
import type { Task } from '../kernel/task';
import {
  FileDescription, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_TRUNC,
} from './file';
import { capableWrt, mayLink, mayOpen, openTruncates, ownerOrCapable, permitted } from './permission';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, S_ISVTX, type Inode, type SetAttr, type Stat } from './inode';
import { MS_NODEV, type Dentry, type Location } from './mount';
import { childExists, resolve, resolveParent } from './path';
import { PathFile } from './path-file';
import {
  IN_ATTRIB, IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO,
  nextCookie, notifyChange, notifyDir, notifyFile, notifyGone, notifyInode, notifyOpen, watching,
} from './fsnotify';

/** checkWritableMount refuses (EROFS) a change on a read-only mount or file system. */
export function checkWritableMount(loc: Location): void {
  if (loc.mount.readonly || loc.dentry.inode.readonly) fail(Errno.EROFS);
}

/** checkCreatable refuses to create a name in dir: ENOENT where the directory's lookup
 * already failed (see Inode.namesCreatable), else EROFS on a read-only mount. */
function checkCreatable(dir: Location): void {
  if (!dir.dentry.inode.namesCreatable) fail(Errno.ENOENT);
  checkWritableMount(dir);
}

/** mayAccess checks the task's permission for `want` (MAY_*) on a location. */
export function mayAccess(t: Task, loc: Location, want: number): void {
  if (!permitted(t.creds, loc.dentry.inode.stat(), want)) fail(Errno.EACCES);
}

/** checkSticky refuses (EPERM) to remove or replace victim in a sticky directory unless
 * the task owns the file or the directory, or holds CAP_FOWNER over the file (Linux's
 * check_sticky). */
function checkSticky(t: Task, dir: Location, victim: Dentry): void {
  const ds = dir.dentry.inode.stat();
  if (!(ds.mode & S_ISVTX)) return;
  if (t.creds.euid === ds.uid || ownerOrCapable(t.creds, victim.inode.stat())) return;
  fail(Errno.EPERM);
}

/** openAt implements open/openat/creat: it returns the new open file. */
export function openAt(t: Task, start: Location, path: string, flags: number, mode: number): FileDescription {
  // O_PATH keeps only O_DIRECTORY and O_NOFOLLOW: O_CREAT, O_TRUNC, O_EXCL... are ignored.
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW;
  let loc: Location;
  if (flags & O_CREAT) {
    const { dir, name, trailingSlash } = resolveParent(t, start, path);
    if (name === '.' || name === '..' || trailingSlash) fail(Errno.EISDIR);
    const existing = childExists(dir, name, t.creds);
    if (existing) {
      if (flags & O_EXCL) fail(Errno.EEXIST);
      loc = resolve(t, start, path, { follow: !(flags & O_NOFOLLOW) });
    } else {
      checkCreatable(dir);
      mayAccess(t, dir, MAY_WRITE | MAY_EXEC);
      const at = (inode: Inode): Location => ({ mount: dir.mount, dentry: dir.dentry.addChild(name, inode) });
      const f = dir.dentry.inode.createOpen(name, (mode & ~t.fs.umask & 0o7777) | S_IFREG, flags & ~O_TRUNC, t.creds, at);
      notifyDir(dir.dentry.inode, IN_CREATE, name, false);
      if (!(flags & O_PATH)) notifyOpen(f, f.loc!.dentry);
      return f;
    }
  } else {
    loc = resolve(t, start, path, { follow: !(flags & O_NOFOLLOW), directory: (flags & O_DIRECTORY) !== 0 });
  }
  const inode = loc.dentry.inode;
  if (inode.isSymlink && !(flags & O_PATH)) fail(Errno.ELOOP);
  if ((flags & O_DIRECTORY) && !inode.isDir) fail(Errno.ENOTDIR);
  if ((flags & O_CREAT) && inode.isDir) fail(Errno.EISDIR);
  const st = inode.stat();
  const err = mayOpen(t.creds, st, flags, loc.mount.readonly || inode.readonly);
  if (err) fail(err);
  // A device node on a nodev mount cannot be opened (Linux's may_open).
  const fmt = st.mode & S_IFMT;
  if (loc.mount.flags & MS_NODEV && (fmt === S_IFCHR || fmt === S_IFBLK) && !(flags & O_PATH)) fail(Errno.EACCES);
  // O_PATH opens nothing: the file system's open is not called (a symlink, a FIFO, a device).
  if (flags & O_PATH) return new PathFile(loc, flags);
  // Linux keeps O_TRUNC out of the description's flags; the truncation happens here,
  // once the open is allowed (for O_RDONLY too: the check above asked for MAY_WRITE).
  const f = inode.open(loc, flags & ~O_TRUNC, t.creds);
  if (openTruncates(st, flags)) {
    try {
      if (f.writable) f.truncate(0);
      else inode.setattr({ size: 0 }, t.creds);
    } catch (e) {
      f.unref();
      throw e;
    }
    notifyFile(loc.dentry, IN_MODIFY);
  }
  if (!(flags & O_PATH)) notifyOpen(f, loc.dentry);
  return f;
}

/** statAt returns the attributes of what path names. */
export function statAt(t: Task, start: Location, path: string, follow: boolean): Stat {
  return resolve(t, start, path, { follow }).dentry.inode.stat();
}

/** mkdirAt creates a directory. */
export function mkdirAt(t: Task, start: Location, path: string, mode: number): void {
  const { dir, name } = resolveParent(t, start, path);
  if (name === '.' || name === '..') fail(Errno.EEXIST);
  if (childExists(dir, name, t.creds)) fail(Errno.EEXIST);
  checkCreatable(dir);
  mayAccess(t, dir, MAY_WRITE | MAY_EXEC);
  dir.dentry.addChild(name, dir.dentry.inode.mkdir(name, (mode & ~t.fs.umask & 0o7777) | S_IFDIR, t.creds));
  notifyDir(dir.dentry.inode, IN_CREATE, name, true);
}

/** mknodAt creates a FIFO, socket or regular file (device nodes: EPERM). */
export function mknodAt(t: Task, start: Location, path: string, mode: number, rdev: number): void {
  // The type is checked before the path is looked at (Linux's may_mknod).
  const fmt = mode & S_IFMT || S_IFREG;
  if (fmt === S_IFDIR) fail(Errno.EPERM);
  if (fmt !== S_IFREG && fmt !== S_IFCHR && fmt !== S_IFBLK && fmt !== S_IFIFO && fmt !== S_IFSOCK) fail(Errno.EINVAL);
  const { dir, name } = resolveParent(t, start, path);
  if (childExists(dir, name, t.creds)) fail(Errno.EEXIST);
  checkCreatable(dir);
  mayAccess(t, dir, MAY_WRITE | MAY_EXEC);
  if ((fmt === S_IFCHR || fmt === S_IFBLK) && !t.creds.capable(CAP_MKNOD)) fail(Errno.EPERM);
  dir.dentry.addChild(name, dir.dentry.inode.mknod(name, fmt | (mode & ~t.fs.umask & 0o7777), rdev, t.creds));
  notifyDir(dir.dentry.inode, IN_CREATE, name, false);
}

/** symlinkAt creates a symlink holding target. */
export function symlinkAt(t: Task, target: string, start: Location, path: string): void {
  if (target === '') fail(Errno.ENOENT);
  const { dir, name } = resolveParent(t, start, path);
  if (name === '.' || name === '..' || childExists(dir, name, t.creds)) fail(Errno.EEXIST);
  checkCreatable(dir);
  mayAccess(t, dir, MAY_WRITE | MAY_EXEC);
  dir.dentry.addChild(name, dir.dentry.inode.symlink(name, target, t.creds));
  notifyDir(dir.dentry.inode, IN_CREATE, name, false);
}

/** unlinkAt removes a name (rmdir when dir is set). */
export function unlinkAt(t: Task, start: Location, path: string, dir: boolean): void {
  const p = resolveParent(t, start, path);
  if (p.name === '.') fail(dir ? Errno.EINVAL : Errno.EISDIR);
  if (p.name === '..') fail(dir ? Errno.ENOTEMPTY : Errno.EISDIR);
  const d = childExists(p.dir, p.name, t.creds);
  if (!d) fail(Errno.ENOENT);
  if (d.mounted) fail(Errno.EBUSY);
  checkWritableMount(p.dir);
  mayAccess(t, p.dir, MAY_WRITE | MAY_EXEC);
  checkSticky(t, p.dir, d);
  const lastLink = !dir && watching() && lastLinkOf(d);
  if (dir) {
    if (!d.inode.isDir) fail(Errno.ENOTDIR);
    p.dir.dentry.inode.rmdir(p.name, t.creds);
  } else {
    if (d.inode.isDir) fail(Errno.EISDIR);
    if (p.trailingSlash) fail(Errno.ENOTDIR);
    p.dir.dentry.inode.unlink(p.name, t.creds);
  }
  p.dir.dentry.removeChild(p.name);
  if (watching()) {
    // Linux's order: the file's link count, its end (the last link), then the directory's entry.
    if (!dir) notifyInode(d.inode, IN_ATTRIB);
    if (dir || lastLink) notifyGone(d.inode);
    notifyDir(p.dir.dentry.inode, IN_DELETE, p.name, dir);
  }
}

/** renameAt moves oldPath to newPath (same mount only: EXDEV otherwise). */
export function renameAt(t: Task, oldStart: Location, oldPath: string, newStart: Location, newPath: string): void {
  const o = resolveParent(t, oldStart, oldPath);
  const n = resolveParent(t, newStart, newPath);
  for (const name of [o.name, n.name]) if (name === '.' || name === '..') fail(Errno.EBUSY);
  const src = childExists(o.dir, o.name, t.creds);
  if (!src) fail(Errno.ENOENT);
  if (o.dir.mount !== n.dir.mount) fail(Errno.EXDEV);
  checkWritableMount(o.dir);
  mayAccess(t, o.dir, MAY_WRITE | MAY_EXEC);
  mayAccess(t, n.dir, MAY_WRITE | MAY_EXEC);
  checkSticky(t, o.dir, src);
  if (src.mounted) fail(Errno.EBUSY);
  // A directory cannot move below itself.
  if (src.inode.isDir) {
    for (let d: Dentry | null = n.dir.dentry; d; d = d.parent) if (d === src) fail(Errno.EINVAL);
  }
  const dst = childExists(n.dir, n.name, t.creds);
  if (dst === src) return;
  if (dst) {
    checkSticky(t, n.dir, dst);
    if (dst.inode.isDir && !src.inode.isDir) fail(Errno.EISDIR);
    if (!dst.inode.isDir && src.inode.isDir) fail(Errno.ENOTDIR);
    if (dst.mounted) fail(Errno.EBUSY);
  }
  o.dir.dentry.inode.rename(o.name, n.dir.dentry.inode, n.name, t.creds, src.inode);
  src.moveTo(n.dir.dentry, n.name);
  src.inode.moved(n.name);
  if (watching()) {
    const cookie = nextCookie();
    notifyDir(o.dir.dentry.inode, IN_MOVED_FROM, o.name, src.inode.isDir, cookie);
    notifyDir(n.dir.dentry.inode, IN_MOVED_TO, n.name, src.inode.isDir, cookie);
    notifyInode(src.inode, IN_MOVE_SELF);
  }
}

/** linkAt makes newPath a hard link to the file at oldLoc, in Linux's order of checks
 * (do_linkat): EEXIST, EROFS, EXDEV, protected_hardlinks (EPERM), the directory (EACCES). */
export function linkAt(t: Task, oldLoc: Location, newStart: Location, newPath: string): void {
  const n = resolveParent(t, newStart, newPath);
  if (childExists(n.dir, n.name, t.creds)) fail(Errno.EEXIST);
  checkCreatable(n.dir);
  if (oldLoc.mount !== n.dir.mount) fail(Errno.EXDEV);
  const err = mayLink(t.creds, oldLoc.dentry.inode.stat());
  if (err) fail(err);
  mayAccess(t, n.dir, MAY_WRITE | MAY_EXEC);
  if (oldLoc.dentry.inode.isDir) fail(Errno.EPERM);
  n.dir.dentry.inode.link(n.name, oldLoc.dentry.inode, t.creds);
  n.dir.dentry.addChild(n.name, oldLoc.dentry.inode);
  notifyInode(oldLoc.dentry.inode, IN_ATTRIB);
  notifyDir(n.dir.dentry.inode, IN_CREATE, n.name, false);
}

/** setAttr applies chmod/chown/truncate/utimens to a location after Linux's checks
 * (setattr_prepare): changing the owner takes CAP_CHOWN, the group CAP_CHOWN unless the
 * owner picks one of their groups; the mode and explicit times take ownership or
 * CAP_FOWNER; chmod drops set-group-ID for a non-member of the file's group without
 * CAP_FSETID; chown of a non-directory drops set-user-ID and set-group-ID (with group
 * execute), whoever does it. Each capability counts only over a mapped file (capableWrt). */
export function setAttr(t: Task, loc: Location, a: SetAttr): void {
  checkWritableMount(loc);
  const st = loc.dentry.inode.stat();
  const c = t.creds;
  const isOwner = c.euid === st.uid;
  const owner = ownerOrCapable(c, st);
  const chown = capableWrt(c, CAP_CHOWN, st);
  if (a.uid !== undefined && !(isOwner && a.uid === st.uid) && !chown) fail(Errno.EPERM);
  if (a.gid !== undefined && !(isOwner && (a.gid === st.gid || c.inGroup(a.gid))) && !chown) fail(Errno.EPERM);
  if (a.mode !== undefined) {
    if (!owner) fail(Errno.EPERM);
    if (!c.inGroup(a.gid ?? st.gid) && !capableWrt(c, CAP_FSETID, st)) a = { ...a, mode: a.mode & ~S_ISGID };
  } else if ((a.uid !== undefined || a.gid !== undefined) && (st.mode & S_IFMT) !== S_IFDIR) {
    let mode = st.mode & 0o7777;
    if (mode & S_ISUID) mode &= ~S_ISUID;
    if ((mode & (S_ISGID | 0o010)) === (S_ISGID | 0o010)) mode &= ~S_ISGID;
    if (mode !== (st.mode & 0o7777)) a = { ...a, mode };
  }
  if (a.size !== undefined) {
    if (loc.dentry.inode.isDir) fail(Errno.EISDIR);
    mayAccess(t, loc, MAY_WRITE);
  }
  if ((a.atime !== undefined || a.mtime !== undefined) && !owner) {
    const now = a.atime === 'now' && a.mtime === 'now';
    if (!now) fail(Errno.EPERM);
    mayAccess(t, loc, MAY_WRITE);
  }
  loc.dentry.inode.setattr(a, c);
  notifyChange(loc.dentry, a);
}

/** lastLinkOf tells, before an unlink, whether d names the file's last link. */
function lastLinkOf(d: Dentry): boolean {
  try {
    return d.inode.stat().nlink <= 1;
  } catch {
    return true;
  }
}

/** accessAt implements access/faccessat (mode: R_OK 4, W_OK 2, X_OK 1; 0 = exists). */
export function accessAt(t: Task, start: Location, path: string, mode: number, follow: boolean): void {
  const loc = resolve(t, start, path, { follow });
  if (mode === 0) return;
  if (mode & MAY_WRITE) {
    if (loc.mount.readonly || loc.dentry.inode.readonly) fail(Errno.EROFS);
  }
  // access(2) checks with the real ids (and the capabilities they stand for).
  if (!permitted(t.creds.forAccess(), loc.dentry.inode.stat(), mode)) fail(Errno.EACCES);
}

