/**
 * mount(2), umount2(2) and pivot_root(2) on the sandbox's own mount table (vfs/mount.ts):
 * new tmpfs, proc, devpts and sysfs instances, bind and rbind mounts of what the sandbox sees,
 * remounts, propagation types and MS_MOVE, in the caller's mount namespace (a target or
 * bind source in another namespace, reached through an open descriptor, is EINVAL as
 * Linux's check_mnt). Nothing here reaches a host mount: a host file system type is
 * unknown (ENODEV), a source is only ever a path inside the sandbox.
 */
import { CAP_SYS_ADMIN } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { newMountable, releaseTmpfs, remountTmpfs } from '../../../fsimpl/mountable';
import { inUse, lockedFlags, lockLike, mountNamespaceOf, releaseUnmounted } from '../../../kernel/mount-namespaces';
import { pidNamespaceOf } from '../../../kernel/pid-namespace';
import { givenId, ownerOf, setOwner } from '../../../kernel/user-namespace';
import {
  allocPeerGroup, relocate as relocateDentry, Superblock, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_RELATIME, MS_STRICTATIME,
  liveNamespaces, type Location, type Mount, type MountNamespace,
} from '../../../vfs/mount';
import {
  mountFlags, MS_BIND, MS_MOVE, MS_REC, MS_REMOUNT, MS_SHARED, MS_SILENT, MS_SLAVE, MS_UNBINDABLE, PROPAGATION_FLAGS,
} from '../../../vfs/mount-options';
import { resolve, stepDown } from '../../../vfs/path';
import { define } from '../registry';
import { AT_FDCWD, dirLocation, pathArg, u32 } from './util';

/** MS_MGC_VAL is the magic old callers put in the top 16 bits of the flags (ignored). */
const MS_MGC_MSK = 0xffff0000, MS_MGC_VAL = 0xc0ed0000;
const MNT_FORCE = 1, MNT_DETACH = 2, MNT_EXPIRE = 4, UMOUNT_NOFOLLOW = 8;
/** ATIME_FLAGS: a remount naming none of them keeps the mount's atime rule (Linux). */
const ATIME_FLAGS = MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

function lookup(t: Task, path: string, follow: boolean): Location {
  return resolve(t, dirLocation(t, AT_FDCWD, path), path, { follow });
}

function optionalString(t: Task, addr: bigint, max: number): string | null {
  return addr === 0n ? null : t.mm.readString(addr, max);
}

/** ownMount returns the caller's namespace when `loc` is in it (EINVAL otherwise: a
 * place in another namespace, reached through a descriptor opened there). */
function ownMount(t: Task, loc: Location): MountNamespace {
  const ns = mountNamespaceOf(t);
  if (loc.mount.ns !== ns) fail(Errno.EINVAL);
  return ns;
}

function isMountRoot(loc: Location): boolean {
  return loc.dentry === loc.mount.root;
}

/** sameKind: a directory mounts only on a directory, anything else only on a non-directory. */
function checkKinds(at: Location, rootIsDir: boolean): void {
  if (at.dentry.inode.isDir !== rootIsDir) fail(Errno.ENOTDIR);
}

/**
 * mayMount is Linux's may_mount: CAP_SYS_ADMIN over the task's mount namespace, that is in
 * the user namespace that owns it (EPERM). In a namespace a user namespace of the
 * sandbox's owns, its mounts copied from outside are locked (mount-namespaces.ts).
 */
function mayMount(t: Task): void {
  if (!t.creds.capableIn(CAP_SYS_ADMIN, ownerOf(mountNamespaceOf(t)))) fail(Errno.EPERM);
}

/**
 * mayMountType checks that t may make a new file system of `type` (mount_capable): over
 * the sandbox's own namespace any type it offers; in a user namespace of the task's own
 * only those Linux allows there (FS_USERNS_MOUNT): tmpfs, devpts, and proc when t's PID
 * namespace belongs to that user namespace too. sysfs follows the network namespace, the
 * sandbox's (EPERM).
 */
function mayMountType(t: Task, type: string): void {
  if (t.creds.userns === null) return;
  if (type === 'tmpfs' || type === 'devpts') return;
  if (type === 'proc' && t.creds.capableIn(CAP_SYS_ADMIN, ownerOf(pidNamespaceOf(t)))) return;
  fail(Errno.EPERM);
}

/** kernelIds gives the uid= and gid= of a tmpfs's or devpts's options as the caller's user
 * namespace maps them (EINVAL unmapped). */
