/**
 * Starting a sandbox's gofer: its command line from the OCI spec (the rootfs, and one
 * export per bind mount, named by its destination), and the spawn itself: its own
 * session (a terminal's signals to the sentry must not reach it), PATH only in its
 * environment, one end of a socket pair as fd 3. The gofer exits when the other end
 * closes. Used by the runtime (which starts the gofer beside the sentry, in parallel)
 * and by `tvisor sentry` run alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Mount, Spec } from '../runtime/oci/config';
import { closeFd, socketPair } from '../native/unixsock';

/** isBind tells whether a spec mount is a bind mount served by the gofer. */
export function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** goferArgs is the gofer's command line (after the launcher) for a spec and its rootfs. */
export function goferArgs(rootfs: string, spec: Spec): string[] {
  const args = ['gofer', '--root', rootfs, '--fd', '3'];
  if (spec.root?.readonly) args.push('--ro');
  for (const m of spec.mounts ?? []) {
    if (!isBind(m) || !m.source) continue;
    const ro = (m.options ?? []).includes('ro');
    args.push(ro ? '--export-ro' : '--export', `${m.destination}=${m.source}`);
  }
  return args;
}

/** spawnGofer starts the gofer and returns it with the sentry's end of its socket. */
export function spawnGofer(launcher: string, rootfs: string, spec: Spec): { child: ChildProcess; fd: number } {
  const [mine, theirs] = socketPair();
  try {
    const child = spawn(process.execPath, [launcher, ...goferArgs(rootfs, spec)], {
      stdio: ['ignore', 'ignore', 'inherit', theirs],
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    child.unref();
    return { child, fd: mine };
  } finally {
    closeFd(theirs);
  }
}
