/**
 * fsnotify: the hook through which file system changes made inside the sandbox reach
 * watchers (inotify). Watches are kept per file (its file system and inode number, so a
 * dentry evicted and looked up again keeps them); each VFS operation makes one call here,
 * which returns at once while no watch exists anywhere. As on Linux, an event on a file
 * goes first to its directory's watches, with the file's name, then to the file's own.
 * Changes made outside the sandbox (on the host side of a bind mount) come through
 * notifyExternal, from the file system that learns of them (fsimpl/gofer/host-watch.ts),
 * which the first watch of a file starts (Inode.watchStarted) and the last one ends.
 */
import type { FileDescription } from './file';
import type { FileSystem, Inode, SetAttr } from './inode';
import type { Dentry } from './mount';

/** IN_* event bits (include/uapi/linux/inotify.h). */
export const IN_ACCESS = 0x1, IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_CLOSE_NOWRITE = 0x10, IN_OPEN = 0x20,
  IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800,
  IN_UNMOUNT = 0x2000, IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000, IN_ISDIR = 0x40000000;
/** IN_ALL_EVENTS are the events a watch may ask for. */
export const IN_ALL_EVENTS = 0xfff;

/** Watch is one watcher's interest in one file. */
export interface Watch {
  /** mask holds the IN_* events wanted. */
  readonly mask: number;
  /** event delivers an event the mask asked for (name: the child's, for a directory watch). */
  event(mask: number, cookie: number, name: string | null): void;
  /** gone says the file is gone: the watch is removed (IN_IGNORED). */
  gone(): void;
  /** overflow says events were lost (IN_Q_OVERFLOW, with no watch descriptor). */
  overflow(): void;
}

const watches = new WeakMap<FileSystem, Map<number, Set<Watch>>>();
let count = 0;
let cookies = 0;

function setOf(inode: Inode, create: boolean): Set<Watch> | undefined {
  let byIno = watches.get(inode.fs);
  if (!byIno) {
    if (!create) return undefined;
    watches.set(inode.fs, (byIno = new Map()));
  }
  let set = byIno.get(inode.ino);
  if (!set && create) byIno.set(inode.ino, (set = new Set()));
  return set;
}

/** addWatch starts delivering inode's events to w. */
export function addWatch(inode: Inode, w: Watch): void {
  const set = setOf(inode, true)!;
  if (set.has(w)) return;
  count++;
  set.add(w);
  if (set.size > 1) return;
  try {
    inode.watchStarted();
  } catch {
    // The file system could not start its reporting (its peer failed): the watch stays,
    // with the sandbox's own changes only.
  }
}

/** removeWatch stops delivering inode's events to w. */
export function removeWatch(inode: Inode, w: Watch): void {
  const set = setOf(inode, false);
  if (!set?.delete(w)) return;
  count--;
  if (set.size === 0) {
    watches.get(inode.fs)?.delete(inode.ino);
    try {
      inode.watchEnded();
    } catch {
      // nothing more to tell the file system
    }
  }
}

/**
 * notifyExternal reports a change made outside the sandbox to the watches of file `ino`
 * of `fs`, as the file system learnt of it (its mask as inotify(7) gives it, IN_ISDIR
 * included; `name` a child's for a directory's event, else null). IN_DELETE_SELF and
 * IN_IGNORED end the watches (IN_IGNORED each); IN_Q_OVERFLOW goes to every watch of
 * the file.
 */
export function notifyExternal(fs: FileSystem, ino: number, mask: number, cookie: number, name: string | null): void {
  const set = watches.get(fs)?.get(ino);
  if (!set) return;
  if (mask & IN_Q_OVERFLOW) {
    for (const w of [...set]) w.overflow();
    return;
  }
  if (mask & IN_ALL_EVENTS) {
    for (const w of [...set]) if (w.mask & mask & IN_ALL_EVENTS) w.event(mask, cookie, name);
  }
  if (mask & (IN_DELETE_SELF | IN_IGNORED)) for (const w of [...set]) w.gone();
}

