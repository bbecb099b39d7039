/**
 * Host file calls of the gofer, through koffi. Every call returns its result or -errno
 * (never throws for an errno), so the 9P handlers turn failures into Rlerror directly.
 *
 * Confinement rule for this module's callers: a path argument is always a single
 * component validated by validName(), relative to a directory descriptor inside an
 * export, and every lookup goes through openat2 with RESOLVE_BENEATH and
 * RESOLVE_NO_SYMLINKS (no symlink is ever followed, no `..` leaves the directory).
 */
import { lastErrno, libcFunc } from '../../native/libc';

export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400, O_TRUNC = 0o1000, O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000, O_DSYNC = 0o10000, O_DIRECT = 0o40000, O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_NOATIME = 0o1000000, O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000, O_PATH = 0o10000000;
export const RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08;
export const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000, AT_NO_AUTOMOUNT = 0x800;
export const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000;
export const S_IFIFO = 0o010000, S_IFSOCK = 0o140000, S_IFCHR = 0o020000, S_IFBLK = 0o060000;
export const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;
export const F_OFD_GETLK = 36, F_OFD_SETLK = 37;
const ENOSYS = 38, EOPNOTSUPP = 95;
const SYS_openat2 = 437, SYS_faccessat2 = 439;
const X_OK = 1, AT_EACCESS = 0x200;
const SYS_fchmodat2 = 452;
const STATX_BASIC_STATS = 0x7ff, STATX_BTIME = 0x800;

const f = {
  openat2: () => libcFunc('long syscall(long nr, int dirfd, const char *path, void *how, size_t size)'),
  openat: () => libcFunc('int openat(int dirfd, const char *path, int flags, uint32 mode)'),
  close: () => libcFunc('int close(int fd)'),
  dup: () => libcFunc('int fcntl(int fd, int cmd, int arg)'),
  statx: () => libcFunc('int statx(int dirfd, const char *path, int flags, uint32 mask, void *buf)'),
  readlinkat: () => libcFunc('intptr readlinkat(int dirfd, const char *path, void *buf, size_t size)'),
  mkdirat: () => libcFunc('int mkdirat(int dirfd, const char *path, uint32 mode)'),
  unlinkat: () => libcFunc('int unlinkat(int dirfd, const char *path, int flags)'),
  renameat: () => libcFunc('int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)'),
  linkat: () => libcFunc('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)'),
  symlinkat: () => libcFunc('int symlinkat(const char *target, int newdirfd, const char *linkpath)'),
  mknodat: () => libcFunc('int mknodat(int dirfd, const char *path, uint32 mode, uint64 dev)'),
  fchownat: () => libcFunc('int fchownat(int dirfd, const char *path, uint32 uid, uint32 gid, int flags)'),
  fchmodat2: () => libcFunc('long syscall(long nr, int dirfd, const char *path, uint32 mode, int flags)'),
  fchmodat: () => libcFunc('int fchmodat(int dirfd, const char *path, uint32 mode, int flags)'),
  utimensat: () => libcFunc('int utimensat(int dirfd, const char *path, void *times, int flags)'),
  ftruncate: () => libcFunc('int ftruncate(int fd, int64 length)'),
  fsync: () => libcFunc('int fsync(int fd)'),
  fdatasync: () => libcFunc('int fdatasync(int fd)'),
  pread: () => libcFunc('intptr pread(int fd, void *buf, size_t count, int64 offset)'),
  pwrite: () => libcFunc('intptr pwrite(int fd, void *buf, size_t count, int64 offset)'),
  lseek: () => libcFunc('int64 lseek(int fd, int64 offset, int whence)'),
  getdents64: () => libcFunc('intptr getdents64(int fd, void *buf, size_t count)'),
  fstatfs: () => libcFunc('int fstatfs(int fd, void *buf)'),
  fcntlLock: () => libcFunc('int fcntl(int fd, int cmd, void *lock)'),
  fgetxattr: () => libcFunc('intptr fgetxattr(int fd, const char *name, void *value, size_t size)'),
  flistxattr: () => libcFunc('intptr flistxattr(int fd, void *list, size_t size)'),
  fsetxattr: () => libcFunc('int fsetxattr(int fd, const char *name, void *value, size_t size, int flags)'),
  fremovexattr: () => libcFunc('int fremovexattr(int fd, const char *name)'),
  geteuid: () => libcFunc('uint32 geteuid()'),
  faccessat2: () => libcFunc('long syscall(long nr, int dirfd, const char *path, int mode, int flags)'),
};

