/**
 * root.ts takes a sandbox host process out of the host's file tree: in its own mount
 * namespace (runtime/sandbox/namespaces.ts), it mounts an empty read-only tmpfs, pivots
 * into it and detaches the host's tree. Only the
 * descriptors it opened before remain (the gofer's exports, the sentry's memory file and
 * stub binary). With `pts`, the new root holds one directory, a private devpts instance
 * (`/pts/ptmx`), from which the sentry opens the terminals of later `exec -t`.
 */
import { mkdirSync } from 'node:fs';
import { check, libcFunc } from '../libc';
import { writeCodeCacheNow } from '../code-cache';

const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32;
const MNT_DETACH = 2;
const SYS_pivot_root = 155;

/** PRIVATE_PTMX is the private devpts instance's ptmx inside a root made with `pts`. */
export const PRIVATE_PTMX = '/pts/ptmx';

/**
 * OVER is where the new root is mounted before the pivot: any directory that always
 * exists other than / itself (a path walk to / never crosses a mount made on it, so a tmpfs
 * mounted there could not be reached). What it hides is hidden in this namespace only.
 */
const OVER = '/proc';

/**
 * pivotToEmptyRoot makes an empty tmpfs the root of this process and all its threads, and
 * detaches the old root. The caller must be alone in a private mount namespace.
 */
export function pivotToEmptyRoot(o: { pts?: boolean } = {}): void {
  const over = OVER;
  // bin/tvisor writes V8's code cache of this process's bundle at exit, by path: the
  // last moment it can is now (scripts/tvisor-launcher.js).
  writeCodeCacheNow('path');
  const mount = libcFunc('int mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data)');
  const flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  // SAFETY (whole function): mount, pivot_root and umount2 act on this process's own
  // mount namespace, which holds nothing the host sees (all of it private).
  check(`mount tmpfs on ${over}`, mount('tvisor', over, 'tmpfs', flags, 'mode=0555,size=16k,nr_inodes=8') as number);
  if (o.pts) {
    mkdirSync(`${over}/pts`, { mode: 0o755 });
    check('mount devpts', mount('devpts', `${over}/pts`, 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620') as number);
  }
  check('remount the new root read-only', mount(null, over, null, MS_REMOUNT | MS_RDONLY | flags, null) as number);
  process.chdir(over);
  // pivot_root(".", "."): the old root is stacked on top of the new one, then detached.
  check('pivot_root', Number(libcFunc('long syscall(long nr, const char *new_root, const char *put_old)')(SYS_pivot_root, '.', '.')));
  check('umount the old root', libcFunc('int umount2(const char *target, int flags)')('.', MNT_DETACH) as number);
  process.chdir('/');
}
