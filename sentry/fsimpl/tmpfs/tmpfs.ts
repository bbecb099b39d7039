/**
 * tmpfs: files kept in the sentry's memory. Directories map names to inodes; regular
 * files hold their bytes in chunks of 64 KiB allocated on first write (a hole costs
 * nothing, growing never copies the file: memory is the file's written bytes rounded up
 * to a chunk, the last chunk of a small file grown by doubling); symlinks hold their
 * target; FIFOs hold a pipe. Used for /tmp, /dev/shm and as the base of other synthetic trees.
 *
 * Bounds (see sentry/limits.ts for how they are sized): each tmpfs has a size in pages
 * and a number of inodes (`size=`, `nr_inodes=`; 0 is unlimited, as on Linux), and all
 * of them together draw on one sandbox-wide inode budget, so that no number of files
 * makes the sentry's heap overflow. As in Linux's tmpfs, every name counts as an inode
 * (a hard link pins a dentry too). The budget counts units of INODE_HEAP_BYTES of heap: a
 * name is one, a symlink's target (a heap string of up to 4 KiB) one more per KiB. Past a bound, creating a name or growing a file fails
 * with ENOSPC (a write that partly fits is short, as on Linux). A name's inode count is
 * given back when the name goes; a file's pages when its last link and its last open
 * file description are gone.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Credentials } from '../../kernel/credentials';
import type { Task } from '../../kernel/task';
import type { Block } from '../../kernel/waiter';
import { FileDescription, O_ACCMODE, O_APPEND, O_RDONLY, O_WRONLY } from '../../vfs/file';
import {
  dtype, Inode, nowTimespec, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
  type DirEntry, type FileSystem, type SetAttr, type Stat, type StatFs, type Timespec,
} from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { Pipe, PipeEnd } from '../pipe/pipe';
import { INODE_HEAP_BYTES } from '../../limits';

let nextDev = 0x100;

const PAGE = 4096;
/** DATA_CHUNK is the unit a file's bytes are stored in. */
const DATA_CHUNK = 64 * 1024;
/**
 * MAX_FILE_BYTES bounds one file's length (EFBIG past it; `size=` bounds what it stores):
 * mmap copies a file's bytes into private memory, so a long sparse file would cost its
 * whole length there.
 */
const MAX_FILE_BYTES = 2 ** 31;

/** InodeBudget is the sandbox-wide count of in-memory inodes and its bound. */
export const inodeBudget = { used: 0, limit: Number.MAX_SAFE_INTEGER };

/** setInodeBudget sets the sandbox-wide bound on tmpfs inodes (boot, from limits.ts). */
export function setInodeBudget(limit: number): void {
  inodeBudget.limit = limit;
}

/** TmpfsDefaults are the bounds of a tmpfs mounted without `size=`/`nr_inodes=` (0: unlimited). */
export const tmpfsDefaults = { maxBytes: 0, maxInodes: 0 };

/** allocDev returns a new device number for an in-memory file system. */
export function allocDev(): number {
  return nextDev++;
}

/** Tmpfs is one tmpfs instance. */
export class Tmpfs implements FileSystem {
  readonly name: string = 'tmpfs';
  readonly dev = allocDev();
  readonly root: TmpfsInode;
  private nextIno = 1;
  bytes = 0;
  /** pages counts the data pages of the files (what `size=` bounds). */
  pages = 0;
  /** inodes counts the live inodes, the root included (what `nr_inodes=` bounds). */
  inodes = 0;
  /** maxBytes and maxInodes are the bounds (0: unlimited). */
  readonly maxBytes: number;
  readonly maxInodes: number;

  /** zeroDirSize: directories report size 0, as sysfs and devpts do. */
  zeroDirSize = false;

  constructor(mode = 0o1777, uid = 0, gid = 0, bounds: { maxBytes?: number; maxInodes?: number } = {}) {
    this.maxBytes = bounds.maxBytes ?? tmpfsDefaults.maxBytes;
    this.maxInodes = bounds.maxInodes ?? tmpfsDefaults.maxInodes;
    this.chargeInode(true);
    this.root = new TmpfsInode(this, this.allocIno(), S_IFDIR | mode, uid, gid);
  }

  allocIno(): number {
    return this.nextIno++;
  }

