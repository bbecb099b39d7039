/**
 * tmpfs: files kept in the sentry's memory. Directories map names to inodes; regular
 * files hold their bytes in the sandbox's memory file, in 64 KiB chunks allocated on
 * first touch (FileData, a MemObject as behind shared anonymous memory: a hole costs
 * nothing, so `truncate -s 2G` allocates nothing, and growing never copies the file);
 * symlinks hold their target; FIFOs hold a pipe. Used for /tmp, /dev/shm, memfd_create
 * and as the base of other synthetic trees.
 *
 * A MAP_SHARED mapping of a tmpfs file maps the file's own chunks (handlers/mm.ts), so
 * writes through it are read() at once and write() is seen through it: one memory.
 * Truncating a mapped file unmaps the pages past the new end in every address space
 * (MemObject.cut); an access there then faults and the task gets SIGSEGV (Linux sends
 * SIGBUS).
 *
 * Bounds (see sentry/limits.ts for how they are sized): each tmpfs has a size in pages
 * and a number of inodes (`size=`, `nr_inodes=`; 0 is unlimited, as on Linux), and all
 * of them together draw on one sandbox-wide inode budget, so that no number of files
 * makes the sentry's heap overflow. As in Linux's tmpfs, every name counts as an inode
 * (a hard link pins a dentry too). The budget counts units of INODE_HEAP_BYTES of heap: a
 * name is one, a symlink's target (a heap string of up to 4 KiB) one more per KiB. Past a bound, creating a name or growing a file fails
 * with ENOSPC (a write that partly fits is short, as on Linux). A name's inode count is
 * given back when the name goes; a file's pages when its last link, its last open
 * file description and its last mapping are gone. `size=` counts the pages actually
 * stored (as Linux's tmpfs): a page is charged when first written, or when a mapping
 * first maps it; a chunk's charged pages are a 16-bit mask, so st_blocks and statfs are
 * exact to the page.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Credentials } from '../../kernel/credentials';
import type { Task } from '../../kernel/task';
import type { Block } from '../../kernel/waiter';
import { FileDescription, O_APPEND } from '../../vfs/file';
import {
  dtype, Inode, nowTimespec, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
  type DirEntry, type FileSystem, type SetAttr, type Stat, type StatFs, type Timespec,
} from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { XattrMap } from '../../vfs/xattr';
import { openFifo, Pipe } from '../pipe/pipe';
import { openDevice } from '../dev/device-ops';
import { INODE_HEAP_BYTES } from '../../limits';
import { MemoryFile } from '../../../platform';
import { CHUNK, MemObject } from '../../mm/shared';

/** nextDev is the next anonymous minor (below 0x20: the fixed ones, procfs's 3). */
let nextDev = 0x20;

const PAGE = 4096;
/** PAGES_PER_CHUNK is the number of pages in a chunk (the bits of a chunk's charge mask). */
const PAGES_PER_CHUNK = CHUNK / PAGE;
/**
 * MAX_FILE_BYTES bounds one file's length (EFBIG past it; `size=` bounds what it stores):
 * a MAP_PRIVATE mapping reads the file's bytes into private memory, so a long sparse
 * file costs its length in reads there.
 */
const MAX_FILE_BYTES = 2 ** 31;

let memoryFile: MemoryFile | null = null;

/** setTmpfsMemoryFile sets the memory file tmpfs data lives in (boot: the platform's). */
export function setTmpfsMemoryFile(mf: MemoryFile): void {
  memoryFile = mf;
}

/** tmpfsMemoryFile returns the memory file for tmpfs data (a private one when boot set none: unit tests). */
function tmpfsMemoryFile(): MemoryFile {
  return (memoryFile ??= MemoryFile.create({ name: 'tvisor-tmpfs' }));
}

/** bitCount counts the set bits of a chunk's charge mask. */
function bitCount(m: number): number {
  let n = 0;
  for (; m; m &= m - 1) n++;
  return n;
}

/**
 * FileData is a regular file's bytes: a MemObject whose limit is the file's end rounded
 * up to a page and whose pages are charged to the tmpfs (`size=`) as they are first
 * stored. The inode holds one reference (dropped at the last link and close), each
 * MAP_SHARED VMA one more; the pages are given back with the last.
 */
