/**
 * Raw ICMP sockets (sentry/net/host/raw-icmp.ts): a C program's echo through
 * socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) and busybox's `ping`, which opens nothing else,
 * compared between a native run, runc and tvisor in the same network namespace (the
 * harness's veth namespace: its own address answers at once). With CAP_NET_RAW (Docker
 * gives it by default) the socket works; without it (runc's default spec) socket(2) is EPERM.
 */
import { makeTestNetns, type TestNetns } from './netns';
import { programBinary, runNative, runUnder, runtimeSkipReason } from './runner';

let ns: TestNetns;

beforeAll(() => {
  for (const reason of [runtimeSkipReason('runc'), runtimeSkipReason('tvisor')]) if (reason) throw new Error(reason);
  ns = makeTestNetns('tvraw');
});

afterAll(() => ns?.remove());

/** withNetRaw puts the container in the namespace and adds CAP_NET_RAW to every set, as Docker's default does. */
function withNetRaw(spec: any): void {
  ns.join(spec);
  const caps = spec.process.capabilities;
  for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...new Set([...(caps[set] ?? []), 'CAP_NET_RAW'])];
}

/** withoutNetRaw is the namespace with the spec's capabilities as they are (runc's default: no CAP_NET_RAW). */
function withoutNetRaw(spec: any): void {
  ns.join(spec);
  const caps = spec.process.capabilities;
  for (const set of Object.keys(caps)) caps[set] = caps[set].filter((c: string) => c !== 'CAP_NET_RAW');
}

describe('raw ICMP sockets', () => {
  let native = '';

  it('natively: an echo through a raw socket shows the IPv4 header and the reply', () => {
    const r = runNative('/usr/bin/nsenter', [`--net=${ns.path}`, programBinary('raw-ping'), ns.ip4], { timeoutMs: 30_000 });
    expect(r.status).toBe(0);
    native = r.stdout;
    expect(native).toBe([
      'SO_TYPE SOCK_RAW, SO_PROTOCOL 1',
      `received 44 bytes from ${ns.ip4} (port 0)`,
      `ip: version 4, header 20, total length matches, protocol 1, ttl 64, ${ns.ip4} -> ${ns.ip4}, checksum valid`,
      'icmp: type 0, code 0, id 0x1234, seq 1, checksum valid, payload matches',
      'recv 10 with MSG_TRUNC: 44',
      'ICMP_FILTER reads back: all dropped',
      'filtered reply: EAGAIN',
      '',
    ].join('\n'));
  });

  for (const rt of ['runc', 'tvisor'] as const) {
    it(`${rt} with CAP_NET_RAW prints the same as native`, () => {
      const r = runUnder(rt, 'raw-ping', [ns.ip4], { editSpec: withNetRaw, timeoutMs: 60_000 });
      expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: native, status: 0 });
    });

    it(`${rt} without CAP_NET_RAW refuses the socket with EPERM`, () => {
      const r = runUnder(rt, 'raw-ping', [ns.ip4], { editSpec: withoutNetRaw, timeoutMs: 60_000 });
      expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: 'socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): EPERM\n', status: 0 });
    });
  }

  it('sends only echo requests (documented difference): other ICMP messages are EPERM, short ones EINVAL; runc sends both', () => {
    const r = runUnder('tvisor', 'raw-ping', [ns.ip4, 'other'], { editSpec: withNetRaw, timeoutMs: 60_000 });
    const runc = runUnder('runc', 'raw-ping', [ns.ip4, 'other'], { editSpec: withNetRaw, timeoutMs: 60_000 });
    expect(runc.stdout).toBe('SO_TYPE SOCK_RAW, SO_PROTOCOL 1\ntimestamp request: sent\n4-byte message: sent\n');
    expect(r.stdout).toBe('SO_TYPE SOCK_RAW, SO_PROTOCOL 1\ntimestamp request: EPERM\n4-byte message: EINVAL\n');
  });

  it('busybox ping under tvisor prints what it prints under runc', () => {
    const out: Record<string, string> = {};
    for (const rt of ['runc', 'tvisor'] as const) {
      const r = runUnder(rt, undefined, ['/bin/busybox', 'ping', '-c', '2', '-W', '5', ns.ip4], { editSpec: withNetRaw, timeoutMs: 60_000 });
      expect(r.status).toBe(0);
      // Round-trip times differ from run to run: compare everything else.
      out[rt] = r.stdout.replace(/time=[0-9.]+ ms/g, 'time=T ms').replace(/= [0-9.]+\/[0-9.]+\/[0-9.]+ ms/, '= T ms');
    }
    expect(out.runc).toContain('2 packets transmitted, 2 packets received, 0% packet loss');
    expect(out.tvisor).toBe(out.runc);
  });
});
