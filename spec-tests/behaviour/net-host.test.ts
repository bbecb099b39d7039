/**
 * Host-network sockets (sentry/net/host/): TCP and UDP over a real interface of the
 * container's network namespace, compared byte for byte between a native run, runc and
 * tvisor in the same namespace. The harness makes the namespace: a veth pair with an IPv4
 * and an IPv6 address, lo up, given to the containers as config.json's network namespace
 * path (runc joins it as tvisor does). runsc is not compared: its `--network=host` fails
 * on these kernels, and its netstack would not be this namespace.
 *
 * Also: the in-sentry loopback (`--network none`) still runs the existing socket programs
 * as natively, and no socket of a container is left in the namespace after its delete.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { makeTestNetns, type TestNetns } from './netns';
import { expectLines } from './compare';
import { programBinary, runNative, runUnder, runtimeSkipReason, type RunResult } from './runner';

let ns: TestNetns;
const IP4 = '10.77.0.2', IP6 = 'fd77::2';

beforeAll(() => {
  // A prerequisite missing fails here, loudly: the tests below need this namespace.
  for (const reason of [runtimeSkipReason('runc'), runtimeSkipReason('tvisor')]) if (reason) throw new Error(reason);
  ns = makeTestNetns('tvnet');
});

afterAll(() => ns?.remove());

const inNamespace = (spec: Parameters<TestNetns['join']>[0]) => ns.join(spec);

const NATIVE_LINES = [
  'non-blocking connect to a closed port: ECONNREFUSED',
  'poll of an idle listener (100 ms): 0',
  'poll with a pending connection: 1, POLLIN yes',
  'non-blocking accepted socket, empty read: EAGAIN',
  'recv past SO_RCVTIMEO: EAGAIN',
  "server read 8 'question', then 0",
  "client still reads the answer: 6 'answer', then 0",
  "MSG_PEEK 5 'hello', FIONREAD still 5",
  'read after the peer\'s reset: ECONNRESET',
  'a writer to the reset connection: Broken pipe',
  'blocked recv, then a signal without SA_RESTART: EINTR',
  'sends to a peer that does not read end at SO_SNDTIMEO: yes, after some bytes: yes',
  '64 MiB over TCP: 67108864 bytes, checksum matches, writer exit 0',
  `IPv6 ${IP6}: peer ${IP6}, length 28, got 'v6'`,
  "IPv6 ::1: peer ::1, length 28, got 'v6'",
  'udp: recvfrom 10 with MSG_TRUNC returns 100, sender is the writer: yes',
  "udp: recvmsg 2 of 'tiny': 2 'ti', MSG_TRUNC set",
  'epoll: edge-triggered, no new edge: 0',
  'epoll: peer closed: EPOLLRDHUP yes',
  "mmsg: sent 3, received 3: 1 'a', 2 'bb', 3 'ccc'",
  'SIOCGIFCONF: length asked 80, got 80',
  '  lo 127.0.0.1, index back to the name: yes, up yes',
  `  veth0 ${IP4}, index back to the name: yes, up yes`,
  'SIOCGIFCONF into an unmapped buffer: EFAULT',
  `ping ${IP4}: 16 bytes, type echo reply, payload matches`,
  `ping ${IP6}: 16 bytes, type echo reply, payload matches`,
  'setsockopt unknown SOL_SOCKET option: ENOPROTOOPT',
  'unknown ioctl: ENOTTY',
  'connect to an unmapped address: EFAULT',
  'still alive: yes',
  'done',
];

describe('net-host: TCP and UDP over a veth interface of the namespace', () => {
  let native: RunResult;

  it('native output is as expected', () => {
    native = runNative('/usr/bin/nsenter', [`--net=${ns.path}`, programBinary('net-host'), IP4, IP6], { timeoutMs: 60_000 });
    expect(native.status).toBe(0);
    expectLines(native.stdout, NATIVE_LINES);
  });

  for (const rt of ['runc', 'tvisor'] as const) {
    it(`${rt} prints the same and exits the same as native`, () => {
      const r = runUnder(rt, 'net-host', [IP4, IP6], { editSpec: inNamespace, timeoutMs: 120_000 });
      expect({ stdout: r.stdout, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ stdout: native.stdout, status: 0, stderr: '' });
    });
  }

  it('leaves no socket in the namespace after delete', () => {
    const r = spawnSync('nsenter', [`--net=${ns.path}`, 'ss', '-Htuanp', 'state', 'listening', 'state', 'established'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('');
  });
});

describe('the in-sentry loopback (--network none) runs the socket programs as natively', () => {
  for (const program of ['inet-loopback', 'unix-sockets']) {
    it(program, () => {
      const native = runNative(program);
      expect(native.status).toBe(0);
      const r = runUnder('tvisor', program, [], { flags: ['--network', 'none'] });
      expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: native.stdout, status: native.status });
    });
  }

  it('keeps the sandbox off every interface but its own loopback', () => {
    expect(fs.existsSync(ns.path)).toBe(true);
    const r = runUnder('tvisor', 'net-host', [IP4, IP6], { editSpec: inNamespace, flags: ['--network', 'none'] });
    // The program's first step binds the veth's address: the sandbox's loopback has none.
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^FAIL bind \(line \d+\): EADDRNOTAVAIL$/);
  });
});
