/**
 * Opening and I/O: Tlopen, Tlcreate, Tread, Twrite, Treaddir, Tfsync, Tlock, Tgetlock.
 *
 * With the 9P2000.L.fd dialect, the descriptor opened by Tlopen/Tlcreate of a regular
 * file is also handed to the client (session.passFd), so that its reads and writes need
 * no round trip. A directory's never is (carriesFd): with one, a client could name host
 * paths relative to it (`..` in newfstatat or statx) where seccomp cannot follow; the
 * gofer keeps it for Treaddir and Tfsync.
 */
import { Errno } from '../../../native/libc';
import * as sys from '../../hostfs/sys';
import { carriesFd, direntSize, encodeDirent, LOPEN_EXEC, LockStatus, QidType, Writer, type Qid } from '../../p9';
import { asCaller } from '../caller';
import { CAP_DAC_READ_SEARCH } from '../../hostfs/creds';
import { eachDirent, File, qidOf, validNewName } from '../file';
import { chownNew } from './mutate';
import type { Fid, Session } from '../session';
import { isErr, reply, type HandlerTable } from './types';

/** OPEN_FLAGS are the client's open flags the gofer honours; all others are dropped. */
const OPEN_FLAGS = sys.O_ACCMODE | sys.O_TRUNC | sys.O_APPEND | sys.O_DIRECTORY | sys.O_DSYNC | sys.O_SYNC | sys.O_NOATIME | sys.O_DIRECT;
const READ_HEADER = 11; // size[4] type[1] tag[2] count[4]

/** mutates tells whether open flags would change the file (refused on a read-only export). */
function mutates(flags: number): boolean {
  return (flags & sys.O_ACCMODE) !== sys.O_RDONLY || (flags & sys.O_TRUNC) !== 0;
}

/**
 * openForExec opens a regular file for execve (LOPEN_EXEC): execute access is checked as
 * the caller, by the host (mode bits, and capabilities only over a mapped file), then the
 * file is opened for reading with CAP_DAC_READ_SEARCH added, as the kernel reads a program
 * its caller may only execute. CAP_DAC_READ_SEARCH plays no part in the execute check of
 * a regular file (generic_permission asks it for reading only), so the check is the
 * caller's own; a sentry gains no read of a file its task could not execute.
 */
function openForExec(s: Session, file: File, flags: number): number {
  if (mutates(flags) || flags & sys.O_DIRECTORY) return -Errno.EINVAL;
  if (!file.isRegular) return -Errno.EACCES;
  return asCaller(s, [file], () => {
    const r = sys.mayExec(file.fd);
    return r < 0 ? r : file.reopen(flags);
  }, 1 << CAP_DAC_READ_SEARCH);
}

function openedFid(s: Session, n: number): Fid | number {
  const fid = s.fid(n);
  if (isErr(fid)) return fid;
  return fid.open ? fid : -Errno.EBADF;
}

/**
 * passFd hands the opened `fd` to a 9P2000.L.fd client when the reply's qid says it brings
 * one (a regular file's), after checking with fstat that the descriptor itself is a
 * regular file; -EIO (the caller closes fd) when it is not, so that no directory, symlink,
 * socket, FIFO or device descriptor ever leaves the gofer.
 */
function passFd(s: Session, fd: number, qid: Qid): number {
  if (!s.fdPassing || !carriesFd(qid)) return 0;
  const st = sys.fstat(fd);
  if (typeof st === 'number') return st;
  if ((st.mode & sys.S_IFMT) !== sys.S_IFREG) return -Errno.EIO;
  s.passFd = fd;
  return 0;
}