  /**
   * chargeInode counts a new name (and `extra` budget units of heap it brings), failing
   * with ENOSPC past a bound (unless forced: a root).
   */
  chargeInode(force = false, extra = 0): void {
    if (!force && ((this.maxInodes > 0 && this.inodes >= this.maxInodes) || inodeBudget.used + extra >= inodeBudget.limit)) fail(Errno.ENOSPC);
    this.inodes++;
    inodeBudget.used += 1 + extra;
  }

  /** unchargeInode gives back a name's count (unlink, rmdir, a name replaced by rename). */
  unchargeInode(): void {
    this.inodes--;
    inodeBudget.used--;
  }

  /** releaseData gives back a file's pages once it has no link and no open file. */
  releaseData(i: TmpfsInode): void {
    if (i.nlink > 0 || i.opens > 0 || i.released) return;
    i.released = true;
    inodeBudget.used -= i.extraUnits;
    this.bytes -= i.size;
    this.pages -= Math.ceil(i.size / PAGE);
  }

  /** roomFor returns how far a file now `size` bytes long may grow (bytes), under `size=`. */
  roomFor(size: number): number {
    if (this.maxBytes <= 0) return MAX_FILE_BYTES;
    const pages = Math.floor(this.maxBytes / PAGE) - this.pages + Math.ceil(size / PAGE);
    return Math.min(MAX_FILE_BYTES, Math.max(size, pages * PAGE));
  }

  /** statfs reports the bounds as Linux's tmpfs does: 0 blocks (or files) when unlimited. */
  statfs(): StatFs {
    const blocks = this.maxBytes > 0 ? Math.floor(this.maxBytes / PAGE) : 0;
    const files = this.maxInodes > 0 ? this.maxInodes : 0;
    const bfree = Math.max(0, blocks - this.pages), ffree = Math.max(0, files - this.inodes);
    return { type: 0x01021994, bsize: PAGE, blocks, bfree, bavail: bfree, files, ffree, namelen: 255, flags: 0 };
  }
}

/** TmpfsInode is a file of a tmpfs. */
export class TmpfsInode extends Inode {
  children = new Map<string, TmpfsInode>();
  /** chunks hold the bytes of chunk i (DATA_CHUNK each; undefined: zeros; a short last one for small files). */
  private chunks: (Buffer | undefined)[] = [];
  size = 0;
  target = '';
  pipe: Pipe | null = null;
  nlink: number;
  /** opens counts the open file descriptions; released is set once the inode was given back. */
  opens = 0;
  released = false;
  /** extraUnits are the inode budget's units held by the inode itself (a symlink's target). */
  extraUnits = 0;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  rdev = 0;

  constructor(readonly tfs: Tmpfs, ino: number, mode: number, public uid: number, public gid: number) {
    super(tfs, ino, mode);
    this.nlink = (mode & S_IFMT) === S_IFDIR ? 2 : 1;
    this.atime = this.mtime = this.ctime = nowTimespec();
    if ((mode & S_IFMT) === S_IFIFO) this.pipe = new Pipe();
  }

  stat(): Stat {
    // Directories report Linux tmpfs's bogus size: 20 bytes an entry, 40 for . and ..
    const size = this.isSymlink ? Buffer.byteLength(this.target) : this.isDir ? (this.tfs.zeroDirSize ? 0 : 40 + 20 * this.children.size) : this.size;
    // Like Linux's tmpfs: data pages count as blocks, directories and short symlinks do not.
    const blocks = this.isRegular ? Math.ceil(size / 4096) * 8 : 0;
    return {
      dev: this.tfs.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid, rdev: this.rdev,
      size, blksize: 4096, blocks, atime: this.atime, mtime: this.mtime, ctime: this.ctime,
    };
  }

  private touch(): void {
    this.mtime = this.ctime = nowTimespec();
  }

  override setattr(a: SetAttr): void {
    if (a.mode !== undefined) this.mode = (this.mode & S_IFMT) | (a.mode & 0o7777);
    if (a.uid !== undefined) this.uid = a.uid;
    if (a.gid !== undefined) this.gid = a.gid;
    if (a.size !== undefined) this.resize(a.size);
    if (a.atime !== undefined) this.atime = a.atime === 'now' ? nowTimespec() : a.atime;
    if (a.mtime !== undefined) this.mtime = a.mtime === 'now' ? nowTimespec() : a.mtime;
    this.ctime = nowTimespec();
  }

