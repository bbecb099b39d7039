/**
 * netns.ts places the sandbox's host processes in their network namespace.
 *
 * The sentry is the container's kernel and opens no host sockets for the container; its
 * network namespace is where it runs all the same (Docker hands a namespace path, as it
 * does to runc, and inspects it), and an empty one takes the host network away from a
 * sentry that an application managed to subvert:
 *   - linux.namespaces has a network entry with a path: the sentry joins it (nsenter);
 *   - otherwise: a new, empty namespace (unshare), as runsc does for --network=none,
 *     whether or not config.json lists one (runc would share the host's when it does not);
 *   - `--network host`: the host's.
 * The gofer serves files over a socket pair and never needs a network: always a new one.
 *
 * util-linux's nsenter(1) and unshare(1) do the switch before Node starts (Node cannot
 * move its threads into a namespace), at the cost of one exec (~2 ms here).
 */
import * as fs from 'node:fs';
import type { Spec } from '../oci/config';
import { ContainerError } from '../container/errors';

const TOOLS = { unshare: ['/usr/bin/unshare', '/bin/unshare'], nsenter: ['/usr/bin/nsenter', '/bin/nsenter'] };

function tool(name: keyof typeof TOOLS): string {
  const found = TOOLS[name].find((p) => fs.existsSync(p));
  if (!found) throw new ContainerError(`${name}(1) from util-linux is needed to place the sandbox in its network namespace (apt-get install util-linux)`);
  return found;
}

/** networkPath returns config.json's network namespace path, checked to exist, if any. */
export function networkPath(spec: Spec): string | undefined {
  const p = spec.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  if (p === undefined) return undefined;
  if (!fs.existsSync(p)) throw new ContainerError(`config.json: linux.namespaces: network namespace ${p} does not exist`);
  return p;
}

/** sentryNetPrefix is the command that runs before the sentry's Node to put it in its namespace. */
export function sentryNetPrefix(spec: Spec, network: 'none' | 'host'): string[] {
  const p = networkPath(spec);
  if (network === 'host' && p === undefined) return [];
  return p !== undefined ? [tool('nsenter'), `--net=${p}`, '--'] : [tool('unshare'), '--net', '--'];
}

/** goferNetPrefix is the same for the gofer: a new, empty namespace. */
export function goferNetPrefix(): string[] {
  return [tool('unshare'), '--net', '--'];
}
