/**
 * read, write and their vectored and positioned forms; lseek; sync; truncate.
 */
import { Errno, fail } from '../../../kernel/errors';
import { sendToTask } from '../../../kernel/signals';
import { SIGPIPE, SI_USER } from '../../../kernel/signal-types';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { accountIo } from '../../../kernel/io-accounting';
import { O_APPEND, SEEK_CUR, type FileDescription } from '../../../vfs/file';
import { checkFsize, fsizeRoom } from '../../../kernel/rlimit-checks';
import { resolve } from '../../../vfs/path';
import { notifyAccessed, notifyModified } from '../../../vfs/fsnotify';
import { setAttr } from '../../../vfs/ops';
import { S_IFDIR, S_IFMT, S_IFREG } from '../../../vfs/inode';
import { syncPageCaches } from '../../../fsimpl/gofer/page-cache';
import { define } from '../registry';
import { dirLocation, fdArg, file, num, openedFile, pathArg, readIovecs, AT_FDCWD } from './util';

/** MAX_RW caps one read or write (Linux: 0x7ffff000). */
export const MAX_RW = 0x7ffff000;
/** CHUNK bounds one transfer (the sentry buffer, or the application memory a direct one prepares); larger requests return short counts. */
export const CHUNK = 4 << 20;

/** BOUND_READS_OVER is the read length past which readDirect asks the file how much it can give (the sentry's unit of private memory, 64 KiB). */
const BOUND_READS_OVER = 64 << 10;

function blocked(f: FileDescription, r: number | Block): number | Block {
  if (r instanceof Block && f.nonblocking) return -Errno.EAGAIN;
  return r;
}

/** requirePosition fails with ESPIPE, as pread and pwrite do on Linux, when f has no
 * position to read or write at (pipes, FIFOs, sockets, eventfds: the files whose lseek
 * answers ESPIPE). Seeking by 0 from the current offset changes nothing. */
function requirePosition(f: FileDescription): void {
  f.seek(0, SEEK_CUR);
}

/**
 * isRegular tells whether f is a regular file, the only kind read and written through
 * views of application memory (readv/writev): a device or a FIFO reached through the same
 * file system keeps its one-buffer read and write.
 */
function isRegular(f: FileDescription): boolean {
  return f.loc?.dentry.inode.isRegular ?? false;
}

/** Iovec is one application buffer of a read or write. */
type Iovec = { base: bigint; len: number };

/** doRead reads up to len bytes into application memory at addr. */
export function doRead(t: Task, f: FileDescription, addr: bigint, len: number, offset?: number): number | Block {
  if (!f.readable) fail(Errno.EBADF);
  if (f.loc?.dentry.inode.isDir) fail(Errno.EISDIR);
  if (offset !== undefined) requirePosition(f);
  if (f.readv && isRegular(f)) return readDirect(t, f, [{ base: addr, len }], offset);
  const n = Math.min(len, MAX_RW, CHUNK);
  const buf = Buffer.allocUnsafe(n);
  const r = blocked(f, f.read(t, buf, offset));
  if (r instanceof Block || r <= 0) return r;
  t.mm.write(addr, buf.subarray(0, r));
  notifyAccessed(f);
  return r;
}

/** doWrite writes len bytes from application memory at addr. */
export function doWrite(t: Task, f: FileDescription, addr: bigint, len: number, offset?: number): number | Block {
  if (!f.writable) fail(Errno.EBADF);
  if (offset !== undefined) requirePosition(f);
  if (f.writev && isRegular(f)) return writeDirect(t, f, [{ base: addr, len }], offset);
  const n = writeRoom(t, f, len, offset);
  const data = t.mm.read(addr, n);
  return wrote(t, f, blocked(f, f.write(t, data, offset)));
}

/** writeRoom is how much of len bytes one write may take: MAX_RW, CHUNK, RLIMIT_FSIZE. */
function writeRoom(t: Task, f: FileDescription, len: number, offset?: number): number {
  const n = Math.min(len, MAX_RW, CHUNK);
  if (n > 0 && f.loc?.dentry.inode.isRegular) return fsizeRoom(t, () => (f.flags & O_APPEND ? f.stat().size : offset ?? f.offset), n);
  return n;
}

