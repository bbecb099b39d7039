import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { reap, spawnProcess } from '../../native/spawn';
import { inNetns, sentryNet } from './netns';

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
