/**
 * tmpfs: files kept in the sentry's memory. Directories map names to inodes; regular
 * files hold their bytes in a growable Buffer; symlinks hold their target; FIFOs hold a
 * pipe. Used for /tmp, /dev/shm and as the base of other synthetic trees.
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

let nextDev = 0x100;

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

  /** zeroDirSize: directories report size 0, as sysfs and devpts do. */
  zeroDirSize = false;

  constructor(mode = 0o1777, uid = 0, gid = 0, readonly maxBytes = 2 ** 31) {
    this.root = new TmpfsInode(this, this.allocIno(), S_IFDIR | mode, uid, gid);
  }

  allocIno(): number {
    return this.nextIno++;
  }

  statfs(): StatFs {
    const blocks = Math.floor(this.maxBytes / 4096);
    const used = Math.ceil(this.bytes / 4096);
    return { type: 0x01021994, bsize: 4096, blocks, bfree: blocks - used, bavail: blocks - used, files: 1 << 20, ffree: (1 << 20) - this.nextIno, namelen: 255, flags: 0 };
  }
}

/** TmpfsInode is a file of a tmpfs. */
export class TmpfsInode extends Inode {
  children = new Map<string, TmpfsInode>();
  data = Buffer.alloc(0);
  size = 0;
  target = '';
  pipe: Pipe | null = null;
  nlink: number;
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
    if (n > this.tfs.maxBytes) fail(Errno.EFBIG);
    if (n > this.data.length) {
      const grown = Buffer.alloc(Math.max(n, Math.min(this.data.length * 2, n + (1 << 20))));
      this.data.copy(grown, 0, 0, this.size);
      this.data = grown;
    } else if (n < this.size) {
      this.data.fill(0, n, this.size);
    }
    this.tfs.bytes += n - this.size;
    this.size = n;
    this.touch();
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

  private add(name: string, mode: number, c: Credentials): TmpfsInode {
    if (!this.isDir) fail(Errno.ENOTDIR);
    if (this.children.has(name)) fail(Errno.EEXIST);
    const gid = this.mode & 0o2000 ? this.gid : c.egid;
    const n = new TmpfsInode(this.tfs, this.tfs.allocIno(), mode, c.euid, gid);
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
    const n = this.add(name, S_IFLNK | 0o777, c);
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
    if (n.nlink === 0) this.tfs.bytes -= n.size;
    this.touch();
  }

  override rmdir(name: string): void {
    const n = this.children.get(name) ?? fail(Errno.ENOENT);
    if (!n.isDir) fail(Errno.ENOTDIR);
    if (n.children.size > 0) fail(Errno.ENOTEMPTY);
    this.children.delete(name);
    this.nlink--;
    n.nlink = 0;
    this.touch();
  }

  override rename(oldName: string, newDir: Inode, newName: string): void {
    if (!(newDir instanceof TmpfsInode) || newDir.tfs !== this.tfs) fail(Errno.EXDEV);
    const n = this.children.get(oldName) ?? fail(Errno.ENOENT);
    const existing = newDir.children.get(newName);
    if (existing) {
      if (existing.isDir) {
        if (existing.children.size > 0) fail(Errno.ENOTEMPTY);
        newDir.nlink--;
      } else existing.nlink--;
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
  }

  override read(_t: Task, dst: Buffer, offset?: number): number | Block {
    const i = this.inode;
    if (i.isDir) fail(Errno.EISDIR);
    const at = offset ?? this.offset;
    const n = Math.max(0, Math.min(dst.length, i.size - at));
    i.data.copy(dst, 0, at, at + n);
    if (offset === undefined) this.offset += n;
    i.atime = nowTimespec();
    return n;
  }

  override write(_t: Task, src: Buffer, offset?: number): number | Block {
    const i = this.inode;
    const at = offset ?? (this.flags & O_APPEND ? i.size : this.offset);
    if (at + src.length > i.size) i.resize(at + src.length);
    src.copy(i.data, at);
    if (offset === undefined) this.offset = at + src.length;
    i.mtime = i.ctime = nowTimespec();
    return src.length;
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
