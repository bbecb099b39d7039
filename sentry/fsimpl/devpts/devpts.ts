/**
 * devpts: the container's /dev/pts, one instance per sandbox (Linux's `newinstance`, as
 * runc mounts it with gid=5,mode=620,ptmxmode=666). It lists two kinds of terminal under
 * one numbering: the kernel's terminals backed by host ptys (init's process.terminal,
 * exec's --tty: host/tty.ts) and the pairs made inside the sandbox by opening
 * /dev/pts/ptmx (pty.ts), whose /dev/pts/N comes with the pair and goes once both of its
 * sides are closed. The slave node belongs to the uid that opened ptmx, group tty (5),
 * mode 620, as Linux's devpts makes it.
 */
import { onSessionLeaderExit } from '../../kernel/process-group';
import { Errno, fail } from '../../kernel/errors';
import type { Kernel } from '../../kernel/kernel';
import { O_NOCTTY, type FileDescription } from '../../vfs/file';
import { S_IFCHR, type Inode } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { Tmpfs, TmpfsInode } from '../tmpfs/tmpfs';
import type { Terminal } from '../host/tty';
import { PtyMaster, PtyPair, PtySlave } from './pty';
import { mkdev, registerDevice } from '../dev/device-ops';

/** TTY_GID is the tty group that owns the slaves (runc's gid=5). */
const TTY_GID = 5;
/** PTY_MAJOR is the first unix98 pty slave major (136); minors go on in 137... as Linux's. */
const PTY_MAJOR = 136;
/** PTY_MAX bounds the pairs a sandbox may hold (Linux's /proc/sys/kernel/pty/max default is 4096). */
export const PTY_MAX = 4096;

/** pairsOf maps each kernel to its sandbox-internal pairs by /dev/pts number. */
const pairsOf = new WeakMap<Kernel, Map<number, PtyPair>>();

/** ptsIndexTaken tells whether /dev/pts/<i> of k's sandbox is held by a sandbox-internal pair. */
export function ptsIndexTaken(k: Kernel, i: number): boolean {
  return pairsOf.get(k)?.has(i) ?? false;
}

/** ptyOfSession is the pair that session sid controls, if any. */
function ptyOfSession(k: Kernel, sid: number): PtyPair | undefined {
  for (const p of pairsOf.get(k)?.values() ?? []) if (p.sid === sid && p.masterOpen) return p;
  return undefined;
}

// A session leader's exit disassociates the pair its session controls (process-group.ts).
onSessionLeaderExit((k, sid) => {
  for (const p of pairsOf.get(k)?.values() ?? []) p.disassociate(sid, true);
});

/** openControllingPty opens, for /dev/tty (`node` at `loc`), the slave of the pair that
 * session sid controls (TIOCSCTTY), or returns undefined when it controls none. */
export function openControllingPty(k: Kernel, sid: number, node: Inode, loc: Location, flags: number): FileDescription | undefined {
  const p = ptyOfSession(k, sid);
  return p ? new PtySlave(loc, flags, p, node) : undefined;
}

/** PtsNode is /dev/pts/N of a sandbox-internal pair: opening it opens the slave (EIO while locked). */
class PtsNode extends TmpfsInode {
  pair: PtyPair | null = null;
  /** removed is set once the pair ended: a cached dentry must look the name up again. */
  removed = false;

  override get stale(): boolean {
    return this.removed;
  }

  constructor(fs: Tmpfs, index: number, uid: number) {
    super(fs, fs.allocIno(), S_IFCHR | 0o620, uid, TTY_GID);
    this.rdev = mkdev(PTY_MAJOR + (index >> 20), index & 0xfffff);
  }

  override open(loc: Location, flags: number): FileDescription {
    const p = this.pair;
    if (!p || p.locked || !p.masterOpen) fail(Errno.EIO);
    const f = new PtySlave(loc, flags, p);
    // Opened without O_NOCTTY by a session leader that has no terminal, the slave becomes
    // its controlling terminal (Linux's tty_open).
    const t = p.k?.sched.running;
    if (t && p.k && !(flags & O_NOCTTY) && p.sid === 0 && t.tg.sid === t.tg.tgid && !p.k.controllingTerminal(t.tg.sid) && !ptyOfSession(p.k, t.tg.sid)) {
      p.sid = t.tg.sid;
      p.fg = t.tg.pgid;
    }
    return f;
  }
}

/** HostPtsNode is /dev/pts/N of a kernel terminal (a host pty's slave). */
class HostPtsNode extends TmpfsInode {
  removed = false;

  override get stale(): boolean {
    return this.removed;
  }

  constructor(fs: Tmpfs, readonly terminal: Terminal) {
    super(fs, fs.allocIno(), S_IFCHR | 0o620, 0, TTY_GID);
    this.rdev = mkdev(PTY_MAJOR, terminal.index);
  }

  override open(): FileDescription {
    return this.terminal.open();
  }
}

/** PtmxNode is /dev/pts/ptmx (5:2, mode 666): each open makes a new pair. */
class PtmxNode extends TmpfsInode {
  constructor(private readonly pts: Tmpfs, private readonly k: Kernel | null, private readonly used: Map<number, PtyPair>) {
    super(pts, pts.allocIno(), S_IFCHR | 0o666, 0, 0);
    this.rdev = mkdev(5, 2);
  }

  override open(loc: Location, flags: number): FileDescription {
    const dir = this.pts.root;
    let i = 0;
    while (dir.children.has(String(i))) i++;
    if (i >= PTY_MAX) fail(Errno.ENOSPC);
    const node = new PtsNode(this.pts, i, this.k?.sched.running?.creds.euid ?? 0);
    const pair = new PtyPair(this.k, i, node, (p) => {
      node.removed = true;
      if (dir.children.get(String(p.index)) === node) dir.children.delete(String(p.index));
      this.used.delete(p.index);
    });
    node.pair = pair;
    dir.children.set(String(i), node);
    this.used.set(i, pair);
    return new PtyMaster(loc, flags, pair, this, (p, f) => new PtySlave(null, f, p));
  }
}

/** newDevpts builds /dev/pts for k: ptmx, and /dev/pts/N for each terminal as they come and go. */
export function newDevpts(k: Kernel | null): Tmpfs {
  const pts = new Tmpfs(0o755);
  Object.defineProperty(pts, 'name', { value: 'devpts' });
  pts.zeroDirSize = true;
  const used = new Map<number, PtyPair>();
  if (k) pairsOf.set(k, used);
  const ptmx = new PtmxNode(pts, k, used);
  pts.root.children.set('ptmx', ptmx);
  // A 5:2 node elsewhere (mknod, linux.devices) opens this instance's ptmx, as Linux's /dev/ptmx.
  if (k) registerDevice(mkdev(5, 2), (_node, loc, flags) => ptmx.open(loc, flags));
  if (k) {
    const watcher = {
      added(t: Terminal) {
        const node = new HostPtsNode(pts, t);
        pts.root.children.set(String(t.index), node);
        t.node ??= node;
      },
      removed(t: Terminal) {
        const node = pts.root.children.get(String(t.index));
        if (!(node instanceof HostPtsNode) || node.terminal !== t) return;
        node.removed = true;
        pts.root.children.delete(String(t.index));
      },
    };
    for (const t of k.terminals) watcher.added(t);
    k.terminalWatchers.push(watcher);
  }
  return pts;
}