  /** resize sets the file's length, zero-filling growth. */
  resize(n: number): void {
    if (!this.isRegular) fail(Errno.EINVAL);
    if (n > MAX_FILE_BYTES) fail(Errno.EFBIG);
    if (n > this.size && n > this.tfs.roomFor(this.size)) fail(Errno.ENOSPC);
    if (n < this.size) {
      // Drop whole chunks past the end and zero the tail of the last one kept.
      this.chunks.length = Math.min(this.chunks.length, Math.ceil(n / DATA_CHUNK));
      const last = this.chunks[Math.floor(n / DATA_CHUNK)];
      if (last && last.length > n % DATA_CHUNK) last.fill(0, n % DATA_CHUNK);
    }
    this.tfs.bytes += n - this.size;
    this.tfs.pages += Math.ceil(n / PAGE) - Math.ceil(this.size / PAGE);
    this.size = n;
    this.touch();
  }

  /** readAt copies the bytes at [at, at+dst.length) into dst (holes read as zeros). */
  readAt(dst: Buffer, at: number): void {
    for (let done = 0; done < dst.length;) {
      const c = Math.floor((at + done) / DATA_CHUNK), off = (at + done) % DATA_CHUNK;
      const n = Math.min(dst.length - done, DATA_CHUNK - off);
      const chunk = this.chunks[c];
      const have = chunk ? Math.max(0, Math.min(n, chunk.length - off)) : 0;
      if (have > 0) chunk!.copy(dst, done, off, off + have);
      dst.fill(0, done + have, done + n);
      done += n;
    }
  }

  /** writeAt stores src at `at` (the file's size is the caller's business). */
  writeAt(src: Buffer, at: number): void {
    for (let done = 0; done < src.length;) {
      const c = Math.floor((at + done) / DATA_CHUNK), off = (at + done) % DATA_CHUNK;
      const n = Math.min(src.length - done, DATA_CHUNK - off);
      let chunk = this.chunks[c];
      if (!chunk || chunk.length < off + n) {
        const grown = Buffer.alloc(Math.min(DATA_CHUNK, Math.max(off + n, 2 * (chunk?.length ?? 0), 256)));
        chunk?.copy(grown);
        this.chunks[c] = chunk = grown;
      }
      src.copy(chunk, off, done, done + n);
      done += n;
    }
  }

  override readlink(): string {
    if (!this.isSymlink) fail(Errno.EINVAL);
    return this.target;
  }

  override lookup(name: string): Inode {
    if (!this.isDir) fail(Errno.ENOTDIR);
    return this.children.get(name) ?? fail(Errno.ENOENT);
  }

  override readdir(): DirEntry[] {
    if (!this.isDir) fail(Errno.ENOTDIR);
    return [...this.children].map(([name, i]) => ({ name, ino: i.ino, type: dtype(i.mode) }));
  }

  private add(name: string, mode: number, c: Credentials, extraUnits = 0): TmpfsInode {
    if (!this.isDir) fail(Errno.ENOTDIR);
    if (this.children.has(name)) fail(Errno.EEXIST);
    this.tfs.chargeInode(false, extraUnits);
    const gid = this.mode & 0o2000 ? this.gid : c.egid;
    const n = new TmpfsInode(this.tfs, this.tfs.allocIno(), mode, c.euid, gid);
    n.extraUnits = extraUnits;
    this.children.set(name, n);
    if (n.isDir) this.nlink++;
    this.touch();
    return n;
  }

  override create(name: string, mode: number, c: Credentials): Inode {
    return this.add(name, (mode & ~S_IFMT) | S_IFREG, c);
  }

  override mkdir(name: string, mode: number, c: Credentials): Inode {
    return this.add(name, (mode & ~S_IFMT) | S_IFDIR, c);
  }

  override symlink(name: string, target: string, c: Credentials): Inode {
    const n = this.add(name, S_IFLNK | 0o777, c, Math.ceil(target.length / INODE_HEAP_BYTES));
    n.target = target;
    return n;
  }

  override mknod(name: string, mode: number, rdev: number, c: Credentials): Inode {
    const fmt = mode & S_IFMT;
    if (fmt !== S_IFREG && fmt !== S_IFIFO && fmt !== S_IFSOCK) fail(Errno.EPERM);
    const n = this.add(name, mode, c);
    n.rdev = rdev;
    return n;
  }

