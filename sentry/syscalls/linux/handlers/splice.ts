/**
 * Moving data between descriptors without the application's memory: sendfile, splice,
 * tee, vmsplice and copy_file_range share one copy step (`transfer`). The sentry has no
 * page cache to move pages between, so each call copies through one sentry buffer; what
 * Linux defines — which descriptors may take part, offsets, what blocks, what a short
 * count means — is kept:
 *  - a regular-file source is read at an explicit offset that moves only by what the
 *    output took, and a pipe source is peeked and then consumed only by what the output
 *    took, so a blocked or short write loses nothing;
 *  - a pipe destination takes at most the room it has (blocking, or EAGAIN, when full).
 */
import { Errno, fail } from '../../../kernel/errors';
import { sendToTask } from '../../../kernel/signals';
import { SIGPIPE, SI_USER } from '../../../kernel/signal-types';
import type { Task } from '../../../kernel/task';
import { block, Block } from '../../../kernel/waiter';
import { accountTransfer } from '../../../kernel/io-accounting';
import { PipeEnd } from '../../../fsimpl/pipe/pipe';
import { O_APPEND, type FileDescription } from '../../../vfs/file';
import { fsizeRoom } from '../../../kernel/rlimit-checks';
import { notifyModified } from '../../../vfs/fsnotify';
import { define } from '../registry';
import { CHUNK, MAX_RW } from './rw';
import { fdArg, file, num, readIovecs, u32 } from './util';

/** SPLICE_F_* flags. */
const SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2, SPLICE_F_MORE = 4, SPLICE_F_GIFT = 8;
const SPLICE_FLAGS = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;

/** positional: a source read at an offset that the call keeps (regular files). */
function positional(f: FileDescription): boolean {
  return f.loc?.dentry.inode.isRegular ?? false;
}

/** TransferOptions tune one copy step. */
interface TransferOptions {
  /** srcOff, dstOff: explicit offsets (the files' own positions are used, and advanced, when absent). */
  srcOff?: number;
  dstOff?: number;
  /** nonblock: a full or empty pipe answers EAGAIN instead of blocking. */
  nonblock: boolean;
  /** keep: leave the data in a pipe source (tee). */
  keep?: boolean;
}

/**
 * transfer copies up to `count` bytes from src to dst once, as the calls of this file
 * do: it returns what dst took (0 at the end of src), a Block, or -errno; it sends
 * SIGPIPE when dst is a pipe without readers.
 */
export function transfer(t: Task, src: FileDescription, dst: FileDescription, count: number, o: TransferOptions): number | Block {
  count = Math.min(count, MAX_RW, CHUNK);
  if (count === 0) return 0;
  if (dst instanceof PipeEnd) {
    const p = dst.pipe;
    if (p.readers === 0) {
      sigpipe(t);
      return -Errno.EPIPE;
    }
    const room = p.capacity - p.size;
    if (room === 0) return o.nonblock ? -Errno.EAGAIN : block(p.queue);
    count = Math.min(count, room);
  }
  const buf = Buffer.allocUnsafe(count);
  let n: number | Block;
  if (src instanceof PipeEnd) {
    n = src.pipe.peek(buf);
    if (n === 0) n = src.pipe.writers === 0 ? 0 : o.nonblock ? -Errno.EAGAIN : block(src.pipe.queue);
  } else {
    n = src.read(t, buf, positional(src) ? o.srcOff ?? src.offset : undefined);
    if (n instanceof Block && o.nonblock) n = -Errno.EAGAIN;
  }
  if (n instanceof Block || n <= 0) return n;
  // A regular file may not grow past RLIMIT_FSIZE (a short copy, then SIGXFSZ and EFBIG).
  if (positional(dst)) n = fsizeRoom(t, () => o.dstOff ?? (dst.flags & O_APPEND ? dst.stat().size : dst.offset), n);
  let w = dst.write(t, buf.subarray(0, n), o.dstOff);
  if (w instanceof Block && (o.nonblock || dst.nonblocking)) w = -Errno.EAGAIN;
  if (w === -Errno.EPIPE) sigpipe(t);
  if (w instanceof Block || w <= 0) return w;
  notifyModified(dst);
  if (src instanceof PipeEnd) {
    if (!o.keep) src.pipe.read(Buffer.allocUnsafe(w));
  } else if (positional(src) && o.srcOff === undefined) src.offset += w;
  return w;
}