export class FileData extends MemObject {
  /** masks holds, per chunk, the pages charged (bit p: page p of the chunk). */
  private readonly masks = new Map<number, number>();
  /** pages is the number of pages charged. */
  pages = 0;

  constructor(readonly inode: TmpfsInode) {
    super(tmpfsMemoryFile());
  }

  override get limit(): number {
    return Math.ceil(this.inode.size / PAGE) * PAGE;
  }

  override forMapping(c: number, lo: number, hi: number): ReturnType<MemObject['chunk']> {
    if (this.claim(lo, hi) < hi) fail(Errno.ENOSPC);
    return this.chunks.get(c)!;
  }

  /**
   * claim allocates and charges the pages of [lo, hi) not stored yet, in order, as far
   * as the tmpfs has room; it returns where it stopped (hi when all fit) and fails with
   * ENOSPC when not even the first page fits (or the memory file is full).
   */
  claim(lo: number, hi: number): number {
    const tfs = this.inode.tfs;
    const maxPages = tfs.maxPages;
    for (let p = Math.floor(lo / PAGE); p * PAGE < hi; p++) {
      const c = Math.floor(p / PAGES_PER_CHUNK), bit = 1 << (p % PAGES_PER_CHUNK);
      const mask = this.masks.get(c) ?? 0;
      if (mask & bit) continue;
      const stop = Math.max(lo, p * PAGE);
      if (tfs.pages >= maxPages) return stop > lo ? stop : fail(Errno.ENOSPC);
      if (!this.chunks.has(c)) {
        try {
          this.chunk(c);
        } catch {
          return stop > lo ? stop : fail(Errno.ENOSPC); // the memory file is full
        }
      }
      this.masks.set(c, mask | bit);
      this.pages++;
      tfs.pages++;
    }
    return hi;
  }

  /** missing counts the pages of [lo, hi) not stored yet. */
  missing(lo: number, hi: number): number {
    let n = 0;
    for (let p = Math.floor(lo / PAGE); p * PAGE < hi; p++) {
      if (!((this.masks.get(Math.floor(p / PAGES_PER_CHUNK)) ?? 0) & (1 << (p % PAGES_PER_CHUNK)))) n++;
    }
    return n;
  }

  /** truncate drops the bytes from `size` on (unmapping them wherever mapped) and their charge. */
  truncate(size: number): void {
    for (const c of this.cut(size)) this.uncharge(c, 0);
    const c = Math.floor(size / CHUNK), keep = Math.ceil((size % CHUNK) / PAGE);
    if (size % CHUNK !== 0) this.uncharge(c, keep);
  }

  /** punchHole zeroes [lo, hi): whole chunks inside it are given back with their charge. */
  punchHole(lo: number, hi: number): void {
    for (const c of this.punch(lo, hi)) this.uncharge(c, 0);
  }

  /** uncharge gives back the charged pages of chunk c from page `from` of the chunk on. */
  private uncharge(c: number, from: number): void {
    const mask = this.masks.get(c) ?? 0;
    const kept = mask & ((1 << from) - 1);
    const n = bitCount(mask ^ kept);
    this.pages -= n;
    this.inode.tfs.pages -= n;
    if (kept) this.masks.set(c, kept);
    else this.masks.delete(c);
  }

  protected override released(): void {
    this.inode.tfs.pages -= this.pages;
    this.pages = 0;
    this.masks.clear();
  }
}

/** File seals (fcntl F_ADD_SEALS), as Linux numbers them. */
export const F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8, F_SEAL_FUTURE_WRITE = 0x10;
const ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/** InodeBudget is the sandbox-wide count of in-memory inodes and its bound. */
export const inodeBudget = { used: 0, limit: Number.MAX_SAFE_INTEGER };

/** setInodeBudget sets the sandbox-wide bound on tmpfs inodes (boot, from limits.ts). */
export function setInodeBudget(limit: number): void {
  inodeBudget.limit = limit;
}

/** TmpfsDefaults are the bounds of a tmpfs mounted without `size=`/`nr_inodes=` (0: unlimited). */
export const tmpfsDefaults = { maxBytes: 0, maxInodes: 0 };

