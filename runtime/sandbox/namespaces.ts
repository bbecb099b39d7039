/**
 * namespaces.ts starts a sandbox host process (the sentry, the gofer) in mount, IPC and
 * UTS namespaces of its own, as runsc does for its sandbox and gofer.
 *
 * A mount namespace cannot be entered by a Node process itself (its threads share one
 * fs_struct, and setns/unshare of a mount namespace want it unshared before any thread
 * starts), so it is made here, around the spawn, the way netns.ts does for the network:
 * the calling thread unshares (CLONE_NEWNS also gives the thread a private fs_struct),
 * makes every mount private (so that what the sandbox process mounts or unmounts never
 * propagates back to the host), spawns (posix_spawn's child starts in the calling
 * thread's namespaces), then goes back to its own namespaces and working directory.
 * The sandbox process later pivots into an empty root (native/confine/root.ts).
 */
import * as fs from 'node:fs';
import { check, libcFunc } from '../../native/libc';

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const MS_REC = 0x4000;
const MS_PRIVATE = 1 << 18;

const NAMESPACES = [['mnt', CLONE_NEWNS], ['ipc', CLONE_NEWIPC], ['uts', CLONE_NEWUTS]] as const;

/**
 * inThreadNamespaces runs `enter` (which moves the calling thread into other namespaces of
 * the given kinds) and then `spawn`, and always puts the thread back into the namespaces
 * it was in (and, with `cwd`, its working directory, which a mount namespace change
 * loses). What `spawn` starts keeps the namespaces `enter` chose. Shared by the network
 * namespace (netns.ts) and the sandbox's own mount, IPC and UTS namespaces.
 */
export function inThreadNamespaces<T>(kinds: readonly (readonly [string, number])[], enter: () => void, spawn: () => T, cwd = false): T {
  const setns = libcFunc('int setns(int fd, int nstype)');
  const own = kinds.map(([name]) => fs.openSync(`/proc/thread-self/ns/${name}`, 'r'));
  const dir = cwd ? fs.openSync('.', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : -1;
  try {
    try {
      // A failing `enter` may have moved the thread half-way: it goes back all the same.
      enter();
      return spawn();
    } finally {
      // SAFETY: back to this thread's own namespaces and directory; failing that, this
      // process must not go on to start anything else (it would share the sandbox's).
      kinds.forEach(([name, flag], i) => {
        if ((setns(own[i], flag) as number) < 0) throw new Error(`cannot return to the runtime's own ${name} namespace`);
      });
      if (dir >= 0 && (libcFunc('int fchdir(int fd)')(dir) as number) < 0) throw new Error('cannot return to the runtime\'s working directory');
    }
  } finally {
    for (const fd of [...own, dir]) if (fd >= 0) fs.closeSync(fd);
  }
}

/**
 * inOwnNamespaces runs `spawn` with the calling thread in new mount (all mounts private),
 * IPC and UTS namespaces, then puts the thread back where it was. What `spawn` starts
 * (posix_spawn) keeps the new namespaces.
 */
export function inOwnNamespaces<T>(spawn: () => T): T {
  return inThreadNamespaces(NAMESPACES, () => {
    check('unshare(CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWUTS)', libcFunc('int unshare(int flags)')(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) as number);
    // SAFETY: in the new namespace only (this thread's); nothing propagates to the host's.
    check('mount(/, MS_REC|MS_PRIVATE)', libcFunc('int mount(const char *src, const char *target, const char *type, unsigned long flags, const void *data)')(null, '/', null, MS_REC | MS_PRIVATE, null) as number);
  }, spawn, true);
}