function kernelIds(t: Task, data: string[]): string[] {
  return data.map((w) => {
    const m = /^(uid|gid)=(\d+)$/.exec(w);
    return m && t.creds.userns ? `${m[1]}=${givenId(t.kernel, t.creds.userns, m[1] as 'uid' | 'gid', Number(m[2]))}` : w;
  });
}

/**
 * tmpfsOwner gives a new tmpfs's root the owner Linux's shmem gives it: the ids of uid=
 * and gid= (kernelIds), else the caller's own (fsuid and fsgid: the effective ids here).
 */
function tmpfsOwner(t: Task, data: string[]): string[] {
  const out = kernelIds(t, data);
  if (!data.some((w) => w.startsWith('uid=')) && t.creds.euid !== 0) out.push(`uid=${t.creds.euid}`);
  if (!data.some((w) => w.startsWith('gid=')) && t.creds.egid !== 0) out.push(`gid=${t.creds.egid}`);
  return out;
}

function newMount(t: Task, at: Location, type: string | null, source: string | null, flags: number, data: string[]): void {
  if (type === null) fail(Errno.EINVAL);
  ownMount(t, at);
  mayMountType(t, type);
  const { fs, options } = newMountable(t.kernel, type, type === 'tmpfs' ? tmpfsOwner(t, data) : type === 'devpts' ? kernelIds(t, data) : data);
  if (!at.dentry.inode.isDir) {
    releaseTmpfs(fs); // made for nothing: its root goes back to the budget
    fail(Errno.ENOTDIR);
  }
  const sb = new Superblock(fs, (flags & MS_RDONLY) !== 0, options);
  setOwner(sb, t.creds.userns);
  const ns = mountNamespaceOf(t);
  ns.propagate(ns.mount(at, fs, mountFlags(flags), source ?? 'none', undefined, sb));
}

/** hasLockedChildren tells whether a locked mount sits at or below `src` in its mount (a
 * bind without MS_REC would show what that mount covers: has_locked_children). */
function hasLockedChildren(ns: MountNamespace, src: Location): boolean {
  const under = (d: Location['dentry'] | null): boolean => {
    for (; d; d = d.parent) if (d === src.dentry) return true;
    return false;
  };
  return ns.childrenOf(src.mount).some((c) => lockedFlags(c) !== undefined && under(c.mountpoint));
}

function bindMount(t: Task, at: Location, sourcePath: string, rec: boolean): void {
  const ns = ownMount(t, at);
  const src = lookup(t, sourcePath, true);
  ownMount(t, src);
  if (src.mount.propagation.unbindable) fail(Errno.EINVAL);
  if (!rec && hasLockedChildren(ns, src)) fail(Errno.EINVAL);
  checkKinds(at, src.dentry.inode.isDir);
  // What is below the source (rbind) is copied first: binding a tree under itself must
  // not copy the new mount again.
  const below = rec ? ns.mounts.filter((c) => c !== src.mount && ns.subtree(src.mount).includes(c) && !c.propagation.unbindable) : [];
  const top = ns.bind(at, src, src.mount.flags);
  // A bind of a shared mount is its peer, of a slave a slave of the same master (clone_mnt).
  top.propagation.shared = src.mount.propagation.shared;
  top.propagation.master = src.mount.propagation.master;
  if (rec) copyBelow(ns, below, src, top);
  // Under a shared parent the whole tree propagates.
  if (at.mount.propagation.shared) ns.propagate(top);
}

/** copyBelow copies each mount of `below` (under the rbind source src) to the same place
 * under `top`, src's copy, parents before children (mount order). */
function copyBelow(ns: MountNamespace, below: Mount[], src: Location, top: Mount): void {
  // Each mount below the source that lies under it is copied to the same place under
  // the new mount, parents before children (mount order).
  const copies = new Map<Mount, Mount>([[src.mount, top]]);
  for (const c of below) {
    const parentCopy = c.parent ? copies.get(c.parent) : undefined;
    if (!parentCopy || !c.mountpoint) continue;
    const where = relocate({ mount: c.parent!, dentry: c.mountpoint }, src, parentCopy);
    if (!where) continue;
    const copy = ns.bind(where, { mount: c, dentry: c.root }, c.flags);
    copy.rootPath = c.rootPath;
    copy.propagation.shared = c.propagation.shared;
    copy.propagation.master = c.propagation.master;
    lockLike(copy, c);
    copies.set(c, copy);
  }
}

/** relocate finds, under the copy `copy` of a mount, the dentry that `loc` is under its
 * original (null when loc is not below the bound source). */
