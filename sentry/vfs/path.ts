/**
 * Path resolution in the sentry (the gofer never resolves paths): component by
 * component from the task's root or cwd (or a dirfd), crossing mounts both ways,
 * following symlinks (at most 40 in one resolution, ELOOP beyond), never leaving the
 * task's root through `..`.
 */
import { Errno, fail, LinuxError } from '../kernel/errors';
import { MAY_EXEC, type Credentials } from '../kernel/credentials';
import { permitted } from './permission';
import type { Location } from './mount';
import { Dentry } from './mount';
import { PHASES, phaseAdd } from '../../native/phases';

/** MAXSYMLINKS is Linux's limit of symlinks followed in one resolution. */
export const MAXSYMLINKS = 40;
/** PATH_MAX is the longest path accepted. */
export const PATH_MAX = 4096;

/** Resolver is what path resolution needs of a task. */
export interface Resolver {
  root: Location;
  cwd: Location;
  creds: Credentials;
}

/** ResolveOptions control the last component. */
export interface ResolveOptions {
  /** follow the last component if it is a symlink (not for lstat, O_NOFOLLOW, unlink...). */
  follow: boolean;
  /** the result must be a directory (a trailing slash also requires it). */
  directory?: boolean;
}

interface State {
  links: number;
}

/** stepDown enters the topmost mount attached at loc (loc itself when none is). */
export function stepDown(loc: Location): Location {
  let { mount, dentry } = loc;
  while (dentry.mounted) {
    mount = dentry.mounted;
    dentry = mount.root;
  }
  return { mount, dentry };
}

function stepUp(r: Resolver, loc: Location): Location {
  let { mount, dentry } = loc;
  for (;;) {
    if (mount === r.root.mount && dentry === r.root.dentry) return { mount, dentry };
    if (dentry === mount.root) {
      if (!mount.parent || !mount.mountpoint) return { mount, dentry };
      dentry = mount.mountpoint;
      mount = mount.parent;
      continue;
    }
    return { mount, dentry: dentry.parent ?? dentry };
  }
}

/** lookupChild resolves one name in a directory location (no symlink following). */
export function lookupChild(r: Resolver, dir: Location, name: string): Location {
  if (!dir.dentry.inode.isDir) fail(Errno.ENOTDIR);
  if (!permitted(r.creds, dir.dentry.inode.accessAttrs(), MAY_EXEC)) fail(Errno.EACCES);
  if (name === '.' || name === '') return dir;
  if (name === '..') return stepUp(r, dir);
  if (Buffer.byteLength(name) > 255) fail(Errno.ENAMETOOLONG);
  return stepDown({ mount: dir.mount, dentry: dir.dentry.child(name, r.creds) });
}

/** MAX_PREFETCH is the most names looked up in one go (9P's MAXWELEM). */
const MAX_PREFETCH = 16;

/** prefetch has the dentry cache prepare the plain names parts[i..] (up to the first
 * `.` or `..`, at most MAX_PREFETCH) in one go: a file system that can (the gofer's) looks
 * up the uncached ones and revalidates the cached ones (bind mounts) in one round trip
 * instead of one per name. Nothing is asked when parts[i] is cached and fresh, or when
 * the names are all cached in a file system that needs no revalidation. The walk then
 * checks each name as usual (search permission, symlinks, mounts). */
function prefetch(r: Resolver, cur: Location, parts: string[], i: number): void {
  const d = cur.dentry;
  if (!d.inode.isDir) return;
  const first = d.children.get(parts[i]);
  if (first && (first.fresh || first.mounted)) return;
  if (first && d.inode.fs.revalidate === false && cachedChain(first, parts, i)) return;
  const names: string[] = [];
  for (let j = i; j < parts.length && names.length < MAX_PREFETCH; j++) {
    const p = parts[j];
    if (p === '.' || p === '..' || p === '' || Buffer.byteLength(p) > 255) break;
    names.push(p);
  }
  if (names.length >= 2) d.prefetch(names, r.creds);
}

/**
 * cachedChain tells whether the plain names parts[i..] that prefetch would ask for are all
 * cached below `first` (parts[i]'s dentry), none a mountpoint: in a file system whose
 * cached names need no check (FileSystem.revalidate false) there is then nothing to
 * prefetch, and nothing is allocated to find that out (Dentry.prefetch would confirm
 * them without asking).
 */
