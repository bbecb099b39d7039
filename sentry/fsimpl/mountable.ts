/**
 * The file systems a task may mount with mount(2) inside the sandbox, and that boot
 * mounts for the spec: tmpfs, proc and devpts, each a new instance of the sentry's own,
 * and the sandbox's one sysfs (never a host file system). Any other type is unknown here
 * (ENODEV), as a type missing from /proc/filesystems is on Linux.
 */
import { pidNamespaceOf } from '../kernel/pid-namespace';
import { Errno, fail } from '../kernel/errors';
import type { Kernel } from '../kernel/kernel';
import type { Task } from '../kernel/task';
import type { Spec } from '../../oci/config';
import type { SandboxLimits } from '../limits';
import { tmpfsOptions } from '../limits';
import type { FileSystem } from '../vfs/inode';
import { parseTmpfsData, tmpfsShowOptions, type TmpfsData } from '../vfs/mount-options';
import { IDENTITY_MAPS, type IdMaps } from '../../oci/idmap';
import { newProcfs } from './proc/proc';
import { newDevptsMount, type DevptsOptions } from './devpts/devpts';
import { toKernelId } from '../kernel/user-namespace';
import { newSysfs } from './sys/sys';
import { Tmpfs, type TmpfsInode } from './tmpfs/tmpfs';
import { PAGE } from '../mm/vma';

/** Mountable is a new file system instance with the options its super block shows. */
export interface Mountable {
  fs: FileSystem;
  options: string[];
}

let limits: SandboxLimits | null = null;
let sysfs: FileSystem | null = null;
let idMaps: IdMaps = IDENTITY_MAPS;
/** made holds the tmpfs instances newTmpfs made that releaseTmpfs has not emptied yet. */
const made = new WeakSet<FileSystem>();

/** setMountLimits records the sandbox's limits (boot): a tmpfs's default size and what
 * `size=N%` is a percentage of. */
export function setMountLimits(l: SandboxLimits): void {
  limits = l;
}

/** setMountIdMaps records the sandbox's user namespace mappings (boot, before its
 * mounts): the uid= and gid= a super block shows are host ids, as Linux shows them (from
 * the initial user namespace), so that a tmpfs that root mounts in the container's user
 * namespace shows its owner's host ids, as runc's do. */
export function setMountIdMaps(m: IdMaps): void {
  idMaps = m;
}

/** shownId returns the id a super block's options show for container id `id`: its host
 * id, or the overflow id 65534 when unmapped (from_kuid_munged). */
export function shownId(kind: 'uid' | 'gid', id: number): number {
  const host = idMaps[kind].toHost(id);
  return host < 0 ? 65534 : host;
}

/** shownData is d with its owner ids as a super block shows them. */
function shownData(d: TmpfsData): TmpfsData {
  return { ...d, uid: shownId('uid', d.uid), gid: shownId('gid', d.gid) };
}

/** sandboxSysfs returns the sandbox's sysfs: one instance, whatever mounts it (boot's
 * /sys, a later `mount -t sysfs`), as Linux's sysfs has one super block per network
 * namespace. */
export function sandboxSysfs(): FileSystem {
  // The content is sys/sys.ts's: what programs read of /sys, from the sentry's own state.
  return (sysfs ??= newSysfs());
}

/**
 * makesSuperblock tells whether a spec mount of `type` (not a bind) gets a new super
 * block on Linux, which a read-only mount then makes read-only (mountinfo's super=ro): a
 * tmpfs always; a sysfs when the container has a new network namespace (Linux keys
 * sysfs's super block on it: without one, runc's mount reuses the host's, read-write).
 */
export function makesSuperblock(type: string | undefined, spec: Spec): boolean {
  if (type === 'tmpfs') return true;
  if (type === 'sysfs') return (spec.linux?.namespaces ?? []).some((n) => n.type === 'network' && !n.path);
  return false;
}

/** newTmpfs makes a tmpfs from its option words (mode=, uid=, gid=, size=, nr_inodes=);
 * a word tmpfs does not know, or a bad value, is EINVAL (with `strict`; boot's spec
 * mounts skip them). */
