/**
 * Starting a sandbox's gofer: its command line from the OCI spec (the rootfs, and one
 * export per bind mount, named by its destination), and the spawn itself: its own
 * session (a terminal's signals to the sentry must not reach it), PATH and glibc
 * malloc's tuning (SANDBOX_MALLOC_ENV) only in its environment, one end of a socket pair
 * as fd 3. The gofer exits when the other end closes. Used by the runtime (which starts the gofer beside the sentry, in parallel)
 * and by `tvisor sentry` run alone.
 */
import type { Mount, Spec } from '../oci/config';
import { spawnProcess } from '../native/spawn';
import { closeFd, socketPair } from '../native/unixsock';
import { profileEnv } from '../native/startup-profile';
import { memoryReportEnv } from '../native/memory-report';
import { SANDBOX_MALLOC_ENV } from './limits';

/** isBind tells whether a spec mount is a bind mount served by the gofer. */
export function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** GoferLaunchOptions carry the global flags the gofer shares with the sentry. */
export interface GoferLaunchOptions {
  /** debug: a call outside the gofer's seccomp allowlist is named on its stderr (trap mode). */
  debug?: boolean;
  /** confine: the gofer starts in namespaces of its own, then pivots into an empty root and drops privileges. */
  confine?: boolean;
}

/** goferArgs is the gofer's command line (after the launcher) for a spec and its rootfs. */
export function goferArgs(rootfs: string, spec: Spec, o: GoferLaunchOptions = {}): string[] {
  const args = ['gofer', '--root', rootfs, '--fd', '3'];
  if (o.debug) args.push('--host-seccomp', 'trap');
  if (o.confine) args.push('--confine');
  if (spec.root?.readonly) args.push('--ro');
  for (const m of spec.mounts ?? []) {
    if (!isBind(m) || !m.source) continue;
    const ro = (m.options ?? []).includes('ro');
    args.push(ro ? '--export-ro' : '--export', `${m.destination}=${m.source}`);
  }
  // The container's user-namespace mappings: the gofer writes and reads ids through them.
  for (const [flag, list] of [['--uid-map', spec.linux?.uidMappings], ['--gid-map', spec.linux?.gidMappings]] as const) {
    for (const r of list ?? []) args.push(flag, `${r.containerID}:${r.hostID}:${r.size}`);
  }
  return args;
}

/**
 * spawnGoferOn starts the gofer (posix_spawn: see native/spawn.ts) with `fd`, its end of
 * the sentry's socket, as its fd 3, and returns its pid. Nobody waits for it here: its
 * parent reaps it, or it is reparented when that parent exits.
 *
 * Its stderr is the caller's, or /dev/null when the container has a terminal: then the
 * caller's stdio is for `create`'s own messages only (the container's is the pty), and a
 * gofer holding it would stall containerd's runc shim, which reads `create`'s output to
 * its end before it calls `start` (docker run -t; the sentry lets go of it too:
 * adoptAsStdio).
 */
export function spawnGoferOn(fd: number, launcher: string, rootfs: string, spec: Spec, o: GoferLaunchOptions = {}): number {
  return spawnProcess({
    file: process.execPath,
    argv: [process.execPath, launcher, ...goferArgs(rootfs, spec, o)],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...SANDBOX_MALLOC_ENV, ...profileEnv(), ...memoryReportEnv() },
    fds: [null, null, spec.process?.terminal ? null : 2, fd],
    setsid: true,
  });
}

/** spawnGofer starts the gofer on a new socket pair and returns it with the sentry's end. */
export function spawnGofer(launcher: string, rootfs: string, spec: Spec, o: GoferLaunchOptions = {}): { pid: number; fd: number } {
  const [mine, theirs] = socketPair();
  try {
    return { pid: spawnGoferOn(theirs, launcher, rootfs, spec, o), fd: mine };
  } catch (e) {
    closeFd(mine);
    throw e;
  } finally {
    closeFd(theirs);
  }
}
