/**
 * devpts: the container's /dev/pts (Linux's `newinstance`, as runc mounts it with
 * gid=5,mode=620,ptmxmode=666), and the instances an application mounts itself
 * (`mount -t devpts`, bubblewrap's --dev, in a user namespace of its own too). The
 * sandbox's instance lists two kinds of terminal under one numbering: the kernel's
 * terminals backed by host ptys (init's process.terminal, exec's --tty: host/tty.ts) and
 * the pairs made inside the sandbox by opening /dev/pts/ptmx (pty.ts), whose /dev/pts/N
 * comes with the pair and goes once both of its sides are closed. A mounted instance has
 * only pairs of its own, numbered from 0 again, as each devpts instance on Linux.
 *
 * A slave node belongs to the uid= and gid= of its instance's options, else to the opener
 * (its effective ids), with the instance's mode= (600 unless given); ptmx has ptmxmode=
 * (000 unless given), and it and the instance's root belong to root of the mounter's user
 * namespace, as Linux's devpts makes them. A 5:2 device node (/dev/ptmx made by mknod or linux.devices) opens
 * the sandbox's instance: Linux's would look for a devpts at `pts` beside the node first.
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

/** DevptsOptions are an instance's options: the owner of its slaves (the opener's ids where
 * unset), their mode, and ptmx's mode. */
export interface DevptsOptions {
  uid?: number;
  gid?: number;
  mode: number;
  ptmxmode: number;
  /** max bounds the instance's pairs (ENOSPC beyond it), under the sandbox's PTY_MAX. */
  max?: number;
}

/** SANDBOX_PTS are the sandbox's /dev/pts's options, runc's gid=5,mode=620,ptmxmode=666. */
const SANDBOX_PTS: DevptsOptions = { gid: TTY_GID, mode: 0o620, ptmxmode: 0o666 };

/** pairsOf maps each kernel to the pairs of its sandbox's /dev/pts by number. */
const pairsOf = new WeakMap<Kernel, Map<number, PtyPair>>();
/** liveOf maps each kernel to its live pairs of every instance (controlling terminals). */
const liveOf = new WeakMap<Kernel, Set<PtyPair>>();

/** ptsIndexTaken tells whether /dev/pts/<i> of k's sandbox is held by a sandbox-internal pair. */
export function ptsIndexTaken(k: Kernel, i: number): boolean {
  return pairsOf.get(k)?.has(i) ?? false;
}

/** ptyOfSession is the pair that session sid controls, if any. */
function ptyOfSession(k: Kernel, sid: number): PtyPair | undefined {
  for (const p of liveOf.get(k) ?? []) if (p.sid === sid && p.masterOpen) return p;
  return undefined;
}

// A session leader's exit disassociates the pair its session controls (process-group.ts).
onSessionLeaderExit((k, sid) => {
  for (const p of liveOf.get(k) ?? []) p.disassociate(sid, true);
});

/** controllingPtyOf is the pair session sid controls, as /proc/<pid>/stat names it: its
 * index (the N of /dev/pts/N, device 136:N) and foreground process group (0: none). */
export function controllingPtyOf(k: Kernel, sid: number): { index: number; foreground: number } | undefined {
  const p = ptyOfSession(k, sid);
  return p ? { index: p.index, foreground: p.fg } : undefined;
}

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

  constructor(fs: Tmpfs, index: number, uid: number, gid: number, mode: number) {
    super(fs, fs.allocIno(), S_IFCHR | mode, uid, gid);
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
  constructor(
    private readonly pts: Tmpfs,
    private readonly k: Kernel | null,
    private readonly used: Map<number, PtyPair>,
    private readonly opts: DevptsOptions,
    owner: { uid: number; gid: number },
  ) {
    super(pts, pts.allocIno(), S_IFCHR | opts.ptmxmode, owner.uid, owner.gid);
    this.rdev = mkdev(5, 2);
  }

  override open(loc: Location, flags: number): FileDescription {
    const dir = this.pts.root;
    let i = 0;
    while (dir.children.has(String(i))) i++;
    // The instance's max=, and PTY_MAX pairs in the whole sandbox, whatever instances an
    // application mounts (Linux's kernel.pty.max counts every instance's).
    const live = this.k ? liveOf.get(this.k) ?? liveOf.set(this.k, new Set()).get(this.k)! : null;
    if (i >= PTY_MAX || i >= (this.opts.max ?? PTY_MAX) || (live?.size ?? 0) >= PTY_MAX) fail(Errno.ENOSPC);
    const creds = this.k?.sched.running?.creds;
    const node = new PtsNode(this.pts, i, this.opts.uid ?? creds?.euid ?? 0, this.opts.gid ?? creds?.egid ?? 0, this.opts.mode);
    const pair = new PtyPair(this.k, i, node, (p) => {
      node.removed = true;
      if (dir.children.get(String(p.index)) === node) dir.children.delete(String(p.index));
      this.used.delete(p.index);
      live?.delete(p);
    });
    node.pair = pair;
    dir.children.set(String(i), node);
    this.used.set(i, pair);
    live?.add(pair);
    return new PtyMaster(loc, flags, pair, this, (p, f) => new PtySlave(null, f, p));
  }
}

/** devptsInstance makes an empty devpts under `opts`: its root and its ptmx, both owned by `owner`. */
function devptsInstance(k: Kernel | null, opts: DevptsOptions, owner: { uid: number; gid: number }): { pts: Tmpfs; ptmx: PtmxNode; used: Map<number, PtyPair> } {
  const pts = new Tmpfs(0o755, owner.uid, owner.gid);
  Object.defineProperty(pts, 'name', { value: 'devpts' });
  pts.zeroDirSize = true;
  const used = new Map<number, PtyPair>();
  const ptmx = new PtmxNode(pts, k, used, opts, owner);
  pts.root.children.set('ptmx', ptmx);
  return { pts, ptmx, used };
}

/** newDevptsMount makes the devpts instance a task mounts (mount -t devpts): pairs of its
 * own only, numbered from 0; its root and ptmx owned by `owner` (root of the mounter's
 * user namespace). */
export function newDevptsMount(k: Kernel, opts: DevptsOptions, owner: { uid: number; gid: number }): Tmpfs {
  return devptsInstance(k, opts, owner).pts;
}

/** newDevpts builds /dev/pts for k: ptmx, and /dev/pts/N for each terminal as they come and go. */
export function newDevpts(k: Kernel | null): Tmpfs {
  const { pts, ptmx, used } = devptsInstance(k, SANDBOX_PTS, { uid: 0, gid: 0 });
  if (k) pairsOf.set(k, used);
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