/** wrote follows a write's result: fsnotify's event, SIGPIPE for EPIPE. */
function wrote(t: Task, f: FileDescription, r: number | Block): number | Block {
  if (typeof r === 'number' && r > 0) notifyModified(f);
  if (r === -Errno.EPIPE) sendToTask(t, { signo: SIGPIPE, code: SI_USER, pid: t.pid, uid: t.creds.uid });
  return r;
}

/**
 * readDirect is read(2) and readv(2) of a file with readv (regular files): the file fills
 * the application's memory through views of it, with no sentry buffer in between (one
 * copy for tmpfs, none for a host descriptor's pread), no more than the file can return.
 */
function readDirect(t: Task, f: FileDescription, iovs: readonly Iovec[], offset?: number): number | Block {
  let len = 0;
  for (const iov of iovs) len += iov.len;
  // A large read of a short file would populate application memory the read never fills
  // (Linux touches only what it copies): the file says how much it can give (for a host
  // file a stat, so only when the read is long enough to matter).
  const bound = len > BOUND_READS_OVER && f.readBound ? f.readBound(offset) : Infinity;
  const max = Math.min(len, MAX_RW, CHUNK, bound);
  // As Linux copies up to the first fault, only a buffer that takes no byte is EFAULT, and
  // not at the end of the file, where nothing is copied (read returns 0).
  const r = t.mm.withViews(iovs, max, true, (views) => {
    if (views.length === 0 && max > 0 && f.readBound?.(offset) !== 0) fail(Errno.EFAULT);
    return blocked(f, f.readv!(t, views, offset));
  });
  if (typeof r === 'number' && r > 0) notifyAccessed(f);
  return r;
}

/** writeDirect is write(2) and writev(2) of a file with writev: it takes the application's memory through views of it. */
function writeDirect(t: Task, f: FileDescription, iovs: readonly Iovec[], offset?: number): number | Block {
  let len = 0;
  for (const iov of iovs) len += iov.len;
  const max = writeRoom(t, f, len, offset);
  return wrote(t, f, t.mm.withViews(iovs, max, false, (views) => {
    if (views.length === 0 && max > 0) fail(Errno.EFAULT); // no byte could be taken
    return blocked(f, f.writev!(t, views, offset));
  }));
}

function withPipeSignal(t: Task, fn: () => number | Block): number | Block {
  try {
    return fn();
  } catch (e) {
    if ((e as { errno?: number }).errno === Errno.EPIPE) sendToTask(t, { signo: SIGPIPE, code: SI_USER, pid: t.pid, uid: t.creds.uid });
    throw e;
  }
}

function offsetArg(v: bigint): number {
  const o = BigInt.asIntN(64, v);
  if (o < 0n) fail(Errno.EINVAL);
  return Number(o);
}

// Each call is counted for /proc/<pid>/io once it returns (kernel/io-accounting.ts).
define(0, (t, r) => accountIo(t, false, () => doRead(t, file(t, fdArg(r, 0)), r.arg(1), num(r, 2))), 'full');
define(1, (t, r) => accountIo(t, true, () => withPipeSignal(t, () => doWrite(t, file(t, fdArg(r, 0)), r.arg(1), num(r, 2)))), 'full');
define(17, (t, r) => accountIo(t, false, () => doRead(t, file(t, fdArg(r, 0)), r.arg(1), num(r, 2), offsetArg(r.arg(3)))), 'full');
define(18, (t, r) => accountIo(t, true, () => withPipeSignal(t, () => doWrite(t, file(t, fdArg(r, 0)), r.arg(1), num(r, 2), offsetArg(r.arg(3))))), 'full');

/**
 * vectored runs read or write over an iovec array: one transfer through views for a file
 * with readv/writev, else one read or write per iovec, stopping at the first short one.
 */
