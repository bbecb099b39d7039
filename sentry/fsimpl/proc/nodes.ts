/**
 * Building blocks of procfs: directories whose entries are computed on lookup, files
 * whose contents are generated when opened (a snapshot, as Linux's seq files), and
 * symlinks whose target is computed when read.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import type { Block } from '../../kernel/waiter';
import type { Credentials } from '../../kernel/credentials';
import { holdNamespace } from '../../kernel/ns-holds';
import { FileDescription, O_TRUNC } from '../../vfs/file';
import { dtype, Inode, nowTimespec, S_IFDIR, S_IFLNK, S_IFREG, type DirEntry, type FileSystem, type Stat, type StatFs } from '../../vfs/inode';
import { Mount, type Location } from '../../vfs/mount';

/** ProcFs is the proc file system instance. */
export class ProcFs implements FileSystem {
  readonly name: string = 'proc';
  readonly dev: number = 3;
  /** cacheDentries: /proc/<pid> must go when the task does, so no name is cached. */
  readonly cacheDentries = false;
  root!: Inode;
  private readonly inos = new Map<string, number>();

  /** ino returns a stable inode number for a path inside proc. */
  ino(path: string): number {
    let n = this.inos.get(path);
    if (n === undefined) this.inos.set(path, (n = this.inos.size + 2));
    return n;
  }

  statfs(): StatFs {
    return { type: 0x9fa0, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  }
}

/** ProcInode is the base of every proc inode. */
export abstract class ProcInode extends Inode {
  /** live tells whether what the inode describes still exists (a process, a thread, a
   * descriptor); a child looked up in a directory also dies with its directory. */
  live: () => boolean = () => true;

  constructor(readonly pfs: ProcFs, readonly path: string, mode: number, readonly owner: () => [number, number] = () => [0, 0]) {
    super(pfs, pfs.ino(path), mode);
  }

  stat(): Stat {
    const now = nowTimespec();
    const [uid, gid] = this.owner();
    return { dev: this.pfs.dev, ino: this.ino, mode: this.mode, nlink: this.isDir ? 2 : 1, uid, gid, rdev: 0, size: 0, blksize: 1024, blocks: 0, atime: now, mtime: now, ctime: now };
  }

  override get readonly(): boolean {
    return true;
  }

  override get stale(): boolean {
    return !this.live();
  }

  /** alive fails with ENOENT, as Linux's proc does, once the object is gone. */
  protected alive(): void {
    if (!this.live()) fail(Errno.ENOENT);
  }
}

/** ProcDir lists children from a function: name -> inode factory. */
export class ProcDir extends ProcInode {
  constructor(pfs: ProcFs, path: string, readonly entries: () => Map<string, () => Inode>, owner?: () => [number, number], mode = 0o555) {
    super(pfs, path, S_IFDIR | mode, owner);
  }

  /** namesCreatable is false in proc: its lookup of a missing name fails ENOENT (no
   * negative dentry), so creating one fails ENOENT before the read-only check, as on
   * Linux. The file systems built from these nodes (sysfs, cgroup) give a negative dentry,
   * so their refusal is the mount's or the file system's (EROFS, EPERM). */
  override get namesCreatable(): boolean {
    return this.pfs.name !== 'proc';
  }

  override lookup(name: string): Inode {
    this.alive();
    const f = this.entries().get(name);
    if (!f) fail(Errno.ENOENT);
    const i = f();
    if (i instanceof ProcInode) {
      const [mine, parent] = [i.live, this.live];
      i.live = () => parent() && mine();
    }
    return i;
  }

  override readdir(): DirEntry[] {
    this.alive();
    return [...this.entries()].map(([name, f]) => {
      const i = f();
      return { name, ino: i.ino, type: dtype(i.mode) };
    });
  }

  open(loc: Location, flags: number): FileDescription {
    return new ProcDirFile(loc, flags, this);
  }
}

class ProcDirFile extends FileDescription {
  private snapshot: DirEntry[] | null = null;

  constructor(loc: Location, flags: number, readonly dir: ProcDir) {
    super(loc, flags);
  }

  override readdir(): DirEntry[] {
    if (this.offset === 0 || !this.snapshot) {
      const parent = this.loc!.dentry.parent?.inode ?? this.dir;
      this.snapshot = [{ name: '.', ino: this.dir.ino, type: 4 }, { name: '..', ino: parent.ino, type: 4 }, ...this.dir.readdir()];
    }
    return this.snapshot;
  }

  override read(): number {
    return fail(Errno.EISDIR);
  }

  override stat(): Stat {
    return this.dir.stat();
  }
}

/** ProcFile has contents generated at open. */
export class ProcFile extends ProcInode {
  /** generate makes the contents at open, for the opener `c` when given (what depends on
   * who reads: ids seen through the reader's user namespace). */
  constructor(pfs: ProcFs, path: string, readonly generate: (c?: Credentials) => string | Buffer, owner?: () => [number, number], mode = 0o444) {
    super(pfs, path, S_IFREG | mode, owner);
  }

  /** readonly is false: opening a proc file for writing that takes no writes is EACCES
   * (its open), not EROFS, as Linux's proc and sysctl permission checks answer. */
  override get readonly(): boolean {
    return false;
  }