function ret(r: number | bigint): number {
  const n = Number(r);
  return n < 0 ? -lastErrno() : n;
}

const how = Buffer.from(new ArrayBuffer(24));

/** openat2 opens `name` under `dirfd` with the given flags and RESOLVE_* bits; fd or -errno. */
export function openat2(dirfd: number, name: string, flags: number, mode: number, resolve: number): number {
  how.writeBigUInt64LE(BigInt(flags >>> 0), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  // SAFETY: open_how is 24 bytes (flags, mode, resolve), passed with its size; the
  // kernel reads it during the call only.
  return ret(f.openat2()(SYS_openat2, dirfd, name, how, 24));
}

/** CONFINED is the resolve mask of every gofer lookup: beneath the dirfd, no symlinks at all. */
export const CONFINED = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/** lookup opens a single confined component as an O_PATH descriptor (a symlink is opened as itself). */
export function lookup(dirfd: number, name: string): number {
  return openat2(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, CONFINED);
}

/** openat is plain openat(2); used only for `..` of a non-root directory and /proc/self/fd re-opens. */
export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  return ret(f.openat()(dirfd, path, flags | O_CLOEXEC, mode));
}

/** mayExec checks that the file fd names (an O_PATH descriptor) may be executed by the
 * calling thread's filesystem ids, groups and effective capabilities, as execve would
 * check it: faccessat2(fd, "", X_OK, AT_EACCESS | AT_EMPTY_PATH); 0 or -errno. */
export function mayExec(fd: number): number {
  // SAFETY: plain integers and an empty string the call only reads. A raw syscall, as
  // glibc's faccessat could emulate AT_EACCESS with the effective uid, not the fsuid.
  return ret(f.faccessat2()(SYS_faccessat2, fd, '', X_OK, AT_EACCESS | AT_EMPTY_PATH));
}

/** close closes fd. */
export function close(fd: number): number {
  return ret(f.close()(fd));
}

/** dupCloexec duplicates fd (F_DUPFD_CLOEXEC). */
export function dupCloexec(fd: number): number {
  return ret(f.dup()(fd, 1030, 0));
}

/** Stat is what the gofer keeps of statx(2). */
export interface Stat {
  mode: number; uid: number; gid: number; nlink: number; ino: bigint; size: number; blocks: number; blksize: number;
  atimeSec: number; atimeNsec: number; mtimeSec: number; mtimeNsec: number; ctimeSec: number; ctimeNsec: number;
  btimeSec: number; btimeNsec: number; rdevMajor: number; rdevMinor: number; devMajor: number; devMinor: number;
}

const statxBuf = Buffer.from(new ArrayBuffer(256));

