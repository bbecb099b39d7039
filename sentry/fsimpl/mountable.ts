/**
 * The file systems a task may mount with mount(2) inside the sandbox, and that boot
 * mounts for the spec: tmpfs and proc, each a new instance of the sentry's own, and the
 * sandbox's one sysfs (never a host file system). Any other type is unknown here
 * (ENODEV), as a type missing from /proc/filesystems is on Linux.
 */
import { pidNamespaceOf } from '../kernel/pid-namespace';
import { Errno, fail } from '../kernel/errors';
import type { Kernel } from '../kernel/kernel';
import type { Task } from '../kernel/task';
import type { SandboxLimits } from '../limits';
import { tmpfsOptions } from '../limits';
import type { FileSystem } from '../vfs/inode';
import { parseTmpfsData, tmpfsShowOptions } from '../vfs/mount-options';
import { newProcfs } from './proc/proc';
import { newSysfs } from './sys/sys';
import { Tmpfs, type TmpfsInode } from './tmpfs/tmpfs';

/** Mountable is a new file system instance with the options its super block shows. */
export interface Mountable {
  fs: FileSystem;
  options: string[];
}

let limits: SandboxLimits | null = null;
let sysfs: FileSystem | null = null;
/** made holds the tmpfs instances newTmpfs made that releaseTmpfs has not emptied yet. */
const made = new WeakSet<FileSystem>();

/** setMountLimits records the sandbox's limits (boot): a tmpfs's default size and what
 * `size=N%` is a percentage of. */
export function setMountLimits(l: SandboxLimits): void {
  limits = l;
}

/** sandboxSysfs returns the sandbox's sysfs: one instance, whatever mounts it (boot's
 * /sys, a later `mount -t sysfs`), as Linux's sysfs has one super block per network
 * namespace. */
export function sandboxSysfs(): FileSystem {
  // The content is sys/sys.ts's: what programs read of /sys, from the sentry's own state.
  return (sysfs ??= newSysfs());
}

/** newTmpfs makes a tmpfs from its option words (mode=, uid=, gid=, size=, nr_inodes=);
 * a word tmpfs does not know, or a bad value, is EINVAL (with `strict`; boot's spec
 * mounts skip them). */
export function newTmpfs(data: readonly string[], defaultMode = 0o1777, strict = true): Mountable {
  const d = parseTmpfsData(data, defaultMode, strict) ?? fail(Errno.EINVAL);
  const bounds = limits ? tmpfsOptions(data, limits) : {};
  const fs = new Tmpfs(d.mode, d.uid, d.gid, bounds);
  made.add(fs);
  return { fs, options: tmpfsShowOptions(d, fs.maxBytes, fs.maxInodes) };
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
  return tmpfsShowOptions(d, bounds.maxBytes, bounds.maxInodes);
}

/** MAKERS make each file system type mount(2) accepts, in /proc/filesystems' order. */
type Maker = (k: Kernel, data: readonly string[]) => Mountable;
const MAKERS: ReadonlyMap<string, Maker> = new Map<string, Maker>([
  ['sysfs', () => ({ fs: sandboxSysfs(), options: [] })],
  ['tmpfs', (_k, data) => newTmpfs(data)],
  // A proc mount shows the pid namespace of the task mounting it.
  ['proc', (k) => ({ fs: newProcfs(k, (): Task | null => k.sched.running, k.sched.running ? pidNamespaceOf(k.sched.running) : undefined), options: [] })],
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