/** sigpipe sends SIGPIPE to the task writing to a pipe without readers. */
function sigpipe(t: Task): void {
  sendToTask(t, { signo: SIGPIPE, code: SI_USER, pid: t.pid, uid: t.creds.uid });
}

/** readOffset reads the loff_t at addr (null when addr is 0); negative: EINVAL. */
function readOffset(t: Task, addr: bigint): number | undefined {
  if (addr === 0n) return undefined;
  const off = t.mm.read(addr, 8).readBigInt64LE(0);
  if (off < 0n) fail(Errno.EINVAL);
  return Number(off);
}

function writeOffset(t: Task, addr: bigint, off: number): void {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(off));
  t.mm.write(addr, b);
}

// sendfile(out_fd, in_fd, offset*, count): the input must be a regular file (Linux: one it can map).
define(40, (t, r) => {
  const out = file(t, fdArg(r, 0)), input = file(t, fdArg(r, 1));
  if (!input.readable || !out.writable) fail(Errno.EBADF);
  if (!positional(input)) fail(Errno.EINVAL);
  const offAddr = r.arg(2);
  const off = readOffset(t, offAddr);
  const w = transfer(t, input, out, num(r, 3), { srcOff: off, nonblock: out.nonblocking });
  if (off !== undefined && typeof w === 'number' && w > 0) writeOffset(t, offAddr, off + w);
  return accountTransfer(t, w);
}, 'full');

// splice(fd_in, off_in*, fd_out, off_out*, len, flags): one side at least is a pipe.
define(275, (t, r) => {
  const input = file(t, fdArg(r, 0)), out = file(t, fdArg(r, 2));
  const inAddr = r.arg(1), outAddr = r.arg(3), flags = u32(r, 5);
  if (flags & ~SPLICE_FLAGS) fail(Errno.EINVAL);
  if (!input.readable || !out.writable) fail(Errno.EBADF);
  const inPipe = input instanceof PipeEnd, outPipe = out instanceof PipeEnd;
  if (!inPipe && !outPipe) fail(Errno.EINVAL);
  if ((inPipe && inAddr !== 0n) || (outPipe && outAddr !== 0n)) fail(Errno.ESPIPE);
  if (inPipe && outPipe && input.pipe === out.pipe) fail(Errno.EINVAL);
  if (out.flags & O_APPEND) fail(Errno.EINVAL);
  const srcOff = readOffset(t, inAddr), dstOff = readOffset(t, outAddr);
  if ((srcOff !== undefined && !positional(input)) || (dstOff !== undefined && !positional(out))) fail(Errno.ESPIPE);
  // A pipe opened O_NONBLOCK counts as SPLICE_F_NONBLOCK (Linux 5.10 and later).
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0 || (inPipe && input.nonblocking) || (outPipe && out.nonblocking);
  const w = transfer(t, input, out, num(r, 4), { srcOff, dstOff, nonblock });
  if (typeof w === 'number' && w > 0) {
    if (srcOff !== undefined) writeOffset(t, inAddr, srcOff + w);
    if (dstOff !== undefined) writeOffset(t, outAddr, dstOff + w);
  }
  return w;
}, 'partial', 'copies through a sentry buffer (no page moves); a host descriptor (the container\'s stdio) is not a pipe here: EINVAL');

