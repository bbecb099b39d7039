/**
 * File is a walked-to file of an export: an O_PATH descriptor plus the parent and name
 * it was reached by (needed for rename and remove). Fids point at Files.
 *
 * Invariant: a File's descriptor was obtained by a confined lookup from its parent
 * (or is the export root), so it lies inside the export. `..` of the export root is the
 * root itself; `..` of any other directory is its real parent, inside the export.
 */
import * as sys from '../hostfs/sys';
import { Errno } from '../../native/libc';
import { QidType, type Qid } from '../p9';
import type { Export } from './export';

/**
 * File is one walked-to file. Files are reference counted: each fid holds one reference
 * on its File and each File one on its parent, so a parent's descriptor stays open for
 * as long as a child may need it (to re-open, rename or remove by name).
 */
export class File {
  private refs = 1;

  constructor(
    readonly exp: Export,
    /** fd is an O_PATH descriptor of the file itself (a symlink is not followed). */
    readonly fd: number,
    /** mode is the file's type and permission bits when it was reached. */
    public mode: number,
    readonly qid: Qid,
    /** parent is the directory it was reached from (null for the export root). */
    public parent: File | null,
    /** name is its name in parent. */
    public name: string,
  ) {
    parent?.ref();
  }

  /** ref takes another reference. */
  ref(): this {
    this.refs++;
    return this;
  }

  /** setParent moves the File under another directory and name (after a rename). */
  setParent(parent: File, name: string): void {
    parent.ref();
    this.parent?.close();
    this.parent = parent;
    this.name = name;
  }

  get isDir(): boolean {
    return (this.mode & sys.S_IFMT) === sys.S_IFDIR;
  }

  get isSymlink(): boolean {
    return (this.mode & sys.S_IFMT) === sys.S_IFLNK;
  }

  get isRegular(): boolean {
    return (this.mode & sys.S_IFMT) === sys.S_IFREG;
  }

  get isRoot(): boolean {
    return this.parent === null;
  }

  /**
   * reopen opens the file itself for I/O with `flags` (a regular file or a directory
   * only: never a symlink, device, FIFO or socket). A directory re-opens `.` beneath its
   * own descriptor. A regular file is re-opened through /proc/self/fd/N of its own O_PATH
   * descriptor (opened before the gofer drops its view of the host), which names the
   * file whatever it has been renamed to; without /proc, it is re-opened by name beneath
   * its parent. Either way the result must be the same inode (else ESTALE).
   */
  reopen(flags: number): number {
    const f = flags | sys.O_NOFOLLOW | sys.O_CLOEXEC | sys.O_LARGEFILE | sys.O_NOCTTY;
    if (this.isDir) return sys.openat2(this.fd, '.', f, 0, sys.CONFINED);
    if (!this.isRegular) return this.isSymlink ? -Errno.ELOOP : -Errno.EOPNOTSUPP;
    const proc = procSelfFd();
    let fd: number;
    if (proc >= 0) {
      // The magic link must be followed, so no O_NOFOLLOW here; the fd is a regular file's.
      fd = sys.openat(proc, String(this.fd), (f & ~sys.O_NOFOLLOW));
    } else {
      if (!this.parent) return -Errno.ESTALE;
      fd = sys.openat2(this.parent.fd, this.name, f, 0, sys.CONFINED);
    }
    if (fd < 0) return fd;
    const st = sys.fstat(fd);
    if (typeof st === 'number' || qidOf(this.exp, st).path !== this.qid.path || (st.mode & sys.S_IFMT) !== sys.S_IFREG) {
      sys.close(fd);
      return -Errno.ESTALE;
    }
    return fd;
  }

  /** close drops a reference; the last one closes the descriptor and releases the parent. */
  close(): void {
    if (--this.refs > 0) return;
    sys.close(this.fd);
    this.parent?.close();
  }
}

/** RawDirent is one record of getdents64. */
export interface RawDirent {
  ino: bigint;
  /** off is the cookie of the next record (lseek to it to go on after this one). */
  off: bigint;
  /** type is d_type (DT_DIR 4, DT_LNK 10, ...). */
  type: number;
  name: string;
}

/** eachDirent calls `fn` for each whole record of the first `n` bytes of a getdents64
 * buffer, in order, until `fn` returns false; a malformed record ends the walk. */
