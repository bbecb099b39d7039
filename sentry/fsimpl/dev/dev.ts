/**
 * devfs: the container's /dev, built in the sentry. Character devices null, zero, full,
 * random, urandom and tty (the opener's controlling terminal, ENXIO without one); the usual
 * symlinks (fd, stdin, stdout, stderr, ptmx -> pts/ptmx); shm, and pts (devpts.ts: the
 * kernel's terminals and the pairs made by opening ptmx). No host device is ever
 * reachable from here.
 */
import { randomFillSync } from 'node:crypto';
import { Errno, fail } from '../../kernel/errors';
import { Credentials } from '../../kernel/credentials';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { Block } from '../../kernel/waiter';
import { FileDescription } from '../../vfs/file';
import { S_IFCHR, type Stat } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { Tmpfs, TmpfsInode } from '../tmpfs/tmpfs';
import { newDevpts } from '../devpts/devpts';

/** DeviceOps is what a character device does on read and write. */
interface DeviceOps {
  read(dst: Buffer): number;
  write(src: Buffer): number;
}

const DEVICES: Record<string, { major: number; minor: number; ops: DeviceOps }> = {
  null: { major: 1, minor: 3, ops: { read: () => 0, write: (s) => s.length } },
  zero: { major: 1, minor: 5, ops: { read: (d) => { d.fill(0); return d.length; }, write: (s) => s.length } },
  full: { major: 1, minor: 7, ops: { read: (d) => { d.fill(0); return d.length; }, write: () => fail(Errno.ENOSPC) } },
  random: { major: 1, minor: 8, ops: { read: (d) => { randomFillSync(d); return d.length; }, write: (s) => s.length } },
  urandom: { major: 1, minor: 9, ops: { read: (d) => { randomFillSync(d); return d.length; }, write: (s) => s.length } },
};

/** DeviceInode is a character device of devfs. */
class DeviceInode extends TmpfsInode {
  constructor(fs: Tmpfs, readonly ops: DeviceOps, major: number, minor: number) {
    super(fs, fs.allocIno(), S_IFCHR | 0o666, 0, 0);
    this.rdev = (major << 8) | minor;
  }

  override open(loc: Location, flags: number): FileDescription {
    return new DeviceFile(loc, flags, this);
  }
}

class DeviceFile extends FileDescription {
  constructor(loc: Location, flags: number, readonly dev: DeviceInode) {
    super(loc, flags);
  }

  override read(_t: Task, dst: Buffer): number | Block {
    return this.dev.ops.read(dst);
  }

  override write(_t: Task, src: Buffer): number | Block {
    return this.dev.ops.write(src);
  }

  override seek(): number {
    return 0;
  }

  override stat(): Stat {
    return this.dev.stat();
  }
}

/** DevTtyInode is /dev/tty (rdev 5:0): the controlling terminal of the opener's session (ENXIO without one). */
class DevTtyInode extends TmpfsInode {
  constructor(fs: Tmpfs, private readonly k: Kernel | null) {
    super(fs, fs.allocIno(), S_IFCHR | 0o666, 0, 0);
    this.rdev = 5 << 8;
  }

  override open(): FileDescription {
    const t = this.k?.sched.running;
    const terminal = t && this.k ? this.k.controllingTerminal(t.tg.sid) : undefined;
    if (!terminal) fail(Errno.ENXIO);
    return terminal.open();
  }
}

/** newDevfs builds /dev; /dev/pts lists k's terminals as they come and go. */
export function newDevfs(k: Kernel | null = null): Tmpfs {
  const fs = new Tmpfs(0o755);
  Object.defineProperty(fs, 'name', { value: 'devtmpfs' });
  const root = fs.root;
  const root0 = new Credentials(0, 0);
  for (const [name, d] of Object.entries(DEVICES)) root.children.set(name, new DeviceInode(fs, d.ops, d.major, d.minor));
  root.children.set('tty', new DevTtyInode(fs, k));
  for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']]) {
    root.symlink(name, target, root0);
  }
  (root.mkdir('shm', 0o1777, root0) as TmpfsInode).mode |= 0o1777;
  root.children.set('pts', newDevpts(k).root);
  root.nlink++;
  root.mkdir('mqueue', 0o1777, root0);
  return fs;
}

/** nullFs is a file system whose root is a /dev/null device: what masks a file (maskedPaths). */
export function nullFs(): Tmpfs {
  const fs = new Tmpfs(0o755);
  Object.defineProperty(fs, 'root', { value: new DeviceInode(fs, DEVICES.null.ops, DEVICES.null.major, DEVICES.null.minor) });
  return fs;
}
