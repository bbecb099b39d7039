/**
 * netns.ts places the sandbox's host processes in their network namespace.
 *
 * The sentry is the container's kernel and opens no host sockets for the container; its
 * network namespace is where it runs all the same (Docker hands a namespace path, as it
 * does to runc, and inspects it), and an empty one takes the host network away from a
 * sentry that an application managed to subvert:
 *   - linux.namespaces has a network entry with a path: the sentry runs in it;
 *   - otherwise: a new, empty namespace, as runsc does for --network=none, whether or not
 *     config.json lists one (runc would share the host's when it does not);
 *   - `--network host`: the host's.
 * The gofer serves files over a socket pair and never needs a network: a new, empty one
 * (the sentry's, when that is new too: one namespace per sandbox).
 *
 * How: a network namespace belongs to a thread, and posix_spawn's child starts in its
 * caller thread's. So the calling thread enters the namespace (setns, or unshare for a
 * new one), spawns, and goes back to its own. No helper program, no extra exec; measured
 * here, an unshare(1) in front of each process cost ~10 ms of start-up, most of it
 * namespace creation and teardown contending, twice per sandbox.
 */
import * as fs from 'node:fs';
import type { Spec } from '../../oci/config';
import { ContainerError } from '../container/errors';
import { check, libcFunc } from '../../native/libc';
import { inThreadNamespaces } from './namespaces';
import { loopbackUp } from '../../sentry/net/netlink/loopback';

const CLONE_NEWNET = 0x40000000;

/** NetTarget is the namespace a sandbox process starts in. */
export type NetTarget = { kind: 'host' } | { kind: 'new' } | { kind: 'path'; path: string };

/** networkPath returns config.json's network namespace path, checked to exist, if any. */
export function networkPath(spec: Spec): string | undefined {
  const p = spec.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  if (p === undefined) return undefined;
  if (!fs.existsSync(p)) throw new ContainerError(`config.json: linux.namespaces: network namespace ${p} does not exist`);
  return p;
}

/** sentryNet is where the sentry runs (see the module comment). */
export function sentryNet(spec: Spec, network: 'none' | 'host'): NetTarget {
  const p = networkPath(spec);
  if (p !== undefined) return { kind: 'path', path: p };
  return network === 'host' ? { kind: 'host' } : { kind: 'new' };
}

/**
 * inNetns runs `spawn` with the calling thread in `target`, then puts the thread back in
 * the namespace it was in. What `spawn` starts (posix_spawn) starts in `target`.
 */
export function inNetns<T>(target: NetTarget, spawn: () => T): T {
  if (target.kind === 'host') return spawn();
  return inThreadNamespaces([['net', CLONE_NEWNET]], () => {
    if (target.kind === 'new') {
      check('unshare(CLONE_NEWNET)', libcFunc('int unshare(int flags)')(CLONE_NEWNET) as number);
      loopbackUp(); // as runc does in a new namespace (sentry/net/netlink/loopback.ts)
      return;
    }
    let fd = -1;
    try {
      fd = fs.openSync(target.path, 'r');
      check(`setns ${target.path}`, libcFunc('int setns(int fd, int nstype)')(fd, CLONE_NEWNET) as number);
    } catch (e) {
      throw new ContainerError(`config.json: linux.namespaces: cannot enter network namespace ${target.path}: ${(e as Error).message}`, { cause: e });
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }, spawn);
}