function relocate(loc: Location, src: Location, copy: Mount): Location | null {
  const stop = loc.mount === src.mount ? src.dentry : loc.mount.root;
  for (let d = loc.dentry; d !== stop; d = d.parent!) if (!d.parent) return null;
  return { mount: copy, dentry: relocateDentry(loc.dentry, stop, copy) };
}

function remount(t: Task, at: Location, flags: number, data: string[]): void {
  ownMount(t, at);
  if (!isMountRoot(at)) fail(Errno.EINVAL);
  const m = at.mount;
  // A file system made outside the task's user namespace is remounted only from there;
  // a locked mount keeps the flags it was copied with (can_change_locked_flags).
  if (!(flags & MS_BIND) && !t.creds.capableIn(CAP_SYS_ADMIN, ownerOf(m.sb))) fail(Errno.EPERM);
  const keep = lockedFlags(m);
  if (keep !== undefined) {
    const want = mountFlags(flags);
    if (keep & ~want & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) fail(Errno.EPERM);
    if (flags & ATIME_FLAGS && (keep & ATIME_FLAGS) !== (want & ATIME_FLAGS)) fail(Errno.EPERM);
  }
  // The file system's own options first (a tmpfs's size= and nr_inodes=): on EINVAL nothing changed.
  if (!(flags & MS_BIND)) m.sb.options = remountTmpfs(m.fs, data, m.sb.options) ?? m.sb.options;
  let f = mountFlags(flags);
  if (!(flags & ATIME_FLAGS)) f = (f & ~(MS_NOATIME | MS_NODIRATIME | MS_RELATIME)) | (m.flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME));
  // MS_REMOUNT alone also sets the file system read-only or read-write; with MS_BIND it
  // changes this mount's flags only.
  if (!(flags & MS_BIND)) m.sb.readonly = (flags & MS_RDONLY) !== 0;
  m.flags = f;
}

function changePropagation(t: Task, at: Location, flags: number): void {
  const type = flags & ~(MS_REC | MS_SILENT);
  if (type & ~PROPAGATION_FLAGS || (type & (type - 1)) !== 0 || type === 0) fail(Errno.EINVAL);
  if (!isMountRoot(at)) fail(Errno.EINVAL);
  const ns = mountNamespaceOf(t);
  const targets = flags & MS_REC ? ns.subtree(at.mount) : [at.mount];
  for (const m of targets) {
    const p = m.propagation;
    if (type === MS_SHARED) {
      if (!p.shared) p.shared = allocPeerGroup();
      p.unbindable = false;
    } else if (type === MS_SLAVE) {
      // A shared mount with peers becomes their slave; without peers it keeps the master
      // it had, or becomes private.
      if (p.shared) {
        const peers = [...liveNamespaces()].some((n) => n.mounts.some((o) => o !== m && o.propagation.shared === p.shared));
        if (peers) p.master = p.shared;
        p.shared = 0;
      }
      p.unbindable = false;
    } else {
      p.shared = 0;
      p.master = 0;
      p.unbindable = type === MS_UNBINDABLE;
    }
  }
}

function moveMount(t: Task, at: Location, sourcePath: string): void {
  const ns = ownMount(t, at);
  const src = stepDown(lookup(t, sourcePath, true));
  ownMount(t, src);
  if (!isMountRoot(src) || !src.mount.parent) fail(Errno.EINVAL);
  // Linux does not move a mount whose parent is shared.
  if (src.mount.parent.propagation.shared) fail(Errno.EINVAL);
  if (ns.subtree(src.mount).includes(at.mount)) fail(Errno.ELOOP);
  checkKinds(at, src.dentry.inode.isDir);
  ns.move(src.mount, at);
  if (at.mount.propagation.shared) ns.propagate(src.mount);
}

// mount(source, target, filesystemtype, mountflags, data)
define(165, (t, r) => {
  let flags = Number(r.arg(3) & 0xffffffffn);
  if ((flags & MS_MGC_MSK) === MS_MGC_VAL) flags &= ~MS_MGC_MSK;
  const target = pathArg(t, r, 1);
  const source = optionalString(t, r.arg(0), 4095);
  const type = optionalString(t, r.arg(2), 4095);
  const dataText = optionalString(t, r.arg(4), 4095);
  const at = lookup(t, target, true);
  mayMount(t);
  const data = dataText ? dataText.split(',').filter((w) => w !== '') : [];
  if (flags & MS_REMOUNT) remount(t, at, flags, data);
  else if (flags & MS_BIND) bindMount(t, at, source ?? fail(Errno.EFAULT), (flags & MS_REC) !== 0);
  else if (flags & PROPAGATION_FLAGS) changePropagation(t, at, flags);
  else if (flags & MS_MOVE) moveMount(t, at, source ?? fail(Errno.EFAULT));
  else newMount(t, at, type, source, flags, data);
  return 0;
}, 'partial', 'tmpfs, proc, devpts and sysfs only (other types ENODEV); remount data is looked at for tmpfs only (size=, nr_inodes=)');

