/**
 * Namespaces a task can be moved to (unshare(2)) or born in (clone(2)'s CLONE_NEW*), and
 * the other parts of a task unshare makes its own. The sandbox starts with one namespace
 * of each kind; the kinds the sentry can give a task a new one of are:
 *   - UTS (CLONE_NEWUTS): the host and domain names uname(2) and sethostname(2) read and
 *     write. The sandbox's is the kernel's own pair (Kernel.hostname/domainname, which
 *     boot and /proc/sys/kernel set); a new one is a copy, Task.utsns, inherited by clone.
 *   - IPC (CLONE_NEWIPC): a new, empty IpcNamespace (ipc/namespace.ts) in Task.ipcns.
 *   - mount (CLONE_NEWNS): a copy of the task's mount tree in Task.mntns
 *     (mount-namespaces.ts); clone refuses it with CLONE_FS (EINVAL), unshare implies CLONE_FS.
 *   - PID (CLONE_NEWPID): a PidNamespace (pid-namespace.ts) below the task's own; clone
 *     puts the child in it, unshare and setns only the task's future children.
 *   - user (CLONE_NEWUSER): a UserNamespace (user-namespace.ts) below the task's own, with
 *     the task's creator as owner; the task gets every capability in it (none outside) and
 *     is made first, so that the other namespaces of the same call belong to it (and
 *     CAP_SYS_ADMIN is checked in it). Each other namespace made records its owner.
 *   - cgroup (CLONE_NEWCGROUP): a CgroupNamespace in Task.cgroupns, rooted at the task's
 *     cgroup, which is the sandbox's for every task: its /proc/<pid>/cgroup paths read "/".
 * A new network or time namespace is EINVAL (the sentry has one of each);
 * without CAP_SYS_ADMIN (in the task's user namespace) any namespace but a user one is
 * EPERM first, as Linux checks the capability before it builds anything.
 *
 * unshare's other flags make shared state private: CLONE_FILES the descriptor table,
 * CLONE_FS the root/cwd/umask, CLONE_SYSVSEM the semaphore undo list (applied and
 * dropped, as Linux's exit_sem, which CLONE_NEWIPC also does); CLONE_THREAD, CLONE_SIGHAND
 * and CLONE_VM are accepted when there is nothing shared to leave (EINVAL otherwise).
 *
 * Each namespace has an nsfs inode number (what /proc/<pid>/ns/<kind> shows): the
 * sandbox's are Linux's initial namespaces' numbers, a new one gets the next free number.
 */
import { ALL_CAPS, CAP_SYS_ADMIN } from './capabilities';
import type { Credentials } from './credentials';
import { newUserNamespace, ownerOf, setOwner, UserNamespace } from './user-namespace';
import { Errno, fail } from './errors';
import { IpcNamespace, ipcNamespaceOf, sandboxIpcNamespace, setIpcNamespace } from './ipc/namespace';
import { exitSemUndo } from './ipc/sem';
import { MountNamespace } from '../vfs/mount';
import { setNamespaceHold } from './ns-holds';
import { copyMountNamespace, enterCopy, joinMountNamespace, lockCopiedMounts, mountNamespaceOf, sweepMountNamespaces } from './mount-namespaces';
import type { Task } from './task';
import { childPidNamespaceOf, newPidNamespace, PidNamespace, pidNamespaceOf, rootPidNamespace, setChildPidNamespace } from './pid-namespace';
import {
  CLONE_FILES, CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER,
  CLONE_NEWUTS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM,
} from './clone-flags';

/** CLONE_NEWTIME is unshare's flag for a new time namespace (clone3 only for clone). */
export const CLONE_NEWTIME = 0x80;

/** UtsNamespace is one UTS namespace: the names uname(2) reports. The Kernel is the sandbox's. */
export interface UtsNamespace {
  hostname: string;
  domainname: string;
}

/** CgroupNamespace is a cgroup namespace made in the sandbox; its root is the sandbox's cgroup. */
export class CgroupNamespace {
  readonly kind = 'cgroup';
}

/** utsNamespaceOf returns t's UTS namespace (the kernel's unless t was given another). */
export function utsNamespaceOf(t: Task): UtsNamespace {
  return t.utsns ?? t.kernel;
}

/** INITIAL_NS_INODES are the nsfs inode numbers of Linux's initial namespaces. */
export const INITIAL_NS_INODES: Readonly<Record<string, number>> = {
  cgroup: 4026531835, ipc: 4026531839, mnt: 4026531841, net: 4026531840, pid: 4026531836, time: 4026531834,
  user: 4026531837, uts: 4026531838,
};

