/**
 * Names and directories: mkdir, mknod, unlink, rmdir, rename, link, symlink, readlink,
 * getdents, getdents64, getcwd, chdir, fchdir, chroot.
 */
import { CAP_SYS_CHROOT } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { MAY_EXEC } from '../../../kernel/credentials';
import type { Task } from '../../../kernel/task';

import { linkAt, mayAccess, mkdirAt, mknodAt, renameAt, symlinkAt, unlinkAt } from '../../../vfs/ops';
import { resolve } from '../../../vfs/path';
import { withMountpoints } from '../../../vfs/mount';
import { define } from '../registry';
import { AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, dirLocation, fdArg, file, num, pathArg, u32 } from './util';

define(83, (t, r) => { const p = pathArg(t, r, 0); mkdirAt(t, dirLocation(t, AT_FDCWD, p), p, u32(r, 1)); return 0; }, 'full');
define(258, (t, r) => { const p = pathArg(t, r, 1); mkdirAt(t, dirLocation(t, fdArg(r, 0), p), p, u32(r, 2)); return 0; }, 'full');
define(133, (t, r) => { const p = pathArg(t, r, 0); mknodAt(t, dirLocation(t, AT_FDCWD, p), p, u32(r, 1), u32(r, 2)); return 0; }, 'full');
define(259, (t, r) => { const p = pathArg(t, r, 1); mknodAt(t, dirLocation(t, fdArg(r, 0), p), p, u32(r, 2), u32(r, 3)); return 0; }, 'full');
define(87, (t, r) => { const p = pathArg(t, r, 0); unlinkAt(t, dirLocation(t, AT_FDCWD, p), p, false); return 0; }, 'full');
define(84, (t, r) => { const p = pathArg(t, r, 0); unlinkAt(t, dirLocation(t, AT_FDCWD, p), p, true); return 0; }, 'full');
define(263, (t, r) => {
  const flags = u32(r, 2);
  if (flags & ~AT_REMOVEDIR) fail(Errno.EINVAL);
  const p = pathArg(t, r, 1);
  unlinkAt(t, dirLocation(t, fdArg(r, 0), p), p, (flags & AT_REMOVEDIR) !== 0);
  return 0;
}, 'full');

function rename(t: Task, od: number, op: string, nd: number, np: string): number {
  renameAt(t, dirLocation(t, od, op), op, dirLocation(t, nd, np), np);
  return 0;
}
define(82, (t, r) => rename(t, AT_FDCWD, pathArg(t, r, 0), AT_FDCWD, pathArg(t, r, 1)), 'full');
define(264, (t, r) => rename(t, fdArg(r, 0), pathArg(t, r, 1), fdArg(r, 2), pathArg(t, r, 3)), 'full');
define(316, (t, r) => {
  const flags = u32(r, 4);
  if (flags !== 0) fail(Errno.EINVAL); // RENAME_NOREPLACE/EXCHANGE/WHITEOUT: not supported
  return rename(t, fdArg(r, 0), pathArg(t, r, 1), fdArg(r, 2), pathArg(t, r, 3));
}, 'partial', 'flags must be 0');

function link(t: Task, od: number, op: string, nd: number, np: string, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) fail(Errno.EINVAL);
  const oldLoc = op === '' && flags & AT_EMPTY_PATH ? (file(t, od).loc ?? fail(Errno.ENOENT)) : resolve(t, dirLocation(t, od, op), op, { follow: (flags & AT_SYMLINK_FOLLOW) !== 0 });
  linkAt(t, oldLoc, dirLocation(t, nd, np), np);
  return 0;
}
define(86, (t, r) => link(t, AT_FDCWD, pathArg(t, r, 0), AT_FDCWD, pathArg(t, r, 1), 0), 'full');
define(265, (t, r) => link(t, fdArg(r, 0), pathArg(t, r, 1), fdArg(r, 2), pathArg(t, r, 3), u32(r, 4)), 'full');

define(88, (t, r) => { const p = pathArg(t, r, 1); symlinkAt(t, pathArg(t, r, 0), dirLocation(t, AT_FDCWD, p), p); return 0; }, 'full');
define(266, (t, r) => { const p = pathArg(t, r, 2); symlinkAt(t, pathArg(t, r, 0), dirLocation(t, fdArg(r, 1), p), p); return 0; }, 'full');