  override link(name: string, target: Inode): void {
    if (!(target instanceof TmpfsInode) || target.tfs !== this.tfs) fail(Errno.EXDEV);
    if (this.children.has(name)) fail(Errno.EEXIST);
    this.tfs.chargeInode();
    this.children.set(name, target);
    target.nlink++;
    target.ctime = nowTimespec();
    this.touch();
  }

  override unlink(name: string): void {
    const n = this.children.get(name) ?? fail(Errno.ENOENT);
    if (n.isDir) fail(Errno.EISDIR);
    this.children.delete(name);
    n.nlink--;
    n.ctime = nowTimespec();
    this.tfs.unchargeInode();
    this.tfs.releaseData(n);
    this.touch();
  }

  override rmdir(name: string): void {
    const n = this.children.get(name) ?? fail(Errno.ENOENT);
    if (!n.isDir) fail(Errno.ENOTDIR);
    if (n.children.size > 0) fail(Errno.ENOTEMPTY);
    this.children.delete(name);
    this.nlink--;
    n.nlink = 0;
    this.tfs.unchargeInode();
    this.tfs.releaseData(n);
    this.touch();
  }

  override rename(oldName: string, newDir: Inode, newName: string): void {
    if (!(newDir instanceof TmpfsInode) || newDir.tfs !== this.tfs) fail(Errno.EXDEV);
    const n = this.children.get(oldName) ?? fail(Errno.ENOENT);
    const existing = newDir.children.get(newName);
    if (existing === n) return; // the same file under both names: nothing to do
    if (existing) {
      if (existing.isDir) {
        if (existing.children.size > 0) fail(Errno.ENOTEMPTY);
        newDir.nlink--;
        existing.nlink = 0;
      } else existing.nlink--;
      this.tfs.unchargeInode();
      this.tfs.releaseData(existing);
    }
    this.children.delete(oldName);
    newDir.children.set(newName, n);
    if (n.isDir && newDir !== this) {
      this.nlink--;
      newDir.nlink++;
    }
    this.touch();
    newDir.touch();
  }

  override open(loc: Location, flags: number): FileDescription {
    if (this.pipe) {
      const acc = flags & O_ACCMODE;
      return new PipeEnd(this.pipe, acc === O_RDONLY ? O_RDONLY | (flags & ~O_ACCMODE) : acc === O_WRONLY ? flags : flags, loc);
    }
    return new TmpfsFile(loc, flags, this);
  }
}

/** TmpfsFile is an open tmpfs file or directory. */
export class TmpfsFile extends FileDescription {
  constructor(loc: Location, flags: number, readonly inode: TmpfsInode) {
    super(loc, flags);
    inode.opens++;
  }

  protected override release(): void {
    this.inode.opens--;
    this.inode.tfs.releaseData(this.inode);
  }

  override read(_t: Task, dst: Buffer, offset?: number): number | Block {
    const i = this.inode;
    if (i.isDir) fail(Errno.EISDIR);
    const at = offset ?? this.offset;
    const n = Math.max(0, Math.min(dst.length, i.size - at));
    i.readAt(dst.subarray(0, n), at);
    if (offset === undefined) this.offset += n;
    i.atime = nowTimespec();
    return n;
  }

  override write(_t: Task, src: Buffer, offset?: number): number | Block {
    const i = this.inode;
    const at = offset ?? (this.flags & O_APPEND ? i.size : this.offset);
    let n = src.length;
    if (at + n > i.size) {
      // Past `size=`, what fits is written (a short write) and then ENOSPC, as on Linux.
      const room = i.tfs.roomFor(i.size);
      if (at + n > room) n = Math.max(0, room - at);
      if (n === 0 && src.length > 0) fail(Errno.ENOSPC);
      if (at + n > i.size) i.resize(at + n);
    }
    i.writeAt(src.subarray(0, n), at);
    if (offset === undefined) this.offset = at + n;
    i.mtime = i.ctime = nowTimespec();
    return n;
  }

  override readdir(): DirEntry[] {
    const i = this.inode;
    const parent = this.loc!.dentry.parent?.inode ?? i;
    return [{ name: '.', ino: i.ino, type: 4 }, { name: '..', ino: parent.ino, type: 4 }, ...i.readdir()];
  }

  override truncate(size: number): void {
    this.inode.resize(size);
  }

  override stat(): Stat {
    return this.inode.stat();
  }
}
