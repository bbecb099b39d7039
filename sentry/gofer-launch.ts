/**
 * Starting a sandbox's gofer: its command line from the OCI spec (the rootfs, and one
 * export per bind mount, named by its destination), and the spawn itself: its own
 * session (a terminal's signals to the sentry must not reach it), PATH and glibc
 * malloc's tuning (SANDBOX_MALLOC_ENV) only in its environment, one end of a socket pair
 * as fd 3. The gofer exits when the other end closes. Used by the runtime (which starts the gofer beside the sentry, in parallel)
 * and by `tvisor sentry` run alone.
 */
import type { IDMapping, Mount, Spec } from '../oci/config';
import { spawnProcess } from '../native/spawn';
import { closeFd, socketPair } from '../native/unixsock';
import { profileEnv } from '../native/startup-profile';
import { memoryReportEnv } from '../native/memory-report';
import { codeCacheEnv } from '../native/code-cache';
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
  /** control: the gofer also listens here for pod members' exports (gofer/server/members.ts). */
  control?: string;
}

/** GOFER_CONTROL_SOCKET is the name of a sandbox gofer's control socket in its container's state directory. */
export const GOFER_CONTROL_SOCKET = 'gofer.sock';

/** GoferExport is one tree a container's gofer serves: the rootfs ('/') or a bind mount (named by its destination). */
export interface GoferExport {
  name: string;
  hostPath: string;
  readonly: boolean;
}

/** goferExports lists what a spec's gofer serves: the rootfs, then each bind mount with a source. */
export function goferExports(rootfs: string, spec: Spec): GoferExport[] {
  const out: GoferExport[] = [{ name: '/', hostPath: rootfs, readonly: spec.root?.readonly === true }];
  for (const m of spec.mounts ?? []) {
    if (!isBind(m) || !m.source) continue;
    out.push({ name: m.destination, hostPath: m.source, readonly: (m.options ?? []).includes('ro') });
  }
  return out;
}

/** goferIdMaps are the container's user-namespace mappings as the gofer takes them ("C:H:N"): it writes and reads ids through them. */
export function goferIdMaps(spec: Spec): { uid: string[]; gid: string[] } {
  const list = (l: IDMapping[] | undefined) => (l ?? []).map((r) => `${r.containerID}:${r.hostID}:${r.size}`);
  return { uid: list(spec.linux?.uidMappings), gid: list(spec.linux?.gidMappings) };
}

/** goferArgs is the gofer's command line (after the launcher) for a spec and its rootfs. */
export function goferArgs(rootfs: string, spec: Spec, o: GoferLaunchOptions = {}): string[] {
  const args = ['gofer', '--root', rootfs, '--fd', '3'];
  if (o.debug) args.push('--host-seccomp', 'trap');
  if (o.confine) args.push('--confine');
  if (o.control) args.push('--control', o.control);
  const [root, ...binds] = goferExports(rootfs, spec);
  if (root.readonly) args.push('--ro');
  for (const e of binds) args.push(e.readonly ? '--export-ro' : '--export', `${e.name}=${e.hostPath}`);
  const ids = goferIdMaps(spec);
  for (const m of ids.uid) args.push('--uid-map', m);
  for (const m of ids.gid) args.push('--gid-map', m);
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
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...SANDBOX_MALLOC_ENV, ...profileEnv(), ...memoryReportEnv(), ...codeCacheEnv() },
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
