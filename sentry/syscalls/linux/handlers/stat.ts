/**
 * The stat family and statfs.
 */
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import type { Stat } from '../../../vfs/inode';
import { fromKernelId } from '../../../kernel/user-namespace';
import { statAt } from '../../../vfs/ops';
import { resolve } from '../../../vfs/path';
import { define } from '../registry';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, dirLocation, encodeStat, encodeStatx, fdArg, file, pathArg, u32 } from './util';

function statPath(t: Task, dirfd: number, path: string, flags: number): Stat {
  if (path === '' ) {
    if (!(flags & AT_EMPTY_PATH)) fail(Errno.ENOENT);
    if (dirfd === AT_FDCWD) return seenBy(t, t.cwd.dentry.inode.stat());
    return seenBy(t, file(t, dirfd).stat());
  }
  return seenBy(t, statAt(t, dirLocation(t, dirfd, path), path, !(flags & AT_SYMLINK_NOFOLLOW)));
}

/** seenBy is st with its owner and group as t's user namespace sees them (65534 unmapped). */
function seenBy(t: Task, st: Stat): Stat {
  const ns = t.creds.userns;
  return ns === null ? st : { ...st, uid: fromKernelId(ns, 'uid', st.uid), gid: fromKernelId(ns, 'gid', st.gid) };
}

define(4, (t, r) => { t.mm.write(r.arg(1), encodeStat(statPath(t, AT_FDCWD, pathArg(t, r, 0), 0))); return 0; }, 'full');
define(6, (t, r) => { t.mm.write(r.arg(1), encodeStat(statPath(t, AT_FDCWD, pathArg(t, r, 0), AT_SYMLINK_NOFOLLOW))); return 0; }, 'full');
define(5, (t, r) => { t.mm.write(r.arg(1), encodeStat(seenBy(t, file(t, fdArg(r, 0)).stat()))); return 0; }, 'full');
// newfstatat(dirfd, path, statbuf, flags)
define(262, (t, r) => {
  const flags = u32(r, 3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800)) fail(Errno.EINVAL);
  t.mm.write(r.arg(2), encodeStat(statPath(t, fdArg(r, 0), pathArg(t, r, 1), flags)));
  return 0;
}, 'full');
// statx(dirfd, path, flags, mask, statxbuf)
define(332, (t, r) => {
  const flags = u32(r, 2);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 | 0x6000)) fail(Errno.EINVAL);
  t.mm.write(r.arg(4), encodeStatx(statPath(t, fdArg(r, 0), pathArg(t, r, 1), flags)));
  return 0;
}, 'full');

function encodeStatfs(fsStat: { type: number; bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; namelen: number; flags: number }): Buffer {
  const b = Buffer.alloc(120);
  const w = (o: number, v: number) => b.writeBigInt64LE(BigInt(v), o);
  w(0, fsStat.type); w(8, fsStat.bsize); w(16, fsStat.blocks); w(24, fsStat.bfree); w(32, fsStat.bavail);
  w(40, fsStat.files); w(48, fsStat.ffree); w(64, fsStat.namelen); w(72, fsStat.bsize); w(80, fsStat.flags);
  return b;
}

define(137, (t, r) => {
  const path = pathArg(t, r, 0);
  const loc = resolve(t, dirLocation(t, AT_FDCWD, path), path, { follow: true });
  t.mm.write(r.arg(1), encodeStatfs({ ...loc.mount.fs.statfs(), flags: loc.mount.flags }));
  return 0;
}, 'full');
define(138, (t, r) => {
  const f = file(t, fdArg(r, 0));
  const st = f.loc ? { ...f.loc.mount.fs.statfs(), flags: f.loc.mount.flags } : { type: 0x50495045, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  t.mm.write(r.arg(1), encodeStatfs(st));
  return 0;
}, 'full');
