/**
 * netns.ts makes a network namespace with known interfaces for the tests that compare
 * what programs see of a network (netlink, getifaddrs, /proc/net) natively (through
 * `ip netns exec`), under runc and under tvisor: each container is given the namespace's
 * path in config.json's linux.namespaces, so all three see the same kernel state.
 *
 * The namespace: `lo` up, and a veth pair (no dummy driver on these kernels): `veth0` up
 * with 10.77.0.2/24 and fd77::2/64 (no duplicate address detection, so the IPv6 address
 * is usable at once) and no link-local address, its peer `veth1` up with no address, and a route to 10.88.0.0/16
 * through 10.77.0.1, a permanent neighbour 10.77.0.1; ICMP ping sockets allowed to every
 * group, as Docker sets up its containers' namespaces. Its name is unique per test process.
 * Native runs enter it with `ip netns exec NAME` or `nsenter --net=PATH`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

const IP = '/usr/sbin/ip';

/** TestNetns is a namespace made for one test file. */
export interface TestNetns {
  name: string;
  /** path is the namespace's bind mount, for config.json's linux.namespaces. */
  path: string;
  /** ip4 and ip6 are veth0's addresses. */
  ip4: string;
  ip6: string;
  /** editSpec puts a container in the namespace (a RunOptions.editSpec). */
  editSpec(spec: any): void;
  /** ip runs `ip -n NAME ARGS...` on the host side and returns its output. */
  ip(...args: string[]): string;
  /** join is editSpec under the name the socket tests use. */
  join(spec: any): void;
  remove(): void;
}

/** makeTestNetns creates the namespace; it throws (the test fails) when `ip` cannot. */
export function makeTestNetns(tag: string): TestNetns {
  if (!fs.existsSync(IP)) throw new Error(`${IP} is missing: install iproute2`);
  const name = `tvisor-${tag}-${process.pid}`;
  const run = (...args: string[]): string => execFileSync(IP, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  run('netns', 'add', name);
  try {
    run('-n', name, 'link', 'set', 'lo', 'up');
    run('-n', name, 'link', 'add', 'veth0', 'address', '02:00:00:77:00:02', 'type', 'veth', 'peer', 'name', 'veth1',
      'address', '02:00:00:77:00:01');
    run('-n', name, 'addr', 'add', '10.77.0.2/24', 'dev', 'veth0');
    run('-n', name, 'addr', 'add', 'fd77::2/64', 'dev', 'veth0', 'nodad');
    // No link-local addresses: their duplicate address detection would change their
    // flags between one run and the next.
    run('-n', name, 'link', 'set', 'veth0', 'addrgenmode', 'none');
    run('-n', name, 'link', 'set', 'veth1', 'addrgenmode', 'none');
    run('-n', name, 'link', 'set', 'veth1', 'up');
    run('-n', name, 'link', 'set', 'veth0', 'up');
    run('-n', name, 'route', 'add', '10.88.0.0/16', 'via', '10.77.0.1');
    run('-n', name, 'neigh', 'add', '10.77.0.1', 'lladdr', '02:00:00:77:00:01', 'dev', 'veth0', 'nud', 'permanent');
    run('netns', 'exec', name, 'sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647');
  } catch (e) {
    run('netns', 'delete', name);
    throw e;
  }
  const path = `/run/netns/${name}`;
  const editSpec = (spec: any): void => {
    spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
    spec.linux.namespaces.push({ type: 'network', path });
  };
  return {
    name,
    path,
    ip4: '10.77.0.2',
    ip6: 'fd77::2',
    editSpec,
    join: editSpec,
    ip: (...args: string[]) => run('-n', name, ...args),
    remove(): void {
      try { run('netns', 'delete', name); } catch { /* already gone */ }
    },
  };
}
