/**
 * linux.sysctl: the values config.json sets are what the container reads in /proc/sys,
 * under runc and tvisor alike; a key runc refuses (its validator's rules: System V IPC
 * and mqueue keys need an IPC namespace, net.* a network namespace of its own,
 * kernel.hostname conflicts with the hostname field, anything else is not namespaced),
 * an entry that does not exist, or a key that climbs with ".." fails `create` with runc's
 * one-line message and leaves no container behind.
 */
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { OciRuntime } from './harness';

const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', path.resolve(__dirname, '../../bin/tvisor')]];

const SET = { 'kernel.domainname': 'example.org', 'kernel.shmmax': '123456', 'fs.mqueue.msg_max': '20', 'net/ipv4/ip_forward': '1' };

/** withoutNamespace drops one namespace type from the spec. */
function withoutNamespace(s: Spec, type: string): void {
  s.linux!.namespaces = (s.linux!.namespaces ?? []).filter((n) => n.type !== type);
}

/** REFUSED: [title, sysctl, spec change, runc's message (without its "runc create failed: ")]. */
const REFUSED: [string, Record<string, string>, (s: Spec) => void, string][] = [
  ['a key that is not namespaced', { 'kernel.foo': '1' }, () => {}, 'sysctl "kernel.foo" is not in a separate kernel namespace'],
  ['kernel.hostname', { 'kernel.hostname': 'x' }, () => {}, 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field'],
  ['an IPC key without an IPC namespace', { 'kernel.shmmax': '1' }, (s) => withoutNamespace(s, 'ipc'), 'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace'],
  ['a net key in the host network namespace', { 'net.ipv4.ip_forward': '1' }, (s) => withoutNamespace(s, 'network'), 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'],
  ['an entry that does not exist', { 'net.core.nope': '1' }, () => {}, 'open /proc/sys/net/core/nope: no such file or directory'],
];

describe.each(RUNTIMES)('%s: linux.sysctl', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  const id = (what: string) => `sysctl-${what}-${process.pid}`;
  afterAll(() => rt.cleanup());

  test('the values are visible in /proc/sys', () => {
    const b = rt.bundle('set', ['cat', '/proc/sys/kernel/domainname', '/proc/sys/kernel/shmmax', '/proc/sys/fs/mqueue/msg_max', '/proc/sys/net/ipv4/ip_forward'], (s) => {
      s.linux!.sysctl = SET;
    });
    const r = rt.run('run', '--bundle', b, id('set'));
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'example.org\n123456\n20\n1\n' });
  }, 60_000);

  test.each(REFUSED)('%s is refused at create with runc\'s message, nothing left behind', (what, sysctl, change, message) => {
    const b = rt.bundle(`refused-${what.replace(/\W+/g, '-')}`, ['true'], (s) => {
      change(s);
      s.linux!.sysctl = sysctl;
    });
    const cid = id(what.replace(/\W+/g, '-').slice(0, 30));
    const r = rt.run('create', '--bundle', b, cid);
    expect(r.status).not.toBe(0);
    // runc logs the message quoted (logfmt); tvisor prints it as a line.
    const text = name === 'runc' ? r.stderr.replace(/\\"/g, '"') : r.stderr;
    expect(text).toContain(message);
    if (name === 'tvisor') expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(rt.run('list', '-q').stdout).toBe('');
    expect(rt.state(cid)).toBeUndefined();
  }, 60_000);

  test('a key with ".." components is refused and leaves nothing behind', () => {
    const b = rt.bundle('dotdot', ['true'], (s) => {
      s.linux!.sysctl = { 'net.ipv4.../../../kernel/hostname': 'x' };
    });
    const r = rt.run('create', '--bundle', b, id('dotdot'));
    expect(r.status).not.toBe(0);
    expect(rt.run('list', '-q').stdout).toBe('');
  }, 60_000);
});
