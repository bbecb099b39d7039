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

/** encodeStat lays out struct stat (x86-64, 144 bytes). */
export function encodeStat(s: Stat): Buffer {
  const b = Buffer.alloc(144);
  b.writeBigUInt64LE(BigInt(s.dev), 0);
  b.writeBigUInt64LE(BigInt(s.ino), 8);
  b.writeBigUInt64LE(BigInt(s.nlink), 16);
  b.writeUInt32LE(s.mode >>> 0, 24);
  b.writeUInt32LE(s.uid >>> 0, 28);
  b.writeUInt32LE(s.gid >>> 0, 32);
  b.writeBigUInt64LE(BigInt(s.rdev), 40);
  b.writeBigInt64LE(BigInt(s.size), 48);
  b.writeBigInt64LE(BigInt(s.blksize), 56);
  b.writeBigInt64LE(BigInt(s.blocks), 64);
  b.writeBigInt64LE(BigInt(s.atime.sec), 72);
  b.writeBigInt64LE(BigInt(s.atime.nsec), 80);
  b.writeBigInt64LE(BigInt(s.mtime.sec), 88);
  b.writeBigInt64LE(BigInt(s.mtime.nsec), 96);
  b.writeBigInt64LE(BigInt(s.ctime.sec), 104);
  b.writeBigInt64LE(BigInt(s.ctime.nsec), 112);
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
  b.writeBigUInt64LE(BigInt(s.ino), 32);
  b.writeBigUInt64LE(BigInt(s.size), 40);
  b.writeBigUInt64LE(BigInt(s.blocks), 48);
  const ts = (off: number, t: { sec: number; nsec: number }) => {
    b.writeBigInt64LE(BigInt(t.sec), off);
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