function readlink(t: Task, dirfd: number, path: string, buf: bigint, size: number): number {
  if (size <= 0) fail(Errno.EINVAL);
  const loc = path === '' ? (file(t, dirfd).loc ?? fail(Errno.ENOENT)) : resolve(t, dirLocation(t, dirfd, path), path, { follow: false });
  if (!loc.dentry.inode.isSymlink) fail(Errno.EINVAL);
  const target = Buffer.from(loc.dentry.inode.readlink());
  const n = Math.min(size, target.length);
  t.mm.write(buf, target.subarray(0, n));
  return n;
}
define(89, (t, r) => readlink(t, AT_FDCWD, pathArg(t, r, 0), r.arg(1), num(r, 2)), 'full');
define(267, (t, r) => readlink(t, fdArg(r, 0), pathArg(t, r, 1), r.arg(2), num(r, 3)), 'full');

/**
 * getdents fills `count` bytes at `dirp` with the directory's entries from its offset (the
 * index of the next entry), in struct linux_dirent64 (getdents64) or the older struct
 * linux_dirent (getdents: the type in the record's last byte, after the name's NUL).
 */
function getdents(t: Task, fd: number, dirp: bigint, count: number, old: boolean): number {
  const f = file(t, fd);
  const entries = f.loc ? withMountpoints(f.loc.dentry, f.readdir()) : f.readdir();
  const out = Buffer.alloc(Math.min(count, 1 << 20));
  const nameAt = old ? 18 : 19;
  let pos = 0;
  let i = f.offset;
  for (; i < entries.length; i++) {
    const e = entries[i];
    const name = Buffer.from(e.name);
    const reclen = (nameAt + name.length + (old ? 2 : 1) + 7) & ~7;
    if (pos + reclen > out.length) break;
    out.writeBigUInt64LE(BigInt(e.ino), pos);
    out.writeBigInt64LE(BigInt(i + 1), pos + 8);
    out.writeUInt16LE(reclen, pos + 16);
    if (old) out[pos + reclen - 1] = e.type;
    else out[pos + 18] = e.type;
    name.copy(out, pos + nameAt);
    pos += reclen;
  }
  if (pos === 0 && i < entries.length) fail(Errno.EINVAL);
  f.offset = i;
  t.mm.write(dirp, out.subarray(0, pos));
  return pos;
}
define(217, (t, r) => getdents(t, fdArg(r, 0), r.arg(1), num(r, 2), false), 'full');
// getdents: the 32-bit-era call, still used by static programs and sanitizers' runtimes.
define(78, (t, r) => getdents(t, fdArg(r, 0), r.arg(1), num(r, 2), true), 'full');

define(79, (t, r) => {
  const path = Buffer.from(`${t.kernel.mounts.pathOf(t.cwd, t.root)}\0`);
  const size = num(r, 1);
  if (size < path.length) fail(Errno.ERANGE);
  t.mm.write(r.arg(0), path);
  return path.length;
}, 'full');

function chdirTo(t: Task, loc: ReturnType<typeof resolve>): number {
  if (!loc.dentry.inode.isDir) fail(Errno.ENOTDIR);
  mayAccess(t, loc, MAY_EXEC);
  t.fs.cwd = loc;
  return 0;
}
define(80, (t, r) => { const p = pathArg(t, r, 0); return chdirTo(t, resolve(t, dirLocation(t, AT_FDCWD, p), p, { follow: true })); }, 'full');
define(81, (t, r) => chdirTo(t, file(t, fdArg(r, 0)).loc ?? fail(Errno.ENOTDIR)), 'full');
// chroot(path): Linux looks the path up and checks search permission before the capability.
define(161, (t, r) => {
  const p = pathArg(t, r, 0);
  const loc = resolve(t, dirLocation(t, AT_FDCWD, p), p, { follow: true, directory: true });
  mayAccess(t, loc, MAY_EXEC);
  if (!t.creds.capableIn(CAP_SYS_CHROOT)) fail(Errno.EPERM);
  t.fs.root = loc;
  return 0;
}, 'full');