/** watching tells whether any watch exists (what makes the hooks cheap otherwise). */
export function watching(): boolean {
  return count > 0;
}

/** nextCookie returns the cookie tying a rename's IN_MOVED_FROM to its IN_MOVED_TO. */
export function nextCookie(): number {
  cookies = (cookies + 1) >>> 0 || 1;
  return cookies;
}

function deliver(inode: Inode, mask: number, cookie: number, name: string | null): void {
  const set = setOf(inode, false);
  if (!set) return;
  for (const w of [...set]) if (w.mask & mask & IN_ALL_EVENTS) w.event(mask, cookie, name);
}

/** notifyDir reports an event on child `name` of directory `dir` (create, delete, moves);
 * `isDir` marks a directory child. */
export function notifyDir(dir: Inode, mask: number, name: string, isDir: boolean, cookie = 0): void {
  if (count === 0) return;
  deliver(dir, isDir ? mask | IN_ISDIR : mask, cookie, name);
}

/** notifyFile reports an event on the file of dentry `d`: to its directory's watches with
 * its name, then to its own. */
export function notifyFile(d: Dentry, mask: number): void {
  if (count === 0) return;
  if (d.inode.isDir) mask |= IN_ISDIR;
  if (d.parent) deliver(d.parent.inode, mask, 0, d.name);
  deliver(d.inode, mask, 0, null);
}

/** notifyInode reports an event on a file's own watches only (IN_MOVE_SELF, link counts);
 * as Linux's inotify shows them, without IN_ISDIR. */
export function notifyInode(inode: Inode, mask: number): void {
  if (count === 0) return;
  deliver(inode, mask, 0, null);
}

/** notifyGone reports that a file no longer exists (its last link went): IN_DELETE_SELF,
 * then each watch on it is dropped (IN_IGNORED). */
export function notifyGone(inode: Inode): void {
  if (count === 0) return;
  const set = setOf(inode, false);
  if (!set) return;
  deliver(inode, IN_DELETE_SELF, 0, null);
  for (const w of [...set]) w.gone();
}

/** notifyOpen reports IN_OPEN for a file just opened at dentry `d` and, while watches
 * exist, arranges IN_CLOSE_WRITE or IN_CLOSE_NOWRITE for when its last reference goes. */
export function notifyOpen(f: FileDescription, d: Dentry): void {
  if (count === 0) return;
  notifyFile(d, IN_OPEN);
  const mask = f.writable ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE;
  f.onRelease(() => notifyFile(d, mask));
}

/** notifyAccessed reports IN_ACCESS after data was read from f. */
export function notifyAccessed(f: FileDescription): void {
  if (count === 0 || !f.loc) return;
  notifyFile(f.loc.dentry, IN_ACCESS);
}

/** notifyModified reports IN_MODIFY after data was written to f (write, splice, fallocate...). */
export function notifyModified(f: FileDescription): void {
  if (count === 0 || !f.loc) return;
  notifyFile(f.loc.dentry, IN_MODIFY);
}

/** notifyChange reports a setattr as Linux's fsnotify_change does: a size change is
 * IN_MODIFY; owner, mode, or both times, IN_ATTRIB; the access time alone, IN_ACCESS;
 * the modification time alone, IN_MODIFY. */
export function notifyChange(d: Dentry, a: SetAttr): void {
  if (count === 0) return;
  let mask = 0;
  if (a.uid !== undefined || a.gid !== undefined || a.mode !== undefined) mask |= IN_ATTRIB;
  if (a.size !== undefined) mask |= IN_MODIFY;
  if (a.atime !== undefined && a.mtime !== undefined) mask |= IN_ATTRIB;
  else if (a.atime !== undefined) mask |= IN_ACCESS;
  else if (a.mtime !== undefined) mask |= IN_MODIFY;
  if (mask) notifyFile(d, mask);
}