export function eachDirent(raw: Buffer, n: number, fn: (d: RawDirent) => boolean): void {
  for (let p = 0; p + 19 <= n;) {
    const reclen = raw.readUInt16LE(p + 16);
    if (reclen < 20 || p + reclen > n) return;
    const nul = raw.indexOf(0, p + 19);
    const name = raw.toString('utf8', p + 19, nul < 0 || nul > p + reclen ? p + reclen : nul);
    const d = { ino: raw.readBigUInt64LE(p), off: raw.readBigInt64LE(p + 8), type: raw[p + 18], name };
    p += reclen;
    if (!fn(d)) return;
  }
}

let procFd: number | undefined;

/** procSelfFd returns a descriptor of /proc/self/fd (opened once), or -1 when there is no /proc. */
export function procSelfFd(): number {
  if (procFd === undefined) procFd = sys.openat(sys.AT_FDCWD, '/proc/self/fd', sys.O_PATH | sys.O_DIRECTORY);
  return procFd;
}

/** qidOf builds a qid from a stat: type from the mode, path from the inode (and device). */
export function qidOf(exp: Export, st: sys.Stat): Qid {
  const fmt = st.mode & sys.S_IFMT;
  const type = fmt === sys.S_IFDIR ? QidType.DIR : fmt === sys.S_IFLNK ? QidType.SYMLINK : QidType.FILE;
  let path = st.ino;
  if (st.devMajor !== exp.devMajor || st.devMinor !== exp.devMinor) {
    // A mount inside the export: keep qid paths unique across devices.
    path ^= BigInt((st.devMajor << 12) | (st.devMinor & 0xfff)) << 48n;
  }
  return { type, version: 0, path };
}

/** rootFile returns a File for the export's root (a fresh descriptor the caller owns). */
export function rootFile(exp: Export): File | number {
  const fd = sys.dupCloexec(exp.rootFd);
  if (fd < 0) return fd;
  const st = sys.fstat(fd);
  if (typeof st === 'number') {
    sys.close(fd);
    return st;
  }
  return new File(exp, fd, st.mode, qidOf(exp, st), null, '');
}

/**
 * validName checks one path component sent by the client: non-empty, no '/', no NUL,
 * at most 255 bytes. `..` and `.` pass here; each operation decides what they mean.
 */
export function validName(name: string): number {
  if (name.length === 0) return -Errno.EINVAL;
  if (name.includes('/') || name.includes('\0')) return -Errno.EINVAL;
  if (Buffer.byteLength(name) > 255) return -Errno.ENAMETOOLONG;
  return 0;
}

/** validNewName is validName for a name to create, rename to or remove: `.` and `..` are refused. */
export function validNewName(name: string): number {
  const v = validName(name);
  if (v < 0) return v;
  return name === '.' || name === '..' ? -Errno.EINVAL : 0;
}

/** walkOne returns the File reached from dir by one component, or -errno. */
export function walkOne(dir: File, name: string): File | number {
  const r = walkOneStat(dir, name);
  return typeof r === 'number' ? r : r.file;
}

/** walkOneStat is walkOne that also returns the stat of the File reached (taken from
 * its new descriptor: what Tgetattr would report). */
export function walkOneStat(dir: File, name: string): { file: File; st: sys.Stat } | number {
  const v = validName(name);
  if (v < 0) return v;
  if (!dir.isDir) return -Errno.ENOTDIR;
  if (name === '.') return reopenSame(dir);
  if (name === '..') {
    // `..` is logical: the directory this one was walked from, never the host's `..`.
    // The host's parent can lie outside the export: a directory moved out by a host
    // process, or renamed (inside one export) so that a fid of another, nested export
    // sits deeper than its walk says. Only the walked chain is known to be beneath the
    // export's root.
    return reopenSame(dir.isRoot || !dir.parent ? dir : dir.parent);
  }
  const fd = sys.lookup(dir.fd, name);
  if (fd < 0) return fd;
  return fromFd(dir.exp, fd, dir, name);
}

function reopenSame(f: File): { file: File; st: sys.Stat } | number {
  const fd = sys.dupCloexec(f.fd);
  if (fd < 0) return fd;
  const st = sys.fstat(fd);
  if (typeof st === 'number') {
    sys.close(fd);
    return st;
  }
  return { file: new File(f.exp, fd, f.mode, f.qid, f.parent, f.name), st };
}

function fromFd(exp: Export, fd: number, parent: File, name: string): { file: File; st: sys.Stat } | number {
  const st = sys.fstat(fd);
  if (typeof st === 'number') {
    sys.close(fd);
    return st;
  }
  return { file: new File(exp, fd, st.mode, qidOf(exp, st), parent, name), st };
}
