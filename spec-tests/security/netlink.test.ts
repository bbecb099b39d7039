/**
 * NETLINK_ROUTE as a way out or a way down (program: spec-tests/security/programs/netlink-abuse.c),
 * in a network namespace made for the test (spec-tests/behaviour/netns.ts):
 *  - thousands of malformed messages, receives and options get errnos or NLMSG_ERROR, and
 *    the sandbox answers a normal dump afterwards (the sentry survives what it parses);
 *  - the sentry's own host netlink socket is not among the application's descriptors;
 *  - even with every capability in config.json, the application cannot change the
 *    namespace: each mutation answers EPERM and `ip addr`, `ip route` and `ip link` seen
 *    from the host are the same before and after. (runc, given CAP_NET_ADMIN, would let
 *    them through: tvisor's netlink is read-only by design.)
 * On the old code socket(AF_NETLINK) failed (EAFNOSUPPORT): each program printed FAIL.
 */
import { programSkipReason, runUnder, runtimeSkipReason, type RunResult } from '../behaviour/runner';
import { expectLines } from '../behaviour/compare';
import { makeTestNetns, type TestNetns } from '../behaviour/netns';

const PROGRAM = 'netlink-abuse';

let ns: TestNetns;
beforeAll(() => {
  const missing = [programSkipReason(PROGRAM), runtimeSkipReason('tvisor')].filter(Boolean);
  if (missing.length) throw new Error(`prerequisite missing: ${missing.join('; ')}`);
  ns = makeTestNetns('nlsec');
});
afterAll(() => ns?.remove());

/** ok asserts a run ended by itself with status 0 and returns its stdout. */
function ok(r: RunResult): string {
  expect({ status: r.status, timedOut: r.timedOut, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, timedOut: false, stderr: '' });
  expect(r.stdout).not.toMatch(/^FAIL/m);
  return r.stdout;
}

test('malformed and random netlink traffic gets errnos, and the sandbox answers a dump after it', () => {
  const r = runUnder('tvisor', PROGRAM, ['fuzz'], { timeoutMs: 120_000, editSpec: (s) => ns.editSpec(s) });
  expectLines(ok(r), ['dump after the fuzz: works']);
});

test("the sentry's host netlink socket is not among the application's descriptors", () => {
  const r = runUnder('tvisor', PROGRAM, ['host-fds'], { editSpec: (s) => ns.editSpec(s) });
  expectLines(ok(r), ['sockets seen: 1, netlink sockets the program did not open: 0']);
});

test('with every capability, no mutation changes the namespace', () => {
  const state = () => [ns.ip('-o', 'addr'), ns.ip('route'), ns.ip('-6', 'route'), ns.ip('-o', 'link'), ns.ip('neigh')].join('\n');
  const before = state();
  const r = runUnder('tvisor', PROGRAM, ['mutate'], {
    editSpec: (s) => {
      ns.editSpec(s);
      const all = s.process.capabilities.bounding.includes('CAP_NET_ADMIN') ? s.process.capabilities.bounding
        : [...s.process.capabilities.bounding, 'CAP_NET_ADMIN'];
      for (const set of ['bounding', 'effective', 'permitted']) s.process.capabilities[set] = all;
    },
  });
  expectLines(ok(r), [
    'veth0 and veth1 found: 1',
    'add an address: -1',
    'delete an address: -1',
    'set a link down: -1',
    'setlink down: -1',
    'delete a link: -1',
    'add a route: -1',
    'delete a route: -1',
    'add a neighbour: -1',
    'send to a multicast group: Operation not permitted',
  ]);
  expect(state()).toEqual(before);
});