export const ioHandlers: HandlerTable = {
  Tlopen(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (fid.open || fid.xattr) return -Errno.EBADF;
    const flags = m.flags & OPEN_FLAGS;
    if (fid.file.exp.readonly && mutates(flags)) return -Errno.EROFS;
    // Every open is made as the caller and checked by the host, for reading as for
    // writing; execve's asks for execute access instead (9P2000.L.fd only).
    const exec = s.fdPassing && (m.flags & LOPEN_EXEC) !== 0;
    const fd = exec ? openForExec(s, fid.file, flags) : asCaller(s, [fid.file], () => fid.file.reopen(flags));
    if (fd < 0) return fd;
    const p = passFd(s, fd, fid.file.qid);
    if (p < 0) {
      sys.close(fd);
      return p;
    }
    fid.open = { fd, flags };
    return reply('Rlopen', { qid: fid.file.qid, iounit: 0 });
  },

  // Tlcreate creates and opens name in the directory fid; fid then names the new file.
  Tlcreate(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    if (fid.open || fid.xattr) return -Errno.EBADF;
    const dir = fid.file;
    const v = validNewName(m.name);
    if (v < 0) return v;
    if (!dir.isDir) return -Errno.ENOTDIR;
    if (dir.exp.readonly) return -Errno.EROFS;
    const flags = (m.flags & OPEN_FLAGS & ~sys.O_DIRECTORY) | sys.O_CREAT | sys.O_NOFOLLOW | sys.O_CLOEXEC | sys.O_LARGEFILE;
    const fd = asCaller(s, [dir], () => sys.openat2(dir.fd, m.name, flags | (m.flags & sys.O_EXCL), m.mode & 0o7777, sys.CONFINED));
    if (fd < 0) return fd;
    const pathFd = sys.lookup(dir.fd, m.name);
    const st = pathFd < 0 ? pathFd : sys.fstat(pathFd);
    if (isErr(st)) {
      sys.close(fd);
      if (pathFd >= 0) sys.close(pathFd);
      return st;
    }
    const qid = qidOf(dir.exp, st);
    let owned = s.caller ? 0 : chownNew(s, pathFd, fid.uid, m.gid);
    if (owned === 0) owned = passFd(s, fd, qid);
    if (owned < 0) {
      sys.close(fd);
      sys.close(pathFd);
      return owned;
    }
    const file = new File(dir.exp, pathFd, st.mode, qid, dir, m.name);
    fid.file = file; // fid now names the new file, which holds the directory as its parent
    dir.close();
    fid.open = { fd, flags };
    return reply('Rlcreate', { qid: file.qid, iounit: 0 });
  },

  Tread(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const count = Math.min(m.count, s.msize - READ_HEADER);
    if (fid.xattr) {
      if (fid.xattr.mode !== 'read') return -Errno.EBADF;
      const data = fid.xattr.data;
      const start = Math.min(m.offset, data.length);
      return reply('Rread', { data: data.subarray(start, Math.min(data.length, start + count)) });
    }
    if (!fid.open) return -Errno.EBADF;
    if ((fid.open.flags & sys.O_ACCMODE) === sys.O_WRONLY) return -Errno.EBADF;
    const buf = s.scratch(count);
    const n = sys.pread(fid.open.fd, buf, 0, count, m.offset);
    if (n < 0) return n;
    return reply('Rread', { data: buf.subarray(0, n) });
  },

  Twrite(s, m) {
    const fid = s.fid(m.fid);
    if (isErr(fid)) return fid;
    const x = fid.xattr;
    if (x) {
      if (x.mode !== 'write') return -Errno.EBADF;
      if (m.offset !== x.written || x.written + m.data.length > x.size) return -Errno.EINVAL;
      m.data.copy(x.data, x.written);
      x.written += m.data.length;
      return reply('Rwrite', { count: m.data.length });
    }
    if (!fid.open) return -Errno.EBADF;
    if (fid.file.exp.readonly) return -Errno.EROFS;
    if ((fid.open.flags & sys.O_ACCMODE) === sys.O_RDONLY) return -Errno.EBADF;
    const n = sys.pwrite(fid.open.fd, m.data, m.offset);
    if (n < 0) return n;
    return reply('Rwrite', { count: n });
  },

  // Treaddir returns entries from the cookie `offset` (0: the start) up to count bytes.
  Treaddir(s, m) {
    const fid = openedFid(s, m.fid);
    if (isErr(fid)) return fid;
    if (!fid.file.isDir) return -Errno.ENOTDIR;
    const count = Math.min(m.count, s.msize - READ_HEADER);
    const fd = fid.open!.fd;
    const pos = sys.lseek(fd, m.offset);
    if (pos < 0) return pos;
    const raw = Buffer.allocUnsafe(Math.max(count, 512));
    const n = sys.getdents64(fd, raw);
    if (n < 0) return n;
    const w = new Writer(Math.min(count, 4096));
    eachDirent(raw, n, ({ ino, off, type: dtype, name }) => {
      if (w.pos + direntSize(name) > count) return false;
      const type = dtype === 4 ? QidType.DIR : dtype === 10 ? QidType.SYMLINK : QidType.FILE;
      // `..` of the export root would show the inode of a host directory outside it.
      const qid = name === '..' && fid.file.isRoot ? fid.file.qid : { type, version: 0, path: ino };
      encodeDirent(w, { qid, offset: BigInt.asUintN(64, off), type: dtype, name });
      return true;
    });
    return reply('Rreaddir', { data: w.bytes() });
  },

  Tfsync(s, m) {
    const fid = openedFid(s, m.fid);
    if (isErr(fid)) return fid;
    const r = sys.fsync(fid.open!.fd, m.datasync !== 0);
    return r < 0 ? r : reply('Rfsync', {});
  },

  // Tlock takes an open-file-description lock; it never blocks: a conflict answers BLOCKED.
  Tlock(s, m) {
    const fid = openedFid(s, m.fid);
    if (isErr(fid)) return fid;
    if (m.lockType > 2) return -Errno.EINVAL;
    const r = sys.ofdLock(fid.open!.fd, sys.F_OFD_SETLK, { type: m.lockType, start: m.start, len: m.length, pid: 0 });
    if (isErr(r)) {
      if (r === -Errno.EAGAIN || r === -Errno.EACCES) return reply('Rlock', { status: LockStatus.BLOCKED });
      return r;
    }
    return reply('Rlock', { status: LockStatus.SUCCESS });
  },

  Tgetlock(s, m) {
    const fid = openedFid(s, m.fid);
    if (isErr(fid)) return fid;
    if (m.lockType > 2) return -Errno.EINVAL;
    const r = sys.ofdLock(fid.open!.fd, sys.F_OFD_GETLK, { type: m.lockType, start: m.start, len: m.length, pid: 0 });
    if (isErr(r)) return r;
    return reply('Rgetlock', { lockType: r.type, start: r.start, length: r.len, procId: Math.max(0, r.pid), clientId: m.clientId });
  },
};
