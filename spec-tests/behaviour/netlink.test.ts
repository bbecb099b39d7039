/**
 * NETLINK_ROUTE and what glibc builds on it (getifaddrs, getaddrinfo's AI_ADDRCONFIG),
 * in a network namespace with known interfaces (./netns.ts): each program runs natively
 * in it (`ip netns exec`), then under runc and tvisor given its path, and must print the
 * same, byte for byte. runsc is left out: its own network stack (--network=none here)
 * shows other interfaces.
 */
import { programBinary, runNative, runUnder, runtimeSkipReason, type RunResult } from './runner';
import { makeTestNetns, type TestNetns } from './netns';
import { expectLines } from './compare';

let ns: TestNetns;
beforeAll(() => { ns = makeTestNetns('netlink'); });
afterAll(() => ns?.remove());

function native(program: string): RunResult {
  return runNative('/usr/sbin/ip', ['netns', 'exec', ns.name, programBinary(program)]);
}

function compare(program: string, expectNative: (r: RunResult) => void): void {
  describe(program, () => {
    let n: RunResult | undefined;
    const nativeRun = (): RunResult => (n ??= native(program));
    test('native output is as expected', () => {
      const r = nativeRun();
      expect(r.stdout).not.toMatch(/^FAIL/m);
      expectNative(r);
    });
    for (const rt of ['runc', 'tvisor'] as const) {
      test(`${rt} in the same namespace prints the same`, () => {
        const reason = runtimeSkipReason(rt);
        if (reason) throw new Error(`${rt} cannot run here: ${reason}`);
        const r = runUnder(rt, program, [], { editSpec: (s) => ns.editSpec(s) });
        expect({ stdout: r.stdout, status: r.status, stderr: r.status === 0 ? '' : r.stderr })
          .toEqual({ stdout: nativeRun().stdout, status: 0, stderr: '' });
      });
    }
  });
}

compare('netlink-raw', (r) => {
  expect(r.status).toBe(0);
  expectLines(r.stdout, [
    'unbound port id: 0',
    'autobind gives the pid: 1',
    'second socket gets a negative id: 1',
    'binding a taken id: Address already in use',
    'link 1 lo type 772 flags 0x9 mtu 65536 txqlen 1000 address bytes 6',
    'dump: 3 links, done, headers carry seq, port id and NLM_F_MULTI',
    'get 1: type 16 index 1 flags-multi 0 seq-ok 1',
    'get 99999: error -19',
    'poll before the request 0x4, after it 0x5',
    'peek with MSG_TRUNC returns the whole datagram: 1',
    'short buffer: 16 bytes, MSG_TRUNC 1, from pid 0 namelen 12',
    'the rest is gone: EAGAIN',
    'sendmmsg of two gets: 2, recvmmsg: 2, answers in order: 1',
    '8-byte send: 8, reply -11',
    'unknown type: error -95',
    '1 MiB send: -1 Message too long',
    'RTM_NEWADDR: error -1',
    'RTM_NEWROUTE: error -1',
    'write of a get: 1, read of its answer: 1',
    'listen: Operation not supported',
    'accept: Operation not supported',
    'shutdown: Operation not supported',
    'SO_DOMAIN 16 SO_TYPE 3 SO_PROTOCOL 0: 0',
    'NETLINK_EXT_ACK set: 0, read back: 0 1',
    'NETLINK_EXT_ACK in 2 bytes: Invalid argument',
    'SOL_NETLINK option 99: Protocol not available',
    'protocol 31: Protocol not supported',
    'socketpair: Operation not supported',
    'NETLINK_KOBJECT_UEVENT: ok',
    '  bind to its group: ok',
    '  an event: Resource temporarily unavailable',
    'nothing left: EAGAIN',
  ]);
});

compare('netlink-ifaddrs', (r) => {
  expect(r.status).toBe(0);
  expectLines(r.stdout, [
    'lo packet flags 0x9',
    'veth0 packet flags 0x1003',
    'lo family 2 flags 0x9 addr 127.0.0.1 mask 255.0.0.0',
    'veth0 family 2 flags 0x1003 addr 10.77.0.2 mask 255.255.255.0',
    'veth0 family 10 flags 0x1003 addr fd77::2 mask ffff:ffff:ffff:ffff::',
    'getaddrinfo 10.77.0.2 AI_ADDRCONFIG: family 2 10.77.0.2',
    'done',
  ]);
});

describe('a new, empty network namespace (--network none)', () => {
  const empty = (s: any): void => {
    s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
    s.linux.namespaces.push({ type: 'network' });
  };
  test('tvisor shows only lo, as runc does', () => {
    for (const rt of ['runc', 'tvisor'] as const) {
      const reason = runtimeSkipReason(rt);
      if (reason) throw new Error(`${rt} cannot run here: ${reason}`);
    }
    const runc = runUnder('runc', 'netlink-ifaddrs', [], { editSpec: empty });
    expect(runc.status).toBe(0);
    expect(runc.stdout.split('\n').filter((l) => l.includes(' packet '))).toEqual(['lo packet flags 0x9']);
    const tvisor = runUnder('tvisor', 'netlink-ifaddrs', [], { editSpec: empty });
    expect({ stdout: tvisor.stdout, status: tvisor.status }).toEqual({ stdout: runc.stdout, status: 0 });
  });
});
