/**
 * Mount namespaces of tasks (CLONE_NEWNS). The sandbox starts with one, the kernel's
 * (Kernel.mounts); unshare(CLONE_NEWNS) and clone(CLONE_NEWNS) give a task a copy of its
 * namespace (MountNamespace.copy: new mounts on the same super blocks) with its root and
 * cwd moved to the copies, and setns(2) moves a task into the namespace of an open
 * /proc/<pid>/ns/mnt file, at that namespace's root. Task.mntns is null for the kernel's.
 *
 * Lifetime: a namespace other than the kernel's lives while a task is in it or a
 * descriptor holds its nsfs file open; once neither does, it dies (sweepMountNamespaces,
 * run whenever a task leaves one: exit, unshare, setns): its mounts are detached and
 * each tmpfs that no mount shows and nothing uses any more gives back its memory. A
 * descriptor closed later is noticed at the next sweep.
 */
import { releaseTmpfs } from '../fsimpl/mountable';
import { nsFileInode } from '../fsimpl/proc/nodes';
import type { FileSystem } from '../vfs/inode';
import { liveNamespaces, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_RELATIME, MS_STRICTATIME, type Location, type Mount, type MountNamespace } from '../vfs/mount';
import { stepDown } from '../vfs/path';
import { CAP_SYS_ADMIN, CAP_SYS_CHROOT } from './capabilities';
import { Errno, fail } from './errors';
import type { Kernel } from './kernel';
import { nsInodeGiven } from './namespaces';
import type { Task } from './task';
import { ownerOf } from './user-namespace';

/** mountNamespaceOf returns t's mount namespace (the kernel's unless t was given another). */
export function mountNamespaceOf(t: Task): MountNamespace {
  return t.mntns ?? t.kernel.mounts;
}

/** initMountNamespace returns the mount namespace of the sandbox's init (what a process
 * started by `exec` joins, as runc's setns into init's namespaces), the kernel's before
 * init runs or once no task of it is left. */
export function initMountNamespace(k: Kernel): MountNamespace {
  const live = [...(k.init?.tasks ?? [])].find((t) => t.state !== 'exited');
  return live ? mountNamespaceOf(live) : k.mounts;
}

/** mountTable renders a task's mount table with `text` (mountinfo.ts: /proc/<pid>/mountinfo,
 * /proc/<pid>/mounts): its namespace's, as seen from its root (the kernel's from its
 * root for no task). */
export function mountTable(k: Kernel, t: Task | null | undefined, text: (ns: MountNamespace, root: Location) => string): string {
  return t ? text(mountNamespaceOf(t), t.root) : text(k.mounts, k.mounts.root);
}

/** copyMountNamespace makes the namespace a task with CLONE_NEWNS starts in: a copy of
 * t's (after a sweep, so that namespaces whose last ns file was closed since do not count
 * against MOUNT_MAX). */
export function copyMountNamespace(t: Task): MountNamespace {
  sweepMountNamespaces(t.kernel);
  return mountNamespaceOf(t).copy();
}

/** LOCKABLE are the per-mount flags a copy into a less privileged namespace locks. */
const LOCKABLE = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

/** locked holds the mounts copied into a mount namespace that a less privileged user
 * namespace owns, with the flags they had then (Linux's MNT_LOCKED and MNT_LOCK_*). */
const locked = new WeakMap<Mount, number>();

/** lockCopiedMounts locks every mount of `ns` but its root (lock_mnt_tree): called when a
 * copy's owner is another user namespace than the one it was copied from. Such a mount
 * cannot be unmounted alone (revealing what it covers) nor lose those flags by remount. */
export function lockCopiedMounts(ns: MountNamespace): void {
  for (const m of ns.mounts) if (m !== ns.root.mount) locked.set(m, m.flags & LOCKABLE);
}

/** lockLike locks `copy`, a bind copy of `from` below an rbind's top, as `from` is locked:
 * copying a locked tree keeps its mounts locked (only the top copy is the caller's own). */
export function lockLike(copy: Mount, from: Mount): void {
  const flags = locked.get(from);
  if (flags !== undefined) locked.set(copy, flags);
}