export function newTmpfs(data: readonly string[], defaultMode = 0o1777, strict = true): Mountable {
  const d = parseTmpfsData(data, defaultMode, strict) ?? fail(Errno.EINVAL);
  const bounds = limits ? tmpfsOptions(data, limits) : {};
  const fs = new Tmpfs(d.mode, d.uid, d.gid, bounds);
  made.add(fs);
  return { fs, options: tmpfsShowOptions(shownData(d), fs.maxBytes, fs.maxInodes) };
}

/**
 * remountTmpfs applies a remount's option words to a tmpfs (Linux's shmem_reconfigure)
 * and returns the options its super block shows now (`shown` with its size= and
 * nr_inodes= words replaced by the new bounds): `size=` and `nr_inodes=` change its
 * bounds (0: unlimited), so that writes past a smaller size get ENOSPC; mode=, uid= and
 * gid= are accepted and change nothing (tmpfs(5): chmod and chown do that). EINVAL, with
 * nothing changed, for a word tmpfs does not know, for a limit on a tmpfs made unlimited
 * ("Cannot retroactively limit"), and for a size below the pages in use or fewer inodes
 * than are in use ("Too small a size for current use"). Null for another file system
 * (its remount data is not looked at).
 */
export function remountTmpfs(fs: FileSystem, data: readonly string[], shown: readonly string[]): string[] | null {
  if (!(fs instanceof Tmpfs)) return null;
  const d = parseTmpfsData(data) ?? fail(Errno.EINVAL);
  // The new bounds, as a mount with these words would have them (limits: set at boot).
  const l = limits ?? fail(Errno.EINVAL);
  const bytes = d.size === undefined ? undefined : tmpfsOptions([`size=${d.size}`], l).maxBytes;
  const inodes = d.nrInodes === undefined ? undefined : tmpfsOptions([`nr_inodes=${d.nrInodes}`], l).maxInodes;
  if (bytes) {
    if (!fs.maxBytes) fail(Errno.EINVAL, 'cannot retroactively limit size');
    if (fs.pages > Math.floor(bytes / PAGE)) fail(Errno.EINVAL, 'too small a size for current use');
  }
  if (inodes) {
    if (!fs.maxInodes) fail(Errno.EINVAL, 'cannot retroactively limit inodes');
    if (inodes < fs.inodes) fail(Errno.EINVAL, 'too few inodes for current use');
  }
  if (bytes !== undefined) fs.maxBytes = bytes;
  if (inodes !== undefined) fs.maxInodes = inodes;
  const size = (w: string) => w.startsWith('size='), nr = (w: string) => w.startsWith('nr_inodes=');
  const bounds = tmpfsShowOptions({ ...d, size: d.size ?? shown.find(size), nrInodes: d.nrInodes ?? shown.find(nr) }, fs.maxBytes, fs.maxInodes);
  return [...bounds.filter((w) => size(w) || nr(w)), ...shown.filter((w) => !size(w) && !nr(w))];
}

/**
 * releaseTmpfs gives back what a tmpfs made by newTmpfs holds once its last mount is gone
 * and nothing uses it (the caller checks): every name is removed, so each file's pages
 * return now (or at its last close), and its inodes to the sandbox's budget, as Linux
 * frees a tmpfs with its super block. Other file systems are left alone.
 */
export function releaseTmpfs(fs: FileSystem): void {
  if (!(fs instanceof Tmpfs) || !made.has(fs)) return;
  made.delete(fs);
  const empty = (dir: TmpfsInode): void => {
    for (const [name, child] of [...dir.children]) {
      if (child.isDir) {
        empty(child);
        dir.rmdir(name);
      } else {
        dir.unlink(name);
      }
    }
  };
  empty(fs.root);
  fs.unchargeInode(); // the root's
}

/** tmpfsShowFor returns the options a tmpfs made from `data` would show, without making
 * one (the sentry's /dev, which shows as the spec's tmpfs). */
export function tmpfsShowFor(data: readonly string[], defaultMode: number): string[] {
  const d = parseTmpfsData(data, defaultMode, false)!;
  const bounds = limits ? tmpfsOptions(data, limits) : { maxBytes: 0, maxInodes: 0 };
  return tmpfsShowOptions(shownData(d), bounds.maxBytes, bounds.maxInodes);
}

