/**
 * /sys/class/net as programs read it, on the Debian image under runc and tvisor in one
 * network namespace (spec-tests/behaviour/netns.ts: lo, and the veth pair veth0/veth1):
 * the class directory's links, each interface's files (address, mtu, ifindex, type,
 * operstate, ...), and Python's if_nameindex, which must agree with it.
 */
import { makeTestNetns, type TestNetns } from '../behaviour/netns';
import { runDebian, type DebianRunOptions } from './image';

let ns: TestNetns;

beforeAll(() => { ns = makeTestNetns('sysnet'); });
afterAll(() => { ns?.remove(); });

function opts(inNs: boolean): DebianRunOptions {
  return {
    timeoutMs: 60_000,
    editSpec: (s) => {
      if (inNs) ns.editSpec(s);
      else if (!s.linux.namespaces.some((n: { type: string }) => n.type === 'network')) s.linux.namespaces.push({ type: 'network' });
    },
  };
}

/** compare runs a script under runc and tvisor (in the test namespace, or each in a new
 * empty one) and expects the same output and status. */
function compare(script: string, expected: string[], inNs = true): void {
  const runc = runDebian('runc', script, opts(inNs));
  expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
  for (const line of expected) expect(runc.stdout.split('\n')).toContain(line);
  const tvisor = runDebian('tvisor', script, opts(inNs));
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
}

const FILES = ['address', 'addr_len', 'broadcast', 'mtu', 'ifindex', 'iflink', 'type', 'flags', 'operstate', 'carrier',
  'tx_queue_len', 'dormant', 'link_mode', 'netdev_group', 'uevent'];

test('ls -l /sys/class/net: one link per interface of the namespace', () => {
  compare("ls /sys/class/net; for f in /sys/class/net/*; do echo \"$f -> $(readlink $f)\"; done", [
    '/sys/class/net/veth0 -> ../../devices/virtual/net/veth0',
    '/sys/class/net/lo -> ../../devices/virtual/net/lo',
  ]);
});

test("each interface's files: address, mtu, ifindex, type, operstate and the rest", () => {
  compare([
    'for i in lo veth0 veth1; do',
    `  for f in ${FILES.join(' ')}; do echo "$i $f $(cat /sys/class/net/$i/$f 2>&1)"; done`,
    'done',
    'python3 -c "import socket; print(socket.if_nameindex())"',
  ].join('\n'), [
    'veth0 address 02:00:00:77:00:02',
    'veth0 ifindex 3',
    'veth0 mtu 1500',
    'veth0 type 1',
    'veth0 operstate up',
    'lo type 772',
    "[(1, 'lo'), (2, 'veth1'), (3, 'veth0')]",
  ]);
});

test("a new namespace (runc's and tvisor's bring loopback up): only lo", () => {
  compare([
    'ls /sys/class/net /sys/devices/virtual/net',
    `for f in ${FILES.join(' ')}; do echo "lo $f $(cat /sys/class/net/lo/$f 2>&1)"; done`,
  ].join('\n'), ['lo', 'lo flags 0x9', 'lo carrier 1', 'lo uevent INTERFACE=lo'], false);
});