function vectored(t: Task, fd: number, iovAddr: bigint, count: number, write: boolean, offset?: number): number | Block {
  const f = file(t, fd);
  const iovs = readIovecs(t, iovAddr, count);
  if (isRegular(f) && (write ? f.writable && f.writev : f.readable && f.readv)) {
    if (offset !== undefined) requirePosition(f);
    return write ? writeDirect(t, f, iovs, offset) : readDirect(t, f, iovs, offset);
  }
  let total = 0;
  for (const iov of iovs) {
    if (iov.len === 0) continue;
    const off = offset === undefined ? undefined : offset + total;
    let r: number | Block;
    try {
      r = write ? doWrite(t, f, iov.base, iov.len, off) : doRead(t, f, iov.base, iov.len, off);
    } catch (e) {
      if (total > 0) return total;
      throw e;
    }
    if (r instanceof Block) return total > 0 ? total : r;
    if (r < 0) return total > 0 ? total : r;
    total += r;
    if (r < iov.len) break;
  }
  return total;
}

define(19, (t, r) => accountIo(t, false, () => vectored(t, fdArg(r, 0), r.arg(1), r.argInt(2), false)), 'full');
define(20, (t, r) => accountIo(t, true, () => withPipeSignal(t, () => vectored(t, fdArg(r, 0), r.arg(1), r.argInt(2), true))), 'full');
define(295, (t, r) => accountIo(t, false, () => vectored(t, fdArg(r, 0), r.arg(1), r.argInt(2), false, offsetArg(r.arg(3)))), 'full');
define(296, (t, r) => accountIo(t, true, () => withPipeSignal(t, () => vectored(t, fdArg(r, 0), r.arg(1), r.argInt(2), true, offsetArg(r.arg(3))))), 'full');

// lseek(fd, offset, whence)
define(8, (t, r) => file(t, fdArg(r, 0)).seek(Number(BigInt.asIntN(64, r.arg(1))), r.argInt(2)), 'full');

/** fsync is fsync and fdatasync: EINVAL for what cannot be synced (pipes, sockets,
 * devices: anything but a regular file or a directory), as Linux answers. */
function fsync(t: Task, fd: number): number {
  const f = file(t, fd);
  const fmt = f.stat().mode & S_IFMT;
  if (fmt !== S_IFREG && fmt !== S_IFDIR) fail(Errno.EINVAL);
  f.sync();
  return 0;
}
define(74, (t, r) => fsync(t, fdArg(r, 0)), 'full');
define(75, (t, r) => fsync(t, fdArg(r, 0)), 'full');
// sync, syncfs: write() already went to the host (the gofer's files, tmpfs in memory);
// what shared mappings of gofer files wrote is written back from their page caches.
const SYNC_NOTE = 'what the sandbox wrote reaches the host\'s page cache; it is not flushed to the host\'s disk (fsync flushes one file); syncfs writes back every mapped file\'s cache, not one file system\'s';
define(162, () => (syncPageCaches(), 0), 'partial', SYNC_NOTE);
define(306, (t, r) => { file(t, fdArg(r, 0)); syncPageCaches(); return 0; }, 'partial', SYNC_NOTE);

// truncate(path, length), ftruncate(fd, length)
define(76, (t, r) => {
  const path = pathArg(t, r, 0);
  const len = BigInt.asIntN(64, r.arg(1));
  if (len < 0n) fail(Errno.EINVAL);
  const loc = resolve(t, dirLocation(t, AT_FDCWD, path), path, { follow: true });
  if (loc.dentry.inode.isRegular) checkFsize(t, Number(len));
  setAttr(t, loc, { size: Number(len) });
  return 0;
}, 'full');
define(77, (t, r) => {
  const f = openedFile(t, fdArg(r, 0));
  const len = BigInt.asIntN(64, r.arg(1));
  if (len < 0n) fail(Errno.EINVAL);
  if (!f.writable) fail(Errno.EINVAL);
  if (f.loc?.dentry.inode.isRegular) checkFsize(t, Number(len));
  f.truncate(Number(len));
  notifyModified(f);
  return 0;
}, 'full');