  open(loc: Location, flags: number, _c?: Credentials): FileDescription {
    this.alive();
    if ((flags & 3) !== 0) fail(Errno.EACCES);
    const g = this.generate(_c);
    return new ProcFileDesc(loc, flags, this, typeof g === 'string' ? Buffer.from(g) : g);
  }
}

/** ProcStore takes what a task wrote to a writable proc file: the bytes of one write(2)
 * call, applied as a whole (as Linux's proc and sysctl handlers do); it throws the errno
 * Linux gives for a refused value. */
export type ProcStore = (t: Task, data: Buffer) => void;

/** ProcWritableFile is a proc file a task may also write: `mayWrite` decides at open who
 * may (EACCES otherwise), `store` applies each write. Its contents are generated at open
 * as ProcFile's are. */
export class ProcWritableFile extends ProcFile {
  constructor(pfs: ProcFs, path: string, generate: (c?: Credentials) => string | Buffer, readonly store: ProcStore,
    readonly mayWrite: (c: Credentials) => boolean, owner?: () => [number, number], mode = 0o644) {
    super(pfs, path, generate, owner, mode);
  }

  override open(loc: Location, flags: number, c?: Credentials): FileDescription {
    this.alive();
    const writing = (flags & 3) !== 0;
    if (writing && (!c || !this.mayWrite(c))) fail(Errno.EACCES);
    const g = (flags & 3) === 1 ? Buffer.alloc(0) : this.generate(c);
    return new ProcFileDesc(loc, flags & ~O_TRUNC, this, typeof g === 'string' ? Buffer.from(g) : g);
  }
}

class ProcFileDesc extends FileDescription {
  constructor(loc: Location, flags: number, readonly node: ProcFile, readonly data: Buffer) {
    super(loc, flags);
  }

  override write(t: Task, src: Buffer, offset?: number): number | Block {
    if (!(this.node instanceof ProcWritableFile) || (this.flags & 3) === 0) return fail(Errno.EBADF);
    this.node.store(t, src);
    if (offset === undefined) this.offset += src.length;
    return src.length;
  }

  /** truncate: O_TRUNC on a proc file changes nothing (`echo 1 > /proc/...`), as in Linux. */
  override truncate(): void {
    if (!(this.node instanceof ProcWritableFile)) fail(Errno.EINVAL);
  }

  override read(_t: Task, dst: Buffer, offset?: number): number | Block {
    const at = offset ?? this.offset;
    const n = Math.max(0, Math.min(dst.length, this.data.length - at));
    this.data.copy(dst, 0, at, at + n);
    if (offset === undefined) this.offset += n;
    return n;
  }

  override stat(): Stat {
    return this.node.stat();
  }
}

/** ProcLink is a symlink whose target is computed when read. */
export class ProcLink extends ProcInode {
  constructor(pfs: ProcFs, path: string, readonly target: () => string, owner?: () => [number, number]) {
    super(pfs, path, S_IFLNK | 0o777, owner);
  }

  override readlink(): string {
    this.alive();
    return this.target();
  }

  open(): FileDescription {
    return fail(Errno.ELOOP);
  }
}

/**
 * pseudoFs is a file system no path reaches (no root: ENOENT), only the files that links
 * in /proc lead to: nsfs, and the pipefs, sockfs and anon_inodefs of files opened nowhere
 * in the tree (fd-link.ts).
 */
export function pseudoFs(name: string, dev: number, magic: number): FileSystem {
  return {
    name,
    dev,
    get root(): Inode {
      return fail(Errno.ENOENT);
    },
    statfs(): StatFs {
      return { type: magic, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
    },
  };
}

/** nsFs stands for nsfs, the file system of the namespace files that /proc/<pid>/ns/*
 * lead to. */
const nsFs = pseudoFs('nsfs', 4, 0x6e736673);

/** NsInode is a namespace as a file (nsfs): its inode number names the namespace. */
class NsInode extends Inode {
  constructor(ino: number) {
    super(nsFs, ino, S_IFREG | 0o444);
  }

  stat(): Stat {
    const t = { sec: 0, nsec: 0 };
    return { dev: nsFs.dev, ino: this.ino, mode: this.mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t };
  }

  open(loc: Location, flags: number): FileDescription {
    return new NsFile(loc, flags, this, holdNamespace(this.ino));
  }
}

/** NsFile is an open namespace file: it can be held open (and one day passed to
 * setns); reading it is EINVAL, as Linux's. */
class NsFile extends FileDescription {
  constructor(loc: Location, flags: number, readonly ns: NsInode, private readonly unhold: () => void) {
    super(loc, flags);
  }

  protected override release(): void {
    this.unhold();
  }

  override read(): number {
    return fail(Errno.EINVAL);
  }

  override stat(): Stat {
    return this.ns.stat();
  }
}

/** nsFileInode returns the namespace inode number of f when it is an open namespace
 * file (/proc/<pid>/ns/*, what setns takes), else null. */
export function nsFileInode(f: FileDescription): number | null {
  return f instanceof NsFile ? f.ns.ino : null;
}

/** ProcNsLink is /proc/<pid>/ns/<name>: a magic link whose text is `type:[inode]` and
 * which, followed, leads to the namespace's nsfs file with that inode number. */
export class ProcNsLink extends ProcLink {
  private readonly ns: NsInode;

  /** `may` tells whether the task resolving the link may see its task's namespaces
   * (ptrace read access, as Linux's proc_ns_get_link asks): EACCES otherwise. */
  constructor(pfs: ProcFs, path: string, type: string, nsIno: number, owner?: () => [number, number], private readonly may: () => boolean = () => true) {
    super(pfs, path, () => `${type}:[${nsIno}]`, owner);
    this.ns = new NsInode(nsIno);
  }

  override readlink(): string {
    if (!this.may()) fail(Errno.EACCES);
    return super.readlink();
  }

  override jump(): Location {
    this.alive();
    if (!this.may()) fail(Errno.EACCES);
    const m = new Mount(nsFs, null, null, 0, 'nsfs', this.ns);
    return { mount: m, dentry: m.root };
  }
}
