/**
 * Helpers shared by the syscall handlers: arguments, paths, dirfds, stat encoding.
 */
import type { Registers } from '../../../../platform';
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { O_PATH, type FileDescription } from '../../../vfs/file';
import type { Stat } from '../../../vfs/inode';
import type { Location } from '../../../vfs/mount';
import { devMajor, devMinor } from '../../../vfs/mountinfo';
import { PATH_MAX } from '../../../vfs/path';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_SYMLINK_FOLLOW = 0x400, AT_EMPTY_PATH = 0x1000;

/** fdArg returns argument i as a file descriptor number. */
export function fdArg(r: Registers, i: number): number {
  return r.argInt(i);
}

/** num returns argument i as a number (lengths, flags, addresses below 2^53). */
export function num(r: Registers, i: number): number {
  const v = r.arg(i);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** u32 returns argument i truncated to 32 bits (unsigned). */
export function u32(r: Registers, i: number): number {
  return Number(r.arg(i) & 0xffffffffn);
}

/** pathArg reads the path string at argument i. */
export function pathArg(t: Task, r: Registers, i: number): string {
  return t.mm.readString(r.arg(i), PATH_MAX - 1);
}

/** file returns the open file of fd (EBADF). */
export function file(t: Task, fd: number): FileDescription {
  return t.fds.get(fd);
}

/** openedFile returns the open file of fd for a call that needs one opened, not an
 * O_PATH descriptor (Linux's fdget, where `file` is fdget_raw): EBADF for either. */
export function openedFile(t: Task, fd: number): FileDescription {
  const f = t.fds.get(fd);
  if (f.flags & O_PATH) fail(Errno.EBADF);
  return f;
}

/** dirLocation returns where a *at() syscall starts: the cwd for AT_FDCWD, else dirfd's directory. */
export function dirLocation(t: Task, dirfd: number, path: string): Location {
  if (path.startsWith('/')) return t.root;
  if (dirfd === AT_FDCWD) return t.cwd;
  const f = t.fds.get(dirfd);
  if (!f.loc) fail(Errno.ENOTDIR);
  if (path !== '' && !f.loc.dentry.inode.isDir) fail(Errno.ENOTDIR);
  return f.loc;
}

/** put64 writes the integer n (a safe integer, possibly negative) as 64 bits, little-endian,
 * at off: two 32-bit halves, with no BigInt made (encodeStat runs for every stat). */
function put64(b: Buffer, off: number, n: number): void {
  const hi = Math.floor(n / 0x100000000);
  b.writeUInt32LE(n - hi * 0x100000000, off);
  b.writeInt32LE(hi | 0, off + 4);
}

/** encodeStat lays out struct stat (x86-64, 144 bytes): from the buffer pool, its padding
 * and reserved words zeroed. */
export function encodeStat(s: Stat): Buffer {
  const b = Buffer.allocUnsafe(144);
  put64(b, 0, s.dev);
  put64(b, 8, s.ino);
  put64(b, 16, s.nlink);
  b.writeUInt32LE(s.mode >>> 0, 24);
  b.writeUInt32LE(s.uid >>> 0, 28);
  b.writeUInt32LE(s.gid >>> 0, 32);
  b.writeUInt32LE(0, 36);
  put64(b, 40, s.rdev);
  put64(b, 48, s.size);
  put64(b, 56, s.blksize);
  put64(b, 64, s.blocks);
  put64(b, 72, s.atime.sec);
  put64(b, 80, s.atime.nsec);
  put64(b, 88, s.mtime.sec);
  put64(b, 96, s.mtime.nsec);
  put64(b, 104, s.ctime.sec);
  put64(b, 112, s.ctime.nsec);
  b.fill(0, 120, 144);
  return b;
}

/** encodeStatx lays out struct statx (256 bytes) with the basic stats. */
export function encodeStatx(s: Stat): Buffer {
  const b = Buffer.alloc(256);
  b.writeUInt32LE(0x7ff, 0); // STATX_BASIC_STATS
  b.writeUInt32LE(s.blksize, 4);
  b.writeUInt32LE(s.nlink, 16);
  b.writeUInt32LE(s.uid >>> 0, 20);
  b.writeUInt32LE(s.gid >>> 0, 24);
  b.writeUInt16LE(s.mode & 0xffff, 28);
  put64(b, 32, s.ino);
  put64(b, 40, s.size);
  put64(b, 48, s.blocks);
  const ts = (off: number, t: { sec: number; nsec: number }) => {
    put64(b, off, t.sec);
    b.writeUInt32LE(t.nsec, off + 8);
  };
  ts(64, s.atime);
  ts(96, s.ctime);
  ts(112, s.mtime);
  b.writeUInt32LE(devMajor(s.rdev), 128);
  b.writeUInt32LE(devMinor(s.rdev), 132);
  b.writeUInt32LE(devMajor(s.dev), 136);
  b.writeUInt32LE(devMinor(s.dev), 140);
  return b;
}

/** readIovecs reads an iovec array (iov_base, iov_len pairs) of count entries. */
export function readIovecs(t: Task, addr: bigint, count: number): Array<{ base: bigint; len: number }> {
  if (count < 0 || count > 1024) fail(Errno.EINVAL);
  if (count === 0) return [];
  const raw = t.mm.read(addr, count * 16);
  const out: Array<{ base: bigint; len: number }> = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = raw.readBigInt64LE(i * 16 + 8);
    if (len < 0n || len > 0x7ffff000n) fail(Errno.EINVAL);
    total += Number(len);
    if (total > 0x7ffff000) fail(Errno.EINVAL);
    out.push({ base: raw.readBigUInt64LE(i * 16), len: Number(len) });
  }
  return out;
}
