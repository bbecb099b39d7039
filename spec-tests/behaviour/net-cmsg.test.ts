/**
 * Ancillary data on host UDP sockets (sentry/net/host/cmsg.ts): IP_PKTINFO, IP_RECVTTL,
 * IP_RECVTOS and their IPv6 forms on receive, IP_PKTINFO and IP_TTL on send, MSG_CTRUNC,
 * an unknown control message (EINVAL): a C program compared byte for byte between a
 * native run, runc and tvisor in the same network namespace (the harness's veth pair).
 */
import { makeTestNetns, type TestNetns } from './netns';
import { expectLines } from './compare';
import { programBinary, runNative, runUnder, runtimeSkipReason } from './runner';

let ns: TestNetns;

beforeAll(() => {
  for (const reason of [runtimeSkipReason('runc'), runtimeSkipReason('tvisor')]) if (reason) throw new Error(reason);
  ns = makeTestNetns('tvcmsg');
});

afterAll(() => ns?.remove());

describe('UDP ancillary data', () => {
  let native = '';

  it('natively: destination, TTL and TOS of each datagram; answers from the address asked', () => {
    const r = runNative('/usr/bin/nsenter', [`--net=${ns.path}`, programBinary('udp-cmsg'), ns.ip4, ns.ip6], { timeoutMs: 30_000 });
    expect(r.status).toBe(0);
    native = r.stdout;
    expectLines(native, [
      `server got a datagram sent to ${ns.ip4}:`,
      "  5 bytes 'query'",
      `  IP_PKTINFO: to ${ns.ip4} on veth0`,
      '  IP_TTL: 64',
      '  IP_TOS: 0x10',
      '  3 control messages',
      `client got 'answer' from ${ns.ip4} (the address it asked: yes)`,
      'server, a datagram sent with IP_TTL 5, control room for two messages:',
      "  4 bytes 'ttl5', MSG_CTRUNC",
      `  IP_PKTINFO: to ${ns.ip4} on veth0`,
      '  IP_TTL: 5',
      '  2 control messages',
      'sendmsg with SOL_SOCKET/SO_TIMESTAMP: EINVAL',
      `IPv6 server got a datagram sent to ${ns.ip6}:`,
      "  3 bytes 'six'",
      `  IPV6_PKTINFO: to ${ns.ip6} on veth0`,
      '  IPV6_HOPLIMIT: 64',
      '  IPV6_TCLASS: 0x00',
      '  3 control messages',
      'done',
    ]);
  });

  for (const rt of ['runc', 'tvisor'] as const) {
    it(`${rt} prints the same as native`, () => {
      const r = runUnder(rt, 'udp-cmsg', [ns.ip4, ns.ip6], { editSpec: (spec) => ns.join(spec), timeoutMs: 60_000 });
      expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: native, status: 0 });
    });
  }
});