/** nsInodes numbers the namespaces made in the sandbox; nextNsInode is the next free number;
 * namespacesByInode finds one again by its number (setns), while something still uses it. */
const nsInodes = new WeakMap<object, number>();
const namespacesByInode = new Map<number, WeakRef<object>>();
let nextNsInode = 4026532200;

/**
 * nsInodeOf returns the nsfs inode number of t's namespace of kind `type` (the names of
 * /proc/<pid>/ns's links: ipc, uts, mnt, ...): the initial number for the sandbox's own.
 */
export function nsInodeOf(t: Task, type: string): number {
  const k = t.kernel;
  let ns: object | null = null;
  if (type === 'uts' && utsNamespaceOf(t) !== k) ns = utsNamespaceOf(t);
  if (type === 'ipc' && ipcNamespaceOf(t) !== sandboxIpcNamespace(k)) ns = ipcNamespaceOf(t);
  if (type === 'mnt' && mountNamespaceOf(t) !== k.mounts) ns = mountNamespaceOf(t);
  if (type === 'pid' && !pidNamespaceOf(t).isRoot) ns = pidNamespaceOf(t);
  if (type === 'user') ns = t.creds.userns;
  if (type === 'cgroup') ns = t.cgroupns;
  if (type === 'pid_for_children') {
    // A namespace from unshare has no file until its init exists (Linux's pidns_for_children_get).
    const c = childPidNamespaceOf(t);
    if (!c.isRoot && c.init === null) fail(Errno.ENOENT);
    if (!c.isRoot) ns = c;
    type = 'pid';
  }
  if (!ns) return INITIAL_NS_INODES[type];
  let ino = nsInodes.get(ns);
  if (ino === undefined) {
    nsInodes.set(ns, (ino = nextNsInode++));
    for (const [n, ref] of namespacesByInode) if (!ref.deref()) namespacesByInode.delete(n);
    namespacesByInode.set(ino, new WeakRef(ns));
  }
  return ino;
}

/** nsInodeGiven returns the nsfs inode number nsInodeOf gave namespace `ns`, if it gave one. */
export function nsInodeGiven(ns: object): number | undefined {
  return nsInodes.get(ns);
}

/**
 * holdNamespace is what an open nsfs file (/proc/<pid>/ns/*) does to the namespace its
 * inode number names: it keeps a counted namespace (an IPC one) alive until the returned
 * release runs, when the file's last reference goes. Other kinds need no hold.
 */
function holdNamespace(ino: number): () => void {
  const ns = namespacesByInode.get(ino)?.deref();
  if (!(ns instanceof IpcNamespace) || ns.destroyed) return () => {};
  ns.hold();
  let held = true;
  return () => {
    if (held) ns.release();
    held = false;
  };
}

setNamespaceHold(holdNamespace);

/** NSTYPES are the CLONE_NEW* flag of each kind of namespace (setns's nstype). */
const NSTYPES: Readonly<Record<string, number>> = {
  cgroup: CLONE_NEWCGROUP, ipc: CLONE_NEWIPC, mnt: CLONE_NEWNS, net: CLONE_NEWNET, pid: CLONE_NEWPID, time: CLONE_NEWTIME,
  user: CLONE_NEWUSER, uts: CLONE_NEWUTS,
};

/**
 * setns implements setns(2) for t with the namespace whose nsfs inode number is `ino`
 * (from an open /proc/<pid>/ns file; null for another file: EINVAL): nstype 0 or that
 * kind's CLONE_NEW* flag (EINVAL otherwise), CAP_SYS_ADMIN (EPERM). A UTS or IPC
 * namespace becomes t's (joining an IPC one drops the undo list, as Linux's); a mount
 * namespace too, with its root as t's root and cwd (mount-namespaces.ts); the
 * sandbox's own PID, network, cgroup and time namespaces are t's already (joining
 * is nothing to do), its user namespace EINVAL as Linux refuses the caller's own. A pidfd
 * is EINVAL (not offered).
 */