/** lockedFlags returns the flags mount m keeps (undefined: not a locked mount). */
export function lockedFlags(m: Mount): number | undefined {
  return locked.get(m);
}

/** enterCopy puts t (whose file system context is its own: CLONE_NEWNS implies
 * CLONE_FS) in `ns`, a copy of its namespace, with its root and cwd moved to the copies
 * of theirs (Linux's copy_mnt_ns). The namespace it leaves may die: unshare sweeps. */
export function enterCopy(t: Task, ns: MountNamespace): void {
  if (ns === mountNamespaceOf(t)) return;
  t.mntns = ns === t.kernel.mounts ? null : ns;
  t.fs.root = ns.translate(t.fs.root);
  t.fs.cwd = ns.translate(t.fs.cwd);
}

/**
 * joinMountNamespace is setns(2) into mount namespace `ns` (Linux's mntns_install):
 * CAP_SYS_ADMIN and CAP_SYS_CHROOT (EPERM), a file system context no other task shares
 * (EINVAL); t's root and cwd become the namespace's root, with what is mounted on it.
 */
export function joinMountNamespace(t: Task, ns: MountNamespace): void {
  // CAP_SYS_ADMIN over the namespace (its owner) and, with CAP_SYS_CHROOT, in the task's own.
  const c = t.creds;
  if (!c.capableIn(CAP_SYS_ADMIN, ownerOf(ns)) || !c.capableIn(CAP_SYS_ADMIN) || !c.capableIn(CAP_SYS_CHROOT)) fail(Errno.EPERM);
  for (const o of t.kernel.tasks.values()) if (o !== t && o.state !== 'exited' && o.fs === t.fs) fail(Errno.EINVAL);
  if (ns.released) fail(Errno.EINVAL);
  t.mntns = ns === t.kernel.mounts ? null : ns;
  const root = stepDown(ns.root);
  t.fs.root = root;
  t.fs.cwd = root;
  sweepMountNamespaces(t.kernel);
}

/** inUse tells whether a file open in the sandbox, or a task's cwd or root, is in a
 * mount that `where` accepts (Linux counts references; mapped files are not counted here). */
export function inUse(k: Kernel, where: (m: Mount) => boolean): boolean {
  const tables = new Set<Task['fds']>();
  for (const task of k.tasks.values()) {
    if (where(task.fs.cwd.mount) || where(task.fs.root.mount)) return true;
    tables.add(task.fds);
  }
  for (const fds of tables) for (const [, f] of fds.entries()) if (f.loc && where(f.loc.mount)) return true;
  return false;
}

/** releaseUnmounted gives back the tmpfs instances among `fss` that no live namespace
 * mounts and nothing uses any more (one still in use keeps its files: they stay
 * reachable through what is open). */
export function releaseUnmounted(k: Kernel, fss: Iterable<FileSystem>): void {
  for (const fs of new Set(fss)) {
    let mounted = false;
    for (const ns of liveNamespaces()) if (ns.mounts.some((m) => m.fs === fs)) mounted = true;
    if (mounted || inUse(k, (m) => m.fs === fs)) continue;
    releaseTmpfs(fs);
  }
}

/** sweepMountNamespaces releases every namespace but the kernel's that no task is in and
 * no open ns file names (see the header). */
export function sweepMountNamespaces(k: Kernel): void {
  const used = new Set<MountNamespace>([k.mounts]);
  const held = new Set<number>();
  const tables = new Set<Task['fds']>();
  for (const t of k.tasks.values()) {
    if (t.state === 'exited') continue;
    used.add(mountNamespaceOf(t));
    tables.add(t.fds);
  }
  for (const fds of tables) {
    for (const [, f] of fds.entries()) {
      const ino = nsFileInode(f);
      if (ino !== null) held.add(ino);
    }
  }
  for (const ns of [...liveNamespaces()]) {
    if (used.has(ns)) continue;
    const ino = nsInodeGiven(ns); // an open ns file can only name a namespace given one
    if (ino !== undefined && held.has(ino)) continue;
    releaseUnmounted(k, ns.release().map((m) => m.fs));
  }
}
