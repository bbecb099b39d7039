/**
 * MqueueFs is the mqueue file system (mount -t mqueue, /dev/mqueue in runc's default
 * spec): one flat directory, mode 1777, listing the POSIX message queues of an IPC
 * namespace. Each queue is a regular file: stat shows its owner and mode, open(2) gives
 * a queue descriptor (MqFile, as mq_open does), read shows its status line, unlink is
 * mq_unlink and open(O_CREAT) makes a queue with the namespace's default limits.
 */
import type { Credentials } from '../../kernel/credentials';
import { Errno, fail } from '../../kernel/errors';
import { checkMqName, createMq, unlinkMq, type PosixMq } from '../../kernel/ipc/mqueue';
import type { IpcNamespace } from '../../kernel/ipc/namespace';
import type { Block } from '../../kernel/waiter';
import { FileDescription } from '../../vfs/file';
import { dtype, Inode, nowTimespec, S_IFDIR, S_IFREG, type DirEntry, type FileSystem, type SetAttr, type Stat, type StatFs, type Timespec } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { MQUEUE_DEV, MqFile, mqIno, mqStat, setMqAttr } from './mqueue';

/** MQUEUE_MAGIC is statfs's f_type of an mqueue file system. */
const MQUEUE_MAGIC = 0x19800202;

/** MqueueFs is one mount of the queues of ns. */
export class MqueueFs implements FileSystem {
  readonly name = 'mqueue';
  readonly dev = MQUEUE_DEV;
  /** cacheDentries: queues come and go through mq_open and mq_unlink, outside this tree. */
  readonly cacheDentries = false;
  readonly root: MqRoot;

  constructor(readonly ns: IpcNamespace) {
    this.root = new MqRoot(this);
  }

  statfs(): StatFs {
    return { type: MQUEUE_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  }
}

/** MqRoot is the directory of queues. */
class MqRoot extends Inode {
  private readonly ctime: Timespec = nowTimespec();
  private readonly inodes = new WeakMap<PosixMq, MqInode>();

  constructor(readonly mfs: MqueueFs) {
    super(mfs, 1, S_IFDIR | 0o1777);
  }

  stat(): Stat {
    const t = this.ctime;
    // Linux counts DIRENT_SIZE (20) for '.', '..' and each queue.
    const size = 20 * (2 + this.mfs.ns.mqueues.size);
    return { dev: MQUEUE_DEV, ino: 1, mode: this.mode, nlink: 2, uid: 0, gid: 0, rdev: 0, size, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t };
  }

  private inodeOf(mq: PosixMq): MqInode {
    let i = this.inodes.get(mq);
    if (!i) this.inodes.set(mq, (i = new MqInode(this.mfs, mq)));
    return i;
  }

  override lookup(name: string): Inode {
    const mq = this.mfs.ns.mqueues.get(name);
    if (!mq) fail(Errno.ENOENT);
    return this.inodeOf(mq);
  }

  override readdir(): DirEntry[] {
    return [...this.mfs.ns.mqueues.values()].map((mq) => ({ name: mq.name, ino: mqIno(mq), type: dtype(S_IFREG) }));
  }

  override create(name: string, mode: number, c: Credentials): Inode {
    checkMqName(name);
    return this.inodeOf(createMq(this.mfs.ns, name, mode, c, null));
  }

  override unlink(name: string): void {
    unlinkMq(this.mfs.ns, name);
  }

  open(loc: Location, flags: number): FileDescription {
    return new MqRootFile(loc, flags, this);
  }
}

/** MqInode is one queue as a file. */
class MqInode extends Inode {
  constructor(fs: MqueueFs, readonly mq: PosixMq) {
    super(fs, mqIno(mq), S_IFREG | mq.mode);
  }

  stat(): Stat {
    return mqStat(this.mq);
  }

  override setattr(a: SetAttr): void {
    setMqAttr(this.mq, a);
    this.mode = S_IFREG | this.mq.mode;
  }

  open(loc: Location, flags: number): FileDescription {
    return new MqFile(this.mq, flags, loc);
  }
}

/** MqRootFile is the open directory (getdents). */
class MqRootFile extends FileDescription {
  constructor(loc: Location, flags: number, readonly dir: MqRoot) {
    super(loc, flags);
  }

  override readdir(): DirEntry[] {
    return [{ name: '.', ino: 1, type: 4 }, { name: '..', ino: (this.loc!.dentry.parent?.inode ?? this.dir).ino, type: 4 }, ...this.dir.readdir()];
  }

  override read(): number | Block {
    return fail(Errno.EISDIR);
  }

  override stat(): Stat {
    return this.dir.stat();
  }
}