// tee(fd_in, fd_out, len, flags): copies between two pipes, leaving the data in the first.
define(276, (t, r) => {
  const input = file(t, fdArg(r, 0)), out = file(t, fdArg(r, 1)), flags = u32(r, 3);
  if (flags & ~SPLICE_FLAGS) fail(Errno.EINVAL);
  if (!input.readable || !out.writable) fail(Errno.EBADF);
  if (!(input instanceof PipeEnd) || !(out instanceof PipeEnd) || input.pipe === out.pipe) fail(Errno.EINVAL);
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0 || input.nonblocking || out.nonblocking;
  return transfer(t, input, out, num(r, 2), { nonblock, keep: true });
}, 'partial', 'copies the bytes (Linux shares the pages)');

// vmsplice(fd, iov*, nr_segs, flags): user memory into a pipe's write end, or out of its read end.
define(278, (t, r) => {
  const f = file(t, fdArg(r, 0)), flags = u32(r, 3);
  if (flags & ~SPLICE_FLAGS) fail(Errno.EINVAL);
  if (!(f instanceof PipeEnd)) fail(Errno.EBADF);
  const iovs = readIovecs(t, r.arg(1), r.argInt(2));
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  const p = f.pipe;
  let total = 0;
  for (const iov of iovs) {
    if (iov.len === 0) continue;
    let n: number | Block;
    if (f.writable) {
      if (p.readers === 0) n = -Errno.EPIPE;
      else {
        const room = p.capacity - p.size;
        n = room === 0 ? (nonblock ? -Errno.EAGAIN : block(p.queue)) : p.write(t.mm.read(iov.base, Math.min(iov.len, room)));
      }
      if (n === -Errno.EPIPE && total === 0) sigpipe(t);
    } else {
      const buf = Buffer.allocUnsafe(Math.min(iov.len, CHUNK));
      n = p.read(buf);
      if (n instanceof Block && nonblock) n = -Errno.EAGAIN;
      if (typeof n === 'number' && n > 0) t.mm.write(iov.base, buf.subarray(0, n));
    }
    if (n instanceof Block || n <= 0) return total > 0 ? total : n;
    total += n;
    if (n < iov.len) break;
  }
  return total;
}, 'partial', 'copies the bytes (Linux maps the pages; SPLICE_F_GIFT changes nothing)');

// copy_file_range(fd_in, off_in*, fd_out, off_out*, len, flags): between regular files of one file system.
define(326, (t, r) => {
  const input = file(t, fdArg(r, 0)), out = file(t, fdArg(r, 2));
  const inAddr = r.arg(1), outAddr = r.arg(3);
  if (u32(r, 5) !== 0) fail(Errno.EINVAL);
  if (!input.readable || !out.writable || (out.flags & O_APPEND)) fail(Errno.EBADF);
  const inInode = input.loc?.dentry.inode, outInode = out.loc?.dentry.inode;
  if (inInode?.isDir || outInode?.isDir) fail(Errno.EISDIR);
  if (!inInode?.isRegular || !outInode?.isRegular) fail(Errno.EINVAL);
  // Linux 5.19 and later: across file systems only where the file system copies itself (none here).
  if (inInode.fs !== outInode.fs) fail(Errno.EXDEV);
  const srcOff = readOffset(t, inAddr) ?? input.offset, dstOff = readOffset(t, outAddr) ?? out.offset;
  const len = Math.min(num(r, 4), MAX_RW, CHUNK);
  if (inInode === outInode && srcOff < dstOff + len && dstOff < srcOff + len) fail(Errno.EINVAL);
  const w = transfer(t, input, out, len, { srcOff, dstOff, nonblock: false });
  if (typeof w === 'number' && w > 0) {
    if (inAddr !== 0n) writeOffset(t, inAddr, srcOff + w);
    else input.offset += w;
    if (outAddr !== 0n) writeOffset(t, outAddr, dstOff + w);
    else out.offset += w;
  }
  return accountTransfer(t, w);
}, 'partial', 'copies through a sentry buffer, at most 4 MiB a call (a short count, as Linux allows)');