/** allocDev returns a new anonymous device number (major 0, as Linux gives tmpfs, proc
 * and other file systems without a device) for an in-memory or gofer file system, in
 * the encoding stat's st_dev has (the minor's high bits above the major). */
export function allocDev(): number {
  const minor = nextDev++;
  return (minor & 0xff) | ((minor & ~0xff) << 12);
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
  /** maxBytes and maxInodes are the bounds (0: unlimited); a remount may change them
   * (mountable.ts's remountTmpfs, within Linux's rules). */
  maxBytes: number;
  maxInodes: number;

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
    i.dropData(); // its pages come back with its last mapping
  }

  /** maxPages is the number of data pages `size=` allows (unbounded without it). */
  get maxPages(): number {
    return this.maxBytes > 0 ? Math.floor(this.maxBytes / PAGE) : Number.MAX_SAFE_INTEGER;
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
  /**
   * seals are the file's seals (F_SEAL_*): a memfd made without MFD_ALLOW_SEALING and
   * every other tmpfs file have F_SEAL_SEAL only, as on Linux (they are all shmem files).
   */
  seals = F_SEAL_SEAL;
  /** fileData holds a regular file's bytes (made on first use). */
  private fileData: FileData | null = null;
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
  /** xattrs are the file's "user." attributes (made on the first set). */
  private xattrs: XattrMap | undefined;

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
    const blocks = this.isRegular ? (this.fileData?.pages ?? 0) * 8 : 0;
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

  override getxattr(name: string): Buffer {
    return this.xattrs?.get(name) ?? fail(Errno.ENODATA);
  }

  override listxattr(): string[] {
    return this.xattrs?.names() ?? [];
  }

  override setxattr(name: string, value: Buffer, flags: number): void {
    (this.xattrs ??= new XattrMap()).set(name, value, flags);
    this.ctime = nowTimespec();
  }

  override removexattr(name: string): void {
    if (!this.xattrs) fail(Errno.ENODATA);
    this.xattrs.remove(name);
    this.ctime = nowTimespec();
  }

  /** data returns a regular file's bytes (the object MAP_SHARED maps). */
  get data(): FileData {
    if (!this.isRegular) fail(Errno.EINVAL);
    if (!this.fileData) this.fileData = new FileData(this).ref(); // the inode's reference
    return this.fileData;
  }

  /** dropData drops the inode's reference to its bytes (the last link and close are gone). */
  dropData(): void {
    this.fileData?.unref();
  }

  /**
   * resize sets the file's length: growth stores nothing (a hole, as Linux's tmpfs: not
   * bounded by `size=`), shrinking drops the bytes past the end, wherever mapped.
   */
  resize(n: number): void {
    if (!this.isRegular) fail(Errno.EINVAL);
    if (n > MAX_FILE_BYTES) fail(Errno.EFBIG);
    if ((n < this.size && this.seals & F_SEAL_SHRINK) || (n > this.size && this.seals & F_SEAL_GROW)) fail(Errno.EPERM);
    if (n < this.size) this.fileData?.truncate(n);
    this.tfs.bytes += n - this.size;
    this.size = n;
    this.touch();
  }

  /** getSeals implements F_GET_SEALS (EINVAL for a file that is not regular). */
  getSeals(): number {
    if (!this.isRegular) fail(Errno.EINVAL);
    return this.seals;
  }

  /**
   * addSeals implements F_ADD_SEALS: EPERM once F_SEAL_SEAL is set, EBUSY when
   * F_SEAL_WRITE is asked while a writable shared mapping exists.
   */
  addSeals(seals: number): void {
    if (!this.isRegular) fail(Errno.EINVAL);
    if (seals & ~ALL_SEALS) fail(Errno.EINVAL);
    if (this.seals & F_SEAL_SEAL) fail(Errno.EPERM);
    if (seals & F_SEAL_WRITE && !(this.seals & F_SEAL_WRITE) && this.fileData?.mappedWritable()) fail(Errno.EBUSY);
    this.seals |= seals;
  }

  /**
   * allocate implements fallocate(2) mode 0 and FALLOC_FL_KEEP_SIZE on a tmpfs file:
   * the pages of [offset, offset+len) are stored and charged (ENOSPC, with nothing
   * stored, when they do not all fit under `size=`), and the file grows to cover them
   * unless keepSize. Seals apply as to write().
   */
  allocate(offset: number, len: number, keepSize: boolean): void {
    if (!this.isRegular) fail(Errno.ENODEV);
    const end = offset + len;
    if (end > MAX_FILE_BYTES) fail(Errno.EFBIG);
    if (this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) fail(Errno.EPERM);
    if (!keepSize && end > this.size && this.seals & F_SEAL_GROW) fail(Errno.EPERM);
    if (this.tfs.pages + this.data.missing(offset, end) > this.tfs.maxPages) fail(Errno.ENOSPC);
    if (this.data.claim(offset, end) < end) fail(Errno.ENOSPC); // the memory file is full
    if (!keepSize && end > this.size) this.resize(end);
  }

  /**
   * punchHole implements fallocate(2) FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE on a tmpfs
   * file: [offset, offset+len) reads as zeros (in every mapping too) and the whole chunks
   * inside it are given back; the size stays.
   */
  punchHole(offset: number, len: number): void {
    if (!this.isRegular) fail(Errno.ENODEV);
    if (this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) fail(Errno.EPERM);
    const end = Math.min(offset + len, this.size);
    if (end > offset) this.fileData?.punchHole(offset, end);
    this.touch();
  }

  /** readAt copies the bytes at [at, at+dst.length) into dst (holes read as zeros). */
  readAt(dst: Buffer, at: number): void {
    if (this.fileData) this.fileData.readAt(dst, at);
    else dst.fill(0);
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
    if (fmt !== S_IFREG && fmt !== S_IFIFO && fmt !== S_IFSOCK && fmt !== S_IFCHR && fmt !== S_IFBLK) fail(Errno.EPERM);
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
    if (this.pipe) return openFifo(this.pipe, flags, loc);
    const fmt = this.mode & S_IFMT;
    if (fmt === S_IFCHR || fmt === S_IFBLK) return openDevice(this, this.rdev, fmt === S_IFBLK, loc, flags);
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

  override read(t: Task, dst: Buffer, offset?: number): number | Block {
    return this.readv(t, [dst], offset);
  }

  /** readBound is what a read at `offset` can return: the bytes to the end of the file. */
  override readBound(offset?: number): number {
    return Math.max(0, this.inode.size - (offset ?? this.offset));
  }

  /**
   * readv copies the file's bytes into dsts in order (views of application memory from
   * the syscall layer: one copy, memory file to memory file), short at the end of the file.
   */
  override readv(_t: Task, dsts: readonly Buffer[], offset?: number): number | Block {
    const i = this.inode;
    if (i.isDir) fail(Errno.EISDIR);
    const at = offset ?? this.offset;
    let done = 0;
    for (const d of dsts) {
      const n = Math.max(0, Math.min(d.length, i.size - at - done));
      if (n === 0) break;
      i.readAt(d.subarray(0, n), at + done);
      done += n;
    }
    if (offset === undefined) this.offset += done;
    i.atime = nowTimespec();
    return done;
  }

  override write(t: Task, src: Buffer, offset?: number): number | Block {
    return this.writev(t, [src], offset);
  }

  /**
   * writev stores srcs in order as one write, short past `size=`. With O_APPEND it goes at
   * the end even when an offset is given (pwrite(2) appends there on Linux).
   */
  override writev(_t: Task, srcs: readonly Buffer[], offset?: number): number | Block {
    const i = this.inode;
    const at = this.flags & O_APPEND ? i.size : offset ?? this.offset;
    if (i.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) fail(Errno.EPERM);
    let len = 0;
    for (const s of srcs) len += s.length;
    if (len === 0) return 0;
    if (at >= MAX_FILE_BYTES) fail(Errno.EFBIG);
    if (at + len > i.size && i.seals & F_SEAL_GROW) fail(Errno.EPERM);
    // Past `size=`, what fits is written (a short write) and then ENOSPC, as on Linux.
    const n = i.data.claim(at, Math.min(at + len, MAX_FILE_BYTES)) - at;
    if (at + n > i.size) i.resize(at + n);
    for (let k = 0, done = 0; done < n; k++) {
      const m = Math.min(srcs[k].length, n - done);
      i.data.writeAt(srcs[k].subarray(0, m), at + done);
      done += m;
    }
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
