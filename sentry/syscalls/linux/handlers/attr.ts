/**
 * Attributes and access: chmod, chown, utimensat, access/faccessat, umask.
 */
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { givenId } from '../../../kernel/user-namespace';
import type { SetAttr, Timespec } from '../../../vfs/inode';
import type { Location } from '../../../vfs/mount';
import { accessAt, setAttr } from '../../../vfs/ops';
import { resolve } from '../../../vfs/path';
import { define } from '../registry';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, dirLocation, fdArg, file, openedFile, pathArg, u32 } from './util';

function locate(t: Task, dirfd: number, path: string, flags: number): Location {
  if (path === '' && flags & AT_EMPTY_PATH) return file(t, dirfd).loc ?? fail(Errno.EBADF);
  return resolve(t, dirLocation(t, dirfd, path), path, { follow: !(flags & AT_SYMLINK_NOFOLLOW) });
}

/** atFlags returns the flags of fchownat and fchmodat2, which take only
 * AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH (EINVAL for any other bit). */
function atFlags(flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(Errno.EINVAL);
  return flags;
}

const chmod = (t: Task, loc: Location, mode: number) => { setAttr(t, loc, { mode: mode & 0o7777 }); return 0; };
define(90, (t, r) => chmod(t, locate(t, AT_FDCWD, pathArg(t, r, 0), 0), u32(r, 1)), 'full');
define(91, (t, r) => chmod(t, openedFile(t, fdArg(r, 0)).loc ?? fail(Errno.EBADF), u32(r, 1)), 'full');
define(268, (t, r) => chmod(t, locate(t, fdArg(r, 0), pathArg(t, r, 1), 0), u32(r, 2)), 'full');
// fchmodat2(dirfd, path, mode, flags): the mode of a symlink itself cannot change.
define(452, (t, r) => {
  const flags = atFlags(u32(r, 3));
  const loc = locate(t, fdArg(r, 0), pathArg(t, r, 1), flags);
  if (loc.dentry.inode.isSymlink) fail(Errno.EOPNOTSUPP);
  return chmod(t, loc, u32(r, 2));
}, 'full');

/** chown changes a file's owner and group (-1 keeps one); an id the caller's user
 * namespace or the container's does not map is EINVAL (chown_common), after the lookup and before any permission check. */
function chown(t: Task, loc: Location, givenUid: number, givenGid: number): number {
  const uid = givenId(t.kernel, t.creds.userns, 'uid', givenUid), gid = givenId(t.kernel, t.creds.userns, 'gid', givenGid);
  const a: SetAttr = {};
  if (uid !== 0xffffffff) a.uid = uid;
  if (gid !== 0xffffffff) a.gid = gid;
  setAttr(t, loc, a);
  return 0;
}
define(92, (t, r) => chown(t, locate(t, AT_FDCWD, pathArg(t, r, 0), 0), u32(r, 1), u32(r, 2)), 'full');
define(94, (t, r) => chown(t, locate(t, AT_FDCWD, pathArg(t, r, 0), AT_SYMLINK_NOFOLLOW), u32(r, 1), u32(r, 2)), 'full');
define(93, (t, r) => chown(t, openedFile(t, fdArg(r, 0)).loc ?? fail(Errno.EBADF), u32(r, 1), u32(r, 2)), 'full');
define(260, (t, r) => chown(t, locate(t, fdArg(r, 0), pathArg(t, r, 1), atFlags(u32(r, 4))), u32(r, 2), u32(r, 3)), 'full');

const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;

function readTimes(t: Task, addr: bigint): Array<Timespec | 'now' | undefined> {
  if (addr === 0n) return ['now', 'now'];
  const b = t.mm.read(addr, 32);
  return [0, 16].map((o) => {
    const sec = Number(b.readBigInt64LE(o)), nsec = Number(b.readBigInt64LE(o + 8));
    if (nsec === UTIME_NOW) return 'now';
    if (nsec === UTIME_OMIT) return undefined;
    if (nsec < 0 || nsec >= 1e9) fail(Errno.EINVAL);
    return { sec, nsec };
  });
}

// utimensat(dirfd, path, times, flags): a NULL path means dirfd itself.
define(280, (t, r) => {
  const flags = u32(r, 3);
  const [atime, mtime] = readTimes(t, r.arg(2));
  const loc = r.arg(1) === 0n ? (file(t, fdArg(r, 0)).loc ?? fail(Errno.EBADF)) : locate(t, fdArg(r, 0), pathArg(t, r, 1), flags);
  setAttr(t, loc, { atime, mtime });
  return 0;
}, 'full');
// utimes(path, struct timeval[2])
define(235, (t, r) => {
  let times: Array<Timespec | 'now'> = ['now', 'now'];
  if (r.arg(1) !== 0n) {
    const b = t.mm.read(r.arg(1), 32);
    times = [0, 16].map((o) => {
      const usec = Number(b.readBigInt64LE(o + 8));
      if (usec < 0 || usec >= 1e6) fail(Errno.EINVAL);
      return { sec: Number(b.readBigInt64LE(o)), nsec: usec * 1000 };
    });
  }
  setAttr(t, locate(t, AT_FDCWD, pathArg(t, r, 0), 0), { atime: times[0], mtime: times[1] });
  return 0;
}, 'full');

function access(t: Task, dirfd: number, path: string, mode: number, flags: number): number {
  if (mode & ~7) fail(Errno.EINVAL);
  accessAt(t, dirLocation(t, dirfd, path), path, mode, !(flags & AT_SYMLINK_NOFOLLOW));
  return 0;
}
define(21, (t, r) => access(t, AT_FDCWD, pathArg(t, r, 0), u32(r, 1), 0), 'full');
define(269, (t, r) => access(t, fdArg(r, 0), pathArg(t, r, 1), u32(r, 2), 0), 'full');
define(439, (t, r) => access(t, fdArg(r, 0), pathArg(t, r, 1), u32(r, 2), u32(r, 3)), 'full');

define(95, (t, r) => {
  const old = t.fs.umask;
  t.fs.umask = u32(r, 0) & 0o777;
  return old;
}, 'full');