export function setns(t: Task, ino: number | null, nstype: number): number {
  if (ino === null) fail(Errno.EINVAL);
  const k = t.kernel;
  let kind = Object.keys(INITIAL_NS_INODES).find((n) => INITIAL_NS_INODES[n] === ino);
  let ns: object | undefined = kind === 'uts' ? k : kind === 'ipc' ? sandboxIpcNamespace(k) : kind === 'mnt' ? k.mounts : kind === 'pid' ? rootPidNamespace(k) : undefined;
  if (!kind) {
    ns = namespacesByInode.get(ino)?.deref();
    kind = ns === undefined ? undefined : ns instanceof IpcNamespace ? 'ipc' : ns instanceof MountNamespace ? 'mnt' : ns instanceof PidNamespace ? 'pid'
      : ns instanceof UserNamespace ? 'user' : ns instanceof CgroupNamespace ? 'cgroup' : 'uts';
  }
  if (!kind) fail(Errno.EINVAL);
  if (nstype !== 0 && nstype !== NSTYPES[kind]) fail(Errno.EINVAL);
  if (kind === 'user') return joinUserNamespace(t, (ns as UserNamespace | undefined) ?? null);
  // CAP_SYS_ADMIN over the namespace (its owner's user namespace) and in the task's own.
  if (!t.creds.capableIn(CAP_SYS_ADMIN, ns ? ownerOf(ns) : null) || !t.creds.capableIn(CAP_SYS_ADMIN)) fail(Errno.EPERM);
  if (kind === 'uts') t.utsns = ns === k ? null : (ns as UtsNamespace);
  if (kind === 'ipc') {
    exitSemUndo(t.tg);
    setIpcNamespace(t, ns as IpcNamespace);
  }
  // A PID namespace becomes the one of t's future children: its own or one below it (EINVAL otherwise, as pidns_install).
  if (kind === 'pid') {
    if (!pidNamespaceOf(t).contains(ns as PidNamespace)) fail(Errno.EINVAL);
    setChildPidNamespace(t, ns as PidNamespace);
  }
  if (kind === 'mnt') joinMountNamespace(t, ns as MountNamespace);
  if (kind === 'cgroup') t.cgroupns = ns instanceof CgroupNamespace ? ns : null;
  return 0;
}

/** NEW_NAMESPACES are every CLONE_NEW* flag; SUPPORTED those the sentry can make. */
const NEW_NAMESPACES = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME;
const SUPPORTED = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWCGROUP;

/** TaskNamespaces are the namespaces a task is in that the sentry keeps per task. */
export interface TaskNamespaces {
  utsns: UtsNamespace | null;
  ipcns: IpcNamespace | null;
  /** mntns is the mount namespace (a copy made for CLONE_NEWNS; enterCopy puts the task in it). */
  mntns: MountNamespace;
  /** pidns is where a child goes (clone) or the task's children will go (unshare). */
  pidns: PidNamespace;
  cgroupns: CgroupNamespace | null;
  /** creds, with CLONE_NEWUSER, are the task's credentials in its new user namespace. */
  creds?: Credentials;
}

/** enterUserNamespace gives credentials c (a copy) to a task entering user namespace ns,
 * as Linux's set_cred_user_ns: every capability there, none inheritable or ambient. */
function enterUserNamespace(c: Credentials, ns: UserNamespace): Credentials {
  const n = c.clone();
  n.userns = ns;
  n.caps = { effective: ALL_CAPS, permitted: ALL_CAPS, bounding: ALL_CAPS, inheritable: 0n, ambient: 0n, securebits: 0 };
  return n;
}

/**
 * joinUserNamespace is setns(2) into user namespace ns (null: the sandbox's) for t, as
 * Linux's userns_install: not its own (EINVAL), a single-threaded task that shares its
 * file system context with nobody (EINVAL), CAP_SYS_ADMIN in ns (EPERM; so never an
 * ancestor), then every capability there.
 */
function joinUserNamespace(t: Task, ns: UserNamespace | null): number {
  if (ns === t.creds.userns) fail(Errno.EINVAL);
  if ([...t.tg.tasks].some((o) => o !== t && o.state !== 'exited') || sharesWithOther(t, (o) => o.fs === t.fs)) fail(Errno.EINVAL);
  if (!t.creds.capableIn(CAP_SYS_ADMIN, ns)) fail(Errno.EPERM);
  t.creds = ns === null ? t.creds : enterUserNamespace(t.creds, ns);
  return 0;
}

/**
 * newNamespaces checks the CLONE_NEW* flags of clone or unshare for t (EPERM without
 * CAP_SYS_ADMIN, EINVAL for a kind the sentry cannot make) and returns the namespaces a
 * task with those flags is in: new ones for the flags given, t's own for the others.
 */