/** DEVPTS_MAX is the most ptys a devpts's max= may allow (Linux's NR_UNIX98_PTY_MAX). */
const DEVPTS_MAX = 1 << 20;

/**
 * parseDevptsData reads a devpts mount's options as Linux's devpts_parse_param: uid= and
 * gid= (decimal: kernel ids here, the caller has mapped them), mode= and ptmxmode=
 * (octal, masked to 07777), max= (at most 2^20), newinstance (every mount is a new
 * instance); anything else, or a bad number, is EINVAL.
 */
export function parseDevptsData(data: readonly string[]): DevptsOptions {
  const o: DevptsOptions = { mode: 0o600, ptmxmode: 0 };
  for (const w of data) {
    const eq = w.indexOf('=');
    const [key, v] = eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
    const num = (re: RegExp, base: number): number => {
      if (v === undefined || !re.test(v)) fail(Errno.EINVAL);
      const n = parseInt(v, base);
      return n <= 0xffffffff ? n : fail(Errno.EINVAL);
    };
    switch (key) {
      case 'newinstance': if (v !== undefined) fail(Errno.EINVAL); break;
      case 'uid': o.uid = num(/^\+?\d+$/, 10); break;
      case 'gid': o.gid = num(/^\+?\d+$/, 10); break;
      case 'mode': o.mode = num(/^\+?[0-7]+$/, 8) & 0o7777; break;
      case 'ptmxmode': o.ptmxmode = num(/^\+?[0-7]+$/, 8) & 0o7777; break;
      case 'max': o.max = num(/^\+?\d+$/, 10); if (o.max > DEVPTS_MAX) fail(Errno.EINVAL); break;
      default: fail(Errno.EINVAL);
    }
  }
  return o;
}

/** devptsShowOptions are a devpts's options as its super block shows them, in Linux's
 * order: uid= and gid= when given (host ids), mode, ptmxmode, max= when below 2^20. */
export function devptsShowOptions(o: DevptsOptions): string[] {
  const oct = (v: number) => v.toString(8).padStart(3, '0');
  return [
    ...(o.uid !== undefined ? [`uid=${shownId('uid', o.uid)}`] : []),
    ...(o.gid !== undefined ? [`gid=${shownId('gid', o.gid)}`] : []),
    `mode=${oct(o.mode)}`, `ptmxmode=${oct(o.ptmxmode)}`,
    ...(o.max !== undefined && o.max < DEVPTS_MAX ? [`max=${o.max}`] : []),
  ];
}

/** newDevptsFs makes the devpts a task mounts: its root and ptmx owned by root of the
 * task's user namespace (the sandbox's root where that has no root mapped), as Linux's. */
function newDevptsFs(k: Kernel, data: readonly string[]): Mountable {
  const o = parseDevptsData(data);
  const ns = k.sched.running?.creds.userns ?? null;
  const root = (kind: 'uid' | 'gid') => Math.max(0, toKernelId(ns, kind, 0));
  return { fs: newDevptsMount(k, o, { uid: root('uid'), gid: root('gid') }), options: devptsShowOptions(o) };
}

/** MAKERS make each file system type mount(2) accepts, in /proc/filesystems' order. */
type Maker = (k: Kernel, data: readonly string[]) => Mountable;
const MAKERS: ReadonlyMap<string, Maker> = new Map<string, Maker>([
  ['sysfs', () => ({ fs: sandboxSysfs(), options: [] })],
  ['tmpfs', (_k, data) => newTmpfs(data)],
  // A proc mount shows the pid namespace of the task mounting it.
  ['proc', (k) => ({ fs: newProcfs(k, (): Task | null => k.sched.running, k.sched.running ? pidNamespaceOf(k.sched.running) : undefined), options: [] })],
  ['devpts', newDevptsFs],
]);

/** mountableTypes lists the file system types newMountable makes (/proc/filesystems). */
export function mountableTypes(): string[] {
  return [...MAKERS.keys()];
}

/** newMountable makes a new file system of `type` for mount(2) (ENODEV: a type the
 * sandbox does not have, host file systems included). */
export function newMountable(k: Kernel, type: string, data: readonly string[]): Mountable {
  const make = MAKERS.get(type);
  return make ? make(k, data) : fail(Errno.ENODEV);
}
