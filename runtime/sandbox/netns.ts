/**
 * netns.ts places the sandbox's host processes in their network namespace.
 *
 * The sentry is the container's kernel: in the default network mode the application's
 * inet sockets are host sockets the sentry opens in this namespace (sentry/net/host/;
 * `--network none` keeps them inside the sentry), so the namespace is the container's
 * network (Docker hands a namespace path, as it does to runc, and inspects it), and an
 * empty one takes the host network away from the sandbox:
 *   - linux.namespaces has a network entry with a path: the sentry runs in it;
 *   - otherwise: a new, empty namespace, as runsc does for --network=none, whether or not
 *     config.json lists one (runc would share the host's when it does not);
 *   - `--network host` given explicitly: the host's, unless config.json names a path.
 * A new namespace gets what Docker gives its containers' namespaces: loopback up,
 * unprivileged ports from 0 and ICMP ping sockets for every group, so that the confined
 * sentry (uid 65534, no capabilities) can bind port 80 or ping for the application.
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
import { invalidSysctlKey, sysctlDotted, sysctlPath } from '../../oci/sysctl-key';

const CLONE_NEWNET = 0x40000000;

/**
 * NetTarget is the namespace a sandbox process starts in: the host's, a new one set up
 * for the sandbox's sockets (see the module comment), a new one left empty (the
 * gofer's, which has no socket), or one named by path.
 */
export type NetTarget = { kind: 'host' } | { kind: 'new' } | { kind: 'empty' } | { kind: 'path'; path: string };

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
 * netSysctls returns a function that writes config.json's net.* sysctls into the network
 * namespace of the calling thread, as runc writes them into the container's: the sandbox's
 * host sockets live there (Docker asks for net.ipv4.ip_unprivileged_port_start=0 and
 * ping_group_range this way). Keys were checked at create (container/sysctl.ts).
 */
export function netSysctls(spec: Spec): () => void {
  const entries = Object.entries(spec.linux?.sysctl ?? {}).filter(([k]) => sysctlDotted(k).startsWith('net.'));
  return () => {
    for (const [key, value] of entries) {
      const p = sysctlPath(key);
      if (p === null) throw new ContainerError(invalidSysctlKey(key));
      try {
        fs.writeFileSync(`/proc/sys/${p}`, value);
      } catch (e) {
        // A key with no entry is the sentry's to refuse, with runc's message, as for any key (fsimpl/proc/sysctl.ts).
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new ContainerError(`config.json: linux.sysctl: cannot set ${sysctlDotted(key)} in the sandbox's network namespace: ${(e as Error).message}`, { cause: e });
      }
    }
  };
}

/**
 * inNetns runs `spawn` with the calling thread in `target`, then puts the thread back in
 * the namespace it was in. What `spawn` starts (posix_spawn) starts in `target`. `prepare`
 * runs first in the namespace (not in the host's: net.* sysctls are refused there).
 */
export function inNetns<T>(target: NetTarget, spawn: () => T, prepare?: () => void): T {
  if (target.kind === 'host') return spawn();
  return inThreadNamespaces([['net', CLONE_NEWNET]], () => {
    if (target.kind === 'new' || target.kind === 'empty') {
      check('unshare(CLONE_NEWNET)', libcFunc('int unshare(int flags)')(CLONE_NEWNET) as number);
      if (target.kind === 'empty') return;
      prepareNewNetns();
      prepare?.();
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
    prepare?.();
  }, spawn);
}

const SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914, IFF_UP = 0x1, AF_INET = 2, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0o2000000;

/**
 * prepareNewNetns sets up the namespace the calling thread just created (see the module
 * comment): lo up, net.ipv4.ip_unprivileged_port_start 0, net.ipv4.ping_group_range all.
 * /proc/sys/net is the namespace of the thread that opens it: this one.
 */
function prepareNewNetns(): void {
  // SAFETY: ifr is a 40-byte struct ifreq (name, then flags at 16) that lives across both calls.
  const fd = check('socket(AF_INET)', libcFunc('int socket(int, int, int)')(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number);
  try {
    const ioctl = libcFunc('int ioctl(int fd, unsigned long req, void *arg)');
    const ifr = Buffer.alloc(40);
    ifr.write('lo', 0, 'latin1');
    check('ioctl(lo, SIOCGIFFLAGS)', ioctl(fd, SIOCGIFFLAGS, ifr) as number);
    ifr.writeUInt16LE(ifr.readUInt16LE(16) | IFF_UP, 16);
    check('ioctl(lo, SIOCSIFFLAGS)', ioctl(fd, SIOCSIFFLAGS, ifr) as number);
  } finally {
    libcFunc('int close(int)')(fd);
  }
  fs.writeFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', '0');
  fs.writeFileSync('/proc/sys/net/ipv4/ping_group_range', '0 2147483647');
}