/** busy tells whether a mount is in use: a mount below it, or inUse. */
function busy(t: Task, m: Mount): boolean {
  return !!m.ns?.mounts.some((c) => c.parent === m) || inUse(t.kernel, (x) => x === m);
}

/** unmount detaches mounts (each from its namespace: propagated copies may be in
 * others) and gives back the tmpfs instances no mount shows any more and nothing uses. */
function unmount(t: Task, gone: Mount[]): void {
  const all = gone.flatMap((m) => m.ns?.subtree(m) ?? []);
  for (const m of gone) m.ns?.detach(m);
  releaseUnmounted(t.kernel, all.map((m) => m.fs));
}

// umount2(target, flags)
define(166, (t, r) => {
  const flags = u32(r, 1);
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) fail(Errno.EINVAL);
  if (flags & MNT_EXPIRE && flags & (MNT_FORCE | MNT_DETACH)) fail(Errno.EINVAL);
  const target = pathArg(t, r, 0);
  // The last component is followed into the topmost mount (LOOKUP_MOUNTPOINT).
  const at = stepDown(lookup(t, target, !(flags & UMOUNT_NOFOLLOW)));
  mayMount(t);
  if (!isMountRoot(at)) fail(Errno.EINVAL);
  const m = at.mount;
  // A locked mount would show what it covers: only its whole tree goes, with its parent.
  if (lockedFlags(m) !== undefined) fail(Errno.EINVAL);
  const ns = ownMount(t, at);
  if (m === t.fs.root.mount && !(flags & MNT_DETACH)) {
    // Linux "unmounts" the caller's root by remounting its file system read-only.
    m.sb.readonly = true;
    return 0;
  }
  if (!m.parent) fail(Errno.EINVAL);
  if (flags & MNT_EXPIRE) fail(Errno.EAGAIN);
  if (!(flags & MNT_DETACH) && busy(t, m)) fail(Errno.EBUSY);
  // Copies propagated to the peers and slaves of its parent go too (when not in use).
  const copies = ns.propagatedCopies(m).filter((c) => flags & MNT_DETACH || !busy(t, c));
  unmount(t, [m, ...copies]);
  return 0;
}, 'partial', 'a mapped file does not make its mount busy; MNT_EXPIRE always answers EAGAIN');

// pivot_root(new_root, put_old)
define(155, (t, r) => {
  const newPath = pathArg(t, r, 0);
  const oldPath = pathArg(t, r, 1);
  mayMount(t);
  const ns = mountNamespaceOf(t);
  const newRoot = resolve(t, dirLocation(t, AT_FDCWD, newPath), newPath, { follow: true, directory: true });
  const putOld = resolve(t, dirLocation(t, AT_FDCWD, oldPath), oldPath, { follow: true, directory: true });
  const root = t.fs.root;
  if (newRoot.mount.ns !== ns || putOld.mount.ns !== ns) fail(Errno.EINVAL);
  if (newRoot.mount === root.mount || putOld.mount === root.mount) fail(Errno.EBUSY);
  if (!isMountRoot(newRoot) || !newRoot.mount.parent) fail(Errno.EINVAL);
  if (!isMountRoot(root) || root.mount !== ns.root.mount) fail(Errno.EINVAL);
  if (!ns.reach(putOld, newRoot).reachable) fail(Errno.EINVAL);
  if (putOld.mount.propagation.shared || newRoot.mount.parent.propagation.shared || root.mount.parent?.propagation.shared) fail(Errno.EINVAL);
  const old = root.mount;
  ns.pivot(newRoot.mount, putOld);
  // Every task whose root or cwd was the old root now has the new one (chroot_fs_refs).
  const now = ns.root;
  for (const task of t.kernel.tasks.values()) {
    if (mountNamespaceOf(task) !== ns) continue;
    const fs = task.fs;
    if (fs.root.mount === old && fs.root.dentry === old.root) fs.root = now;
    if (fs.cwd.mount === old && fs.cwd.dentry === old.root) fs.cwd = now;
  }
  return 0;
}, 'partial', 'the root mount must be the namespace root (no pivot after chroot into another mount)');
