/**
 * devfs: the container's /dev, built in the sentry. Character devices null, zero, full,
 * random, urandom and tty (the opener's controlling terminal, ENXIO without one); the usual
 * symlinks (fd, stdin, stdout, stderr, ptmx -> pts/ptmx); shm, and pts (devpts.ts: the
 * kernel's terminals and the pairs made by opening ptmx). No host device is ever
 * reachable from here.
 */
import { isControllingTerminal } from '../../kernel/process-group';
import { Errno, fail } from '../../kernel/errors';
import { Credentials } from '../../kernel/credentials';
import type { Kernel } from '../../kernel/kernel';
import type { LinuxDevice } from '../../../oci/config';
import type { FileDescription } from '../../vfs/file';
import { S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT, type Inode } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { Tmpfs, TmpfsInode } from '../tmpfs/tmpfs';
import { newDevpts, openControllingPty } from '../devpts/devpts';
import { MEMORY_DEVICES, mkdev, registerDevice } from './device-ops';

/** deviceNode makes a character or block device node; opening it is device-ops.ts's business. */
function deviceNode(fs: Tmpfs, mode: number, major: number, minor: number, uid = 0, gid = 0): TmpfsInode {
  const n = new TmpfsInode(fs, fs.allocIno(), mode, uid, gid);
  n.rdev = mkdev(major, minor);
  return n;
}

/** openTty opens /dev/tty (5:0): the controlling terminal of the opener's session, a kernel
 * terminal or a pty pair's slave (ENXIO without one). */
function openTty(k: Kernel | null, node: Inode, loc: Location, flags: number): FileDescription {
  const t = k?.sched.running;
  if (!t || !k || !isControllingTerminal(t.tg, t.tg.sid)) return fail(Errno.ENXIO);
  const terminal = k.controllingTerminal(t.tg.sid);
  if (terminal) return terminal.open();
  return openControllingPty(k, t.tg.sid, node, loc, flags) ?? fail(Errno.ENXIO);
}

/**
 * addDevices creates config.json's linux.devices in devfs (validated: under /dev, no
 * ".."), as runc does: type c/u (character), b (block) or p (fifo), fileMode without its
 * type bits (default 0666), uid and gid (default 0), missing parent directories 0755. An
 * entry at a default device's path replaces it. The nodes behave as their numbers say
 * (device-ops.ts).
 */
function addDevices(fs: Tmpfs, devices: LinuxDevice[]): void {
  const root0 = new Credentials(0, 0);
  for (const d of devices) {
    const parts = d.path.split('/').filter(Boolean).slice(1);
    const name = parts.pop()!;
    let dir = fs.root;
    for (const p of parts) {
      let next = dir.children.get(p);
      if (!next) next = dir.mkdir(p, 0o755, root0) as TmpfsInode;
      if (!next.isDir) fail(Errno.ENOTDIR);
      dir = next;
    }
    const perm = (d.fileMode ?? 0o666) & ~S_IFMT;
    const type = d.type === 'p' ? S_IFIFO : d.type === 'b' ? S_IFBLK : S_IFCHR;
    const node = type === S_IFIFO
      ? new TmpfsInode(fs, fs.allocIno(), S_IFIFO | perm, d.uid ?? 0, d.gid ?? 0)
      : deviceNode(fs, type | perm, d.major ?? 0, d.minor ?? 0, d.uid ?? 0, d.gid ?? 0);
    dir.children.set(name, node);
  }
}

/** newDevfs builds /dev with config.json's linux.devices; /dev/pts lists k's terminals as they come and go. */
export function newDevfs(k: Kernel | null = null, devices: LinuxDevice[] = []): Tmpfs {
  const fs = new Tmpfs(0o755);
  Object.defineProperty(fs, 'name', { value: 'devtmpfs' });
  const root = fs.root;
  const root0 = new Credentials(0, 0);
  for (const [name, d] of Object.entries(MEMORY_DEVICES)) root.children.set(name, deviceNode(fs, S_IFCHR | 0o666, d.major, d.minor));
  root.children.set('tty', deviceNode(fs, S_IFCHR | 0o666, 5, 0));
  if (k) registerDevice(mkdev(5, 0), (node, loc, flags) => openTty(k, node, loc, flags));
  for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']]) {
    root.symlink(name, target, root0);
  }
  (root.mkdir('shm', 0o1777, root0) as TmpfsInode).mode |= 0o1777;
  const pts = newDevpts(k).root;
  root.children.set('pts', pts);
  root.nlink++;
  // /dev/console is init's terminal (process.terminal), the same node as its /dev/pts/N,
  // as runc bind-mounts the slave there; absent without a terminal, as under runc.
  const index = k ? consolePtsIndex(k) : null;
  const consoleNode = index !== null ? pts.children.get(String(index)) : undefined;
  if (consoleNode) root.children.set('console', consoleNode);
  root.mkdir('mqueue', 0o1777, root0);
  addDevices(fs, devices);
  return fs;
}

/** consolePtsIndex returns the /dev/pts number of init's terminal (process.terminal),
 * what /dev/console is, or null without one. */
export function consolePtsIndex(k: Kernel): number | null {
  return [...k.terminals].find((t) => !t.ldisc)?.index ?? null;
}

/** nullFs is a file system whose root is a /dev/null device: what masks a file (maskedPaths). */
export function nullFs(): Tmpfs {
  const fs = new Tmpfs(0o755);
  Object.defineProperty(fs, 'root', { value: deviceNode(fs, S_IFCHR | 0o666, MEMORY_DEVICES.null.major, MEMORY_DEVICES.null.minor) });
  return fs;
}
