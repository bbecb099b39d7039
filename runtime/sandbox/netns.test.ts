import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { reap, spawnProcess } from '../../native/spawn';
import { inNetns, netSysctls, sentryNet } from './netns';

const isRoot = process.getuid?.() === 0;
const ino = (p: string) => fs.statSync(p).ino;

async function childNetns(target: Parameters<typeof inNetns>[0]): Promise<number> {
  const pid = inNetns(target, () => spawnProcess({ file: '/bin/sleep', argv: ['sleep', '5'], env: {}, fds: [null, null, null] }));
  try {
    return ino(`/proc/${pid}/ns/net`);
  } finally {
    process.kill(pid, 'SIGKILL');
    while (reap(pid) === undefined) await new Promise((r) => setTimeout(r, 2));
  }
}

(isRoot ? describe : describe.skip)('inNetns', () => {
  test('a new namespace for what it spawns; the calling thread comes back to its own', async () => {
    const before = ino('/proc/thread-self/ns/net');
    const child = await childNetns({ kind: 'new' });
    expect(child).not.toBe(before);
    expect(ino('/proc/thread-self/ns/net')).toBe(before);
  });
  test('a path is joined; host leaves things as they are', async () => {
    const own = ino('/proc/thread-self/ns/net');
    const name = `tvisor-netns-test-${process.pid}`;
    expect(spawnSync('ip', ['netns', 'add', name]).status).toBe(0);
    try {
      expect(await childNetns({ kind: 'path', path: `/run/netns/${name}` })).toBe(ino(`/run/netns/${name}`));
    } finally {
      spawnSync('ip', ['netns', 'delete', name]);
    }
    expect(await childNetns({ kind: 'host' })).toBe(own);
    expect(ino('/proc/thread-self/ns/net')).toBe(own);
  });
  test('a new namespace is set up as Docker\'s: lo up, unprivileged ports from 0, ping sockets for all', () => {
    const seen = inNetns({ kind: 'new' }, () => ({
      lo: spawnSync('ip', ['-o', 'link', 'show', 'lo'], { encoding: 'utf8' }).stdout,
      port: fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim(),
      ping: fs.readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/),
    }));
    expect(seen.lo).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    expect(seen.port).toBe('0');
    expect(seen.ping).toEqual(['0', '2147483647']);
  });
  test('an empty namespace is left as created (the gofer\'s): lo down', () => {
    const lo = inNetns({ kind: 'empty' }, () => spawnSync('ip', ['-o', 'link', 'show', 'lo'], { encoding: 'utf8' }).stdout);
    expect(lo).toMatch(/<LOOPBACK>/);
  });
  test('config.json\'s net.* sysctls are written in the namespace joined, not in the host\'s', () => {
    const name = `tvisor-netns-sysctl-${process.pid}`;
    const host = fs.readFileSync('/proc/sys/net/ipv4/ip_default_ttl', 'utf8');
    expect(spawnSync('ip', ['netns', 'add', name]).status).toBe(0);
    try {
      const spec = { ociVersion: '1.0.2', linux: { sysctl: { 'net.ipv4.ip_default_ttl': '33', 'kernel.msgmax': '9000' } } };
      const ttl = inNetns({ kind: 'path', path: `/run/netns/${name}` }, () => fs.readFileSync('/proc/sys/net/ipv4/ip_default_ttl', 'utf8').trim(), netSysctls(spec as never));
      expect(ttl).toBe('33');
    } finally {
      spawnSync('ip', ['netns', 'delete', name]);
    }
    expect(fs.readFileSync('/proc/sys/net/ipv4/ip_default_ttl', 'utf8')).toBe(host);
  });
  test('a path that is not a network namespace is one clear error, and the thread stays home', () => {
    const own = ino('/proc/thread-self/ns/net');
    expect(() => inNetns({ kind: 'path', path: '/proc/self/ns/uts' }, () => 0)).toThrow('cannot enter network namespace /proc/self/ns/uts: setns /proc/self/ns/uts: EINVAL');
    expect(ino('/proc/thread-self/ns/net')).toBe(own);
  });
});

describe('sentryNet', () => {
  const spec = (ns?: object[]) => ({ ociVersion: '1.2.0', linux: ns ? { namespaces: ns } : {} }) as never;
  test('a path wins, then --network host, else a new namespace', () => {
    expect(sentryNet(spec([{ type: 'network', path: '/proc/self/ns/net' }]), 'host')).toEqual({ kind: 'path', path: '/proc/self/ns/net' });
    expect(sentryNet(spec([{ type: 'network' }]), 'host')).toEqual({ kind: 'host' });
    expect(sentryNet(spec(), 'none')).toEqual({ kind: 'new' });
  });
  test('a missing path is named', () => {
    expect(() => sentryNet(spec([{ type: 'network', path: '/nonexistent/ns' }]), 'none')).toThrow('network namespace /nonexistent/ns does not exist');
  });
});