function cachedChain(first: Dentry, parts: readonly string[], i: number): boolean {
  let d = first;
  for (let j = i + 1; j < parts.length && j - i < MAX_PREFETCH; j++) {
    if (d.mounted) return false;
    const p = parts[j];
    if (p === '.' || p === '..') return true;
    const next = d.children.get(p);
    if (!next) return false;
    d = next;
  }
  return !d.mounted;
}

/** components splits a path at its slashes, without the empty names that leading,
 * trailing and repeated slashes make: split's array, or one of the exact size without
 * them (an array grown by push starts with room for 16 names). */
function components(path: string): string[] {
  const raw = path.split('/');
  let empty = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] === '') empty++;
  if (empty === 0) return raw;
  const out: string[] = new Array(raw.length - empty);
  for (let i = 0, k = 0; i < raw.length; i++) if (raw[i] !== '') out[k++] = raw[i];
  return out;
}

function walk(r: Resolver, start: Location, path: string, opts: ResolveOptions, st: State): Location {
  if (path.length === 0) fail(Errno.ENOENT);
  if (path.length >= PATH_MAX) fail(Errno.ENAMETOOLONG);
  let cur = path.startsWith('/') ? r.root : start;
  const parts = components(path);
  const trailingSlash = path.endsWith('/') && parts.length > 0;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    if (!last) prefetch(r, cur, parts, i);
    const next = lookupChild(r, cur, parts[i]);
    if (next.dentry.inode.isSymlink && (!last || opts.follow || trailingSlash)) {
      if (++st.links > MAXSYMLINKS) fail(Errno.ELOOP);
      cur = next.dentry.inode.jump() ?? walk(r, cur, next.dentry.inode.readlink(), { follow: true }, st);
      continue;
    }
    cur = next;
  }
  if ((opts.directory || trailingSlash) && !cur.dentry.inode.isDir) fail(Errno.ENOTDIR);
  return cur;
}

/** resolve returns the location `path` names, relative to `start` when not absolute. */
export function resolve(r: Resolver, start: Location, path: string, opts: ResolveOptions): Location {
  start.dentry.cache.newWalk();
  if (!PHASES.on) return walk(r, start, path, opts, { links: 0 });
  const t0 = performance.now();
  try {
    return walk(r, start, path, opts, { links: 0 });
  } finally {
    phaseAdd('vfs:resolve', performance.now() - t0);
  }
}

/**
 * resolveParent returns the directory that would hold the last component of `path`
 * and that component's name (for create, unlink, rename, link, symlink, mkdir).
 * A path whose last component is `.` or `..` (or `/`) has no such name: EEXIST/EBUSY
 * per the caller; here `name` comes back as '.'/'..' and the caller decides.
 */
export function resolveParent(r: Resolver, start: Location, path: string): { dir: Location; name: string; trailingSlash: boolean } {
  if (path.length === 0) fail(Errno.ENOENT);
  if (path.length >= PATH_MAX) fail(Errno.ENAMETOOLONG);
  const trimmed = path.replace(/\/+$/, '');
  const trailingSlash = trimmed.length !== path.length;
  if (trimmed === '') return { dir: r.root, name: '.', trailingSlash };
  const slash = trimmed.lastIndexOf('/');
  const name = trimmed.slice(slash + 1);
  if (Buffer.byteLength(name) > 255) fail(Errno.ENAMETOOLONG);
  const dirPath = slash < 0 ? '.' : slash === 0 ? '/' : trimmed.slice(0, slash);
  start.dentry.cache.newWalk();
  const dir = walk(r, start, dirPath, { follow: true, directory: true }, { links: 0 });
  return { dir, name, trailingSlash };
}

/** childExists tells whether dir has an entry `name` (without following it), looked up
 * for the task with credentials `c`. */
export function childExists(dir: Location, name: string, c: Credentials): Dentry | null {
  try {
    return dir.dentry.child(name, c);
  } catch (e) {
    if (e instanceof LinuxError && e.errno === Errno.ENOENT) return null;
    throw e;
  }
}