export function newNamespaces(t: Task, flags: number): TaskNamespaces {
  const out: TaskNamespaces = { utsns: t.utsns, ipcns: t.ipcns, mntns: mountNamespaceOf(t), pidns: childPidNamespaceOf(t), cgroupns: t.cgroupns };
  const wanted = flags & NEW_NAMESPACES;
  if (wanted === 0) return out;
  let creds = t.creds;
  if (flags & CLONE_NEWUSER) {
    // A chrooted task cannot make one (it could escape its root by mounting): EPERM.
    const root = mountNamespaceOf(t).root;
    const chrooted = t.fs.root.dentry !== root.dentry || t.fs.root.mount !== root.mount;
    creds = out.creds = enterUserNamespace(t.creds, newUserNamespace(t.creds, chrooted));
  }
  if ((wanted & ~CLONE_NEWUSER) !== 0 && !creds.capableIn(CAP_SYS_ADMIN)) fail(Errno.EPERM);
  if ((wanted & ~SUPPORTED) !== 0) fail(Errno.EINVAL);
  if (flags & CLONE_NEWUTS) {
    const u = utsNamespaceOf(t);
    out.utsns = { hostname: u.hostname, domainname: u.domainname };
  }
  if (flags & CLONE_NEWIPC) out.ipcns = new IpcNamespace();
  if (flags & CLONE_NEWNS) {
    out.mntns = copyMountNamespace(t);
    // A copy for a less privileged user namespace keeps its mounts as they are (locked).
    if (creds.userns !== ownerOf(mountNamespaceOf(t))) lockCopiedMounts(out.mntns);
  }
  if (flags & CLONE_NEWPID) out.pidns = newPidNamespace(t);
  if (flags & CLONE_NEWCGROUP) out.cgroupns = new CgroupNamespace();
  for (const [flag, ns] of [[CLONE_NEWUTS, out.utsns], [CLONE_NEWIPC, out.ipcns], [CLONE_NEWNS, out.mntns], [CLONE_NEWPID, out.pidns], [CLONE_NEWCGROUP, out.cgroupns]] as const) {
    if (flags & flag && ns) setOwner(ns, creds.userns);
  }
  return out;
}

/** sharesWithOther tells whether another live task shares something with t (`same`). */
function sharesWithOther(t: Task, same: (o: Task) => boolean): boolean {
  for (const o of t.kernel.tasks.values()) if (o !== t && o.state !== 'exited' && same(o)) return true;
  return false;
}

/** unshareFiles gives t a private copy of its descriptor table when another task shares
 * it (CLONE_FILES): unshare(CLONE_FILES), close_range's CLOSE_RANGE_UNSHARE. */
export function unshareFiles(t: Task): void {
  if (sharesWithOther(t, (o) => o.fds === t.fds)) t.fds = t.fds.fork();
}

/** UNSHARE_FLAGS are the flags unshare(2) accepts. */
const UNSHARE_FLAGS = CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_SYSVSEM | NEW_NAMESPACES;

/** unshare implements unshare(2) for t (see the header). */
export function unshare(t: Task, flags: number): number {
  if (flags & ~UNSHARE_FLAGS) fail(Errno.EINVAL);
  // The flags Linux's unshare implies.
  if (flags & CLONE_NEWUSER) flags |= CLONE_THREAD | CLONE_FS;
  if (flags & CLONE_VM) flags |= CLONE_SIGHAND;
  if (flags & CLONE_SIGHAND) flags |= CLONE_THREAD;
  if (flags & CLONE_NEWNS) flags |= CLONE_FS;
  // Linux's check_unshare_flags: nothing shared may be left behind for these three.
  const otherThreads = [...t.tg.tasks].some((o) => o !== t && o.state !== 'exited');
  if (flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) && otherThreads) fail(Errno.EINVAL);
  if (flags & (CLONE_SIGHAND | CLONE_VM) && sharesWithOther(t, (o) => o.tg !== t.tg && o.tg.actions === t.tg.actions)) fail(Errno.EINVAL);
  if (flags & CLONE_VM && sharesWithOther(t, (o) => o.mm === t.mm)) fail(Errno.EINVAL);
  const ns = newNamespaces(t, flags);
  if (flags & CLONE_FS && sharesWithOther(t, (o) => o.fs === t.fs)) t.fs = { ...t.fs };
  if (flags & CLONE_FILES) unshareFiles(t);
  if (flags & (CLONE_SYSVSEM | CLONE_NEWIPC)) exitSemUndo(t.tg);
  t.utsns = ns.utsns;
  t.cgroupns = ns.cgroupns;
  setIpcNamespace(t, ns.ipcns);
  if (flags & CLONE_NEWPID) setChildPidNamespace(t, ns.pidns);
  if (flags & CLONE_NEWNS) {
    enterCopy(t, ns.mntns);
    sweepMountNamespaces(t.kernel);
  }
  if (ns.creds) t.creds = ns.creds;
  return 0;
}
