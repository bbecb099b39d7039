/**
 * A network namespace for the network tests: a veth pair (v0 with an IPv4 and an IPv6
 * address, v1 its unaddressed peer) and lo, all up, and ping sockets allowed to every
 * group, at /run/netns/<name>. Containers
 * join it through config.json's network namespace path (runc and tvisor alike); native
 * runs through nsenter. Creating it needs root and iproute2: a failure throws, naming
 * the `ip` command that failed.
 */
import { spawnSync } from 'node:child_process';

/** TestNetns is one created namespace. */
export interface TestNetns {
  name: string;
  path: string;
  ip4: string;
  ip6: string;
  /** join edits a config.json to run the container in this namespace. */
  join(spec: { linux: { namespaces: Array<{ type: string; path?: string }> } }): void;
  /** remove deletes the namespace. */
  remove(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** makeTestNetns creates the namespace `name` (unique per test process: add the pid). */
export function makeTestNetns(name: string): TestNetns {
  const ns: TestNetns = {
    name, path: `/run/netns/${name}`, ip4: '10.77.0.1', ip6: 'fd77::1',
    join(spec) {
      spec.linux.namespaces = [...spec.linux.namespaces.filter((n) => n.type !== 'network'), { type: 'network', path: ns.path }];
    },
    remove() {
      spawnSync('ip', ['netns', 'del', name]);
    },
  };
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('-n', name, 'addr', 'add', `${ns.ip4}/24`, 'dev', 'v0');
    ip('-n', name, 'addr', 'add', `${ns.ip6}/64`, 'dev', 'v0', 'nodad');
    for (const dev of ['v0', 'v1', 'lo']) ip('-n', name, 'link', 'set', dev, 'up');
    // ICMP ping sockets for every group, as Docker sets up its containers' namespaces.
    const r = spawnSync('nsenter', [`--net=${ns.path}`, 'sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sysctl net.ipv4.ping_group_range in ${name}: ${r.stderr.trim()}`);
  } catch (e) {
    ns.remove();
    throw e;
  }
  return ns;
}