/** fstat returns the statx of fd itself (AT_EMPTY_PATH, never following a symlink), or -errno. */
export function fstat(fd: number): Stat | number {
  return statx(fd, '', AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

/**
 * statAt returns the statx of `name` in the directory dirfd, never following a symlink
 * (a symlink's own), or -errno. The caller passes a single component that is not `.` nor
 * `..` (a name read from the directory itself: validNewName), so that exactly that entry
 * beneath dirfd is read, as a confined lookup (lookup) would reach it, in one host call.
 */
export function statAt(dirfd: number, name: string): Stat | number {
  return statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT);
}

function statx(dirfd: number, name: string, flags: number): Stat | number {
  // SAFETY: struct statx is 256 bytes; the kernel fills it during the call.
  const r = ret(f.statx()(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, statxBuf));
  if (r < 0) return r;
  const b = statxBuf;
  // 64-bit fields as two 32-bit halves (no BigInt but the inode number's): exact up to 2^53.
  const ts = (o: number) => b.readInt32LE(o + 4) * 0x100000000 + b.readUInt32LE(o);
  const u64 = (o: number) => b.readUInt32LE(o + 4) * 0x100000000 + b.readUInt32LE(o);
  return {
    blksize: b.readUInt32LE(4), nlink: b.readUInt32LE(16), uid: b.readUInt32LE(20), gid: b.readUInt32LE(24),
    mode: b.readUInt16LE(28), ino: b.readBigUInt64LE(32), size: u64(40),
    blocks: u64(48),
    atimeSec: ts(64), atimeNsec: b.readUInt32LE(72), btimeSec: ts(80), btimeNsec: b.readUInt32LE(88),
    ctimeSec: ts(96), ctimeNsec: b.readUInt32LE(104), mtimeSec: ts(112), mtimeNsec: b.readUInt32LE(120),
    rdevMajor: b.readUInt32LE(128), rdevMinor: b.readUInt32LE(132), devMajor: b.readUInt32LE(136), devMinor: b.readUInt32LE(140),
  };
}

const linkBuf = Buffer.from(new ArrayBuffer(4096));

/** readlink returns the target of the symlink fd refers to (an O_PATH fd), or -errno. */
export function readlink(fd: number): string | number {
  const n = ret(f.readlinkat()(fd, '', linkBuf, linkBuf.length));
  return n < 0 ? n : linkBuf.toString('utf8', 0, n);
}

export const mkdirat = (dirfd: number, name: string, mode: number): number => ret(f.mkdirat()(dirfd, name, mode));
export const unlinkat = (dirfd: number, name: string, flags: number): number => ret(f.unlinkat()(dirfd, name, flags));
export const renameat = (od: number, on: string, nd: number, nn: string): number => ret(f.renameat()(od, on, nd, nn));
export const linkat = (od: number, on: string, nd: number, nn: string, flags: number): number =>
  ret(f.linkat()(od, on, nd, nn, flags));
export const symlinkat = (target: string, dirfd: number, name: string): number => ret(f.symlinkat()(target, dirfd, name));
export const mknodat = (dirfd: number, name: string, mode: number): number => ret(f.mknodat()(dirfd, name, mode, 0));
export const fchownat = (fd: number, uid: number, gid: number): number =>
  ret(f.fchownat()(fd, '', uid >>> 0, gid >>> 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
/**
 * fchmod changes the mode of the file fd names (an O_PATH fd: fchmodat2 with
 * AT_EMPTY_PATH). Kernels before 6.6 lack fchmodat2: there the file is named through
 * /proc/self/fd/N, whose magic link is the file itself, never a path that could be
 * swapped. A symlink's mode cannot change on Linux either way (EOPNOTSUPP).
 */
export function fchmod(fd: number, mode: number): number {
  const r = ret(f.fchmodat2()(SYS_fchmodat2, fd, '', mode, AT_EMPTY_PATH));
  if (r !== -ENOSYS) return r;
  const st = fstat(fd);
  if (typeof st === 'number') return st;
  if ((st.mode & S_IFMT) === S_IFLNK) return -EOPNOTSUPP;
  return ret(f.fchmodat()(AT_FDCWD, `/proc/self/fd/${fd}`, mode, 0));
}
export const ftruncate = (fd: number, size: number): number => ret(f.ftruncate()(fd, size));
export const fsync = (fd: number, datasync: boolean): number => ret(datasync ? f.fdatasync()(fd) : f.fsync()(fd));
export const lseek = (fd: number, offset: bigint): number => ret(f.lseek()(fd, offset, 0));
export const geteuid = (): number => f.geteuid()();

/** utimens sets the times of fd itself (AT_EMPTY_PATH); each is [sec, nsec] or a UTIME_* nsec. */
export function utimens(fd: number, atime: [number, number], mtime: [number, number]): number {
  const t = Buffer.alloc(32);
  t.writeBigInt64LE(BigInt(atime[0]), 0);
  t.writeBigInt64LE(BigInt(atime[1]), 8);
  t.writeBigInt64LE(BigInt(mtime[0]), 16);
  t.writeBigInt64LE(BigInt(mtime[1]), 24);
  // SAFETY: two struct timespec (32 bytes) read by the kernel during the call.
  return ret(f.utimensat()(fd, '', t, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

/** pread reads into buf[at..at+count) from offset; bytes or -errno. */
export function pread(fd: number, buf: Buffer, at: number, count: number, offset: number): number {
  if (at < 0 || count < 0 || at + count > buf.length) return -22;
  // SAFETY: the window [at, at+count) lies inside buf (checked above).
  return ret(f.pread()(fd, at === 0 ? buf : buf.subarray(at), count, offset));
}

/** pwrite writes data at offset; bytes or -errno. */
export function pwrite(fd: number, data: Buffer, offset: number): number {
  // SAFETY: koffi passes data's memory for the call; its length is the count.
  return ret(f.pwrite()(fd, data, data.length, offset));
}

/** getdents64 fills buf with linux_dirent64 records; bytes or -errno. */
export function getdents64(fd: number, buf: Buffer): number {
  return ret(f.getdents64()(fd, buf, buf.length));
}

/** StatFs is struct statfs as 9P needs it. */
export interface StatFs { type: number; bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; fsid: bigint; namelen: number }

/** fstatfs returns the file system statistics of fd (O_PATH allowed), or -errno. */
export function fstatfs(fd: number): StatFs | number {
  const b = Buffer.alloc(120);
  const r = ret(f.fstatfs()(fd, b));
  if (r < 0) return r;
  const u = (o: number) => Number(b.readBigUInt64LE(o));
  return { type: u(0) >>> 0, bsize: u(8), blocks: u(16), bfree: u(24), bavail: u(32), files: u(40), ffree: u(48), fsid: b.readBigUInt64LE(56), namelen: u(64) };
}

/** Flock is struct flock for OFD locks. */
export interface Flock { type: number; start: number; len: number; pid: number }

/** ofdLock runs F_OFD_SETLK or F_OFD_GETLK; for GETLK the lock found (or UNLCK) is returned. */
export function ofdLock(fd: number, cmd: number, lock: Flock): Flock | number {
  const b = Buffer.alloc(32);
  b.writeInt16LE(lock.type, 0);
  b.writeInt16LE(0, 2);
  b.writeBigInt64LE(BigInt(lock.start), 8);
  b.writeBigInt64LE(BigInt(lock.len), 16);
  // SAFETY: struct flock is 32 bytes on x86-64; OFD locks require l_pid = 0.
  const r = ret(f.fcntlLock()(fd, cmd, b));
  if (r < 0) return r;
  return { type: b.readInt16LE(0), start: Number(b.readBigInt64LE(8)), len: Number(b.readBigInt64LE(16)), pid: b.readInt32LE(24) };
}

/** getxattr reads one attribute of an open fd; its value or -errno. */
export function getxattr(fd: number, name: string): Buffer | number {
  const size = ret(f.fgetxattr()(fd, name, null, 0));
  if (size < 0) return size;
  const b = Buffer.alloc(size);
  const n = ret(f.fgetxattr()(fd, name, b, size));
  return n < 0 ? n : b.subarray(0, n);
}

/** listxattr lists the attribute names of an open fd (NUL-separated), or -errno. */
export function listxattr(fd: number): Buffer | number {
  const size = ret(f.flistxattr()(fd, null, 0));
  if (size < 0) return size;
  const b = Buffer.alloc(size);
  const n = ret(f.flistxattr()(fd, b, size));
  return n < 0 ? n : b.subarray(0, n);
}

/** removexattr removes one attribute of an open fd; 0 or -errno. */
export function removexattr(fd: number, name: string): number {
  return ret(f.fremovexattr()(fd, name));
}

/** setxattr sets one attribute of an open fd; 0 or -errno. */
export function setxattr(fd: number, name: string, value: Buffer, flags: number): number {
  return ret(f.fsetxattr()(fd, name, value, value.length, flags));
}
