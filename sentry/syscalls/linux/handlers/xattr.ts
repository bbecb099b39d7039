/**
 * The extended-attribute syscalls (get, set, list, remove; by path, by path without
 * following a final symlink, by fd). The file is looked up first (ENOENT, EBADF, ELOOP...
 * as usual), the arguments checked as Linux checks them, then vfs/xattr.ts makes
 * xattr_permission's checks and the file system answers: the gofer's files (the rootfs
 * and bind mounts) keep their attributes on the host, tmpfs in the sentry; the other file
 * systems store none (get, set and remove EOPNOTSUPP, an empty list). Only the "user."
 * namespace is stored (see vfs/xattr.ts for why); ls, cp -a and tar take EOPNOTSUPP for
 * the others to mean "no attributes here" and stay quiet.
 */
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import type { Registers } from '../../../../platform';
import type { Location } from '../../../vfs/mount';
import { resolve } from '../../../vfs/path';
import {
  getXattr, isUserXattrName, listXattr, removeXattr, setXattr,
  XATTR_CREATE, XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX,
} from '../../../vfs/xattr';
import { define } from '../registry';
import { AT_FDCWD, dirLocation, fdArg, num, openedFile, pathArg, u32 } from './util';

type Target = 'follow' | 'nofollow' | 'fd';

const NOTE = 'the "user." namespace only, kept by the gofer\'s files (on the host) and tmpfs; trusted., security. and system. (ACLs) are EOPNOTSUPP, as are proc, sys and dev files';

/** lookup finds the file (by path or fd), as Linux does before anything else; null for
 * an open file that has no location (a pipe, a socket: no user attributes). */
function lookup(t: Task, r: Registers, how: Target): Location | null {
  if (how === 'fd') return openedFile(t, fdArg(r, 0)).loc ?? null;
  const path = pathArg(t, r, 0);
  if (path === '') fail(Errno.ENOENT);
  return resolve(t, dirLocation(t, AT_FDCWD, path), path, { follow: how === 'follow' });
}

/** nameArg reads the attribute name at argument 1 (ERANGE when empty or too long). */
function nameArg(t: Task, r: Registers): string {
  let name: string;
  try {
    name = t.mm.readString(r.arg(1), XATTR_NAME_MAX + 1);
  } catch (e) {
    if ((e as { errno?: number }).errno === Errno.ENAMETOOLONG) fail(Errno.ERANGE);
    throw e;
  }
  if (name.length === 0 || Buffer.byteLength(name) > XATTR_NAME_MAX) fail(Errno.ERANGE);
  return name;
}

/** noLocation answers for a file without a location as Linux does for one that is neither
 * a regular file nor a directory: no user attributes (ENODATA to read, EPERM to write). */
function noLocation(name: string, write: boolean): never {
  if (!isUserXattrName(name)) fail(Errno.EOPNOTSUPP);
  return fail(write ? Errno.EPERM : Errno.ENODATA);
}

/** copyOut writes `data` to the buffer at argument `at` of `size` bytes: its length alone
 * for a size of 0, ERANGE when it does not fit. */
function copyOut(t: Task, r: Registers, at: number, data: Buffer): number {
  const size = num(r, at + 1);
  if (size === 0) return data.length;
  if (data.length > size) fail(Errno.ERANGE);
  if (data.length) t.mm.write(r.arg(at), data);
  return data.length;
}

const HOW: Target[] = ['follow', 'nofollow', 'fd'];

// setxattr 188, lsetxattr 189, fsetxattr 190
HOW.forEach((how, i) => define(188 + i, (t, r) => {
  const loc = lookup(t, r, how);
  const name = nameArg(t, r);
  const flags = u32(r, 4);
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) fail(Errno.EINVAL);
  const size = num(r, 3);
  if (size > XATTR_SIZE_MAX) fail(Errno.E2BIG);
  const value = size ? t.mm.read(r.arg(2), size) : Buffer.alloc(0);
  if (!loc) noLocation(name, true);
  setXattr(t, loc, name, value, flags);
  return 0;
}, 'partial', NOTE));

// getxattr 191, lgetxattr 192, fgetxattr 193
HOW.forEach((how, i) => define(191 + i, (t, r) => {
  const loc = lookup(t, r, how);
  const name = nameArg(t, r);
  if (!loc) noLocation(name, false);
  const value = getXattr(t, loc, name);
  // Linux refuses a value it could not return whole (the largest it sets is the limit).
  if (value.length > XATTR_SIZE_MAX) fail(Errno.E2BIG);
  return copyOut(t, r, 2, value);
}, 'partial', NOTE));

// listxattr 194, llistxattr 195, flistxattr 196: the names, each ended by a NUL.
HOW.forEach((how, i) => define(194 + i, (t, r) => {
  const loc = lookup(t, r, how);
  const names = loc ? listXattr(t, loc) : [];
  const list = Buffer.from(names.map((n) => `${n}\0`).join(''));
  if (list.length > XATTR_LIST_MAX) fail(Errno.E2BIG);
  return copyOut(t, r, 1, list);
}, 'partial', NOTE));

// removexattr 197, lremovexattr 198, fremovexattr 199
HOW.forEach((how, i) => define(197 + i, (t, r) => {
  const loc = lookup(t, r, how);
  const name = nameArg(t, r);
  if (!loc) noLocation(name, true);
  removeXattr(t, loc, name);
  return 0;
}, 'partial', NOTE));
