/**
 * Network namespaces (config.json linux.namespaces, runtime-spec config-linux.md): a
 * `network` entry with a path is where the container runs, as Docker relies on; without
 * a path it gets a new one. Run on runc and tvisor alike, the process that `state`
 * reports (runc: the container's init; tvisor: the sandbox, i.e. the sentry) must be in
 * that namespace. tvisor's own rules on top (runtime/sandbox/netns.ts): the gofer is
 * never in the host's namespace, `--network host` keeps the sentry in it, and a path
 * that does not exist is one error line with nothing left behind.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from './harness';

const REPO = path.resolve(__dirname, '..', '..');
const TVISOR = path.join(REPO, 'bin', 'tvisor');
const usable = process.getuid?.() === 0 && fs.existsSync(BUSYBOX) && fs.existsSync(TVISOR) && fs.existsSync('/usr/sbin/ip');
const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]];

const netnsOf = (pid: number | string) => fs.statSync(`/proc/${pid}/ns/net`).ino;
const hostNetns = () => netnsOf('self');

/** withNetns runs fn with a fresh named network namespace (ip netns), removed after. */
function withNetns<T>(fn: (nsPath: string) => T): T {
  const name = `tvisor-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add: ${add.stderr}`);
  try {
    return fn(`/run/netns/${name}`);
  } finally {
    spawnSync('ip', ['netns', 'delete', name]);
  }
}

function withNetworkNs(nsPath?: string) {
  return (s: any) => {
    s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
    s.linux.namespaces.push(nsPath ? { type: 'network', path: nsPath } : { type: 'network' });
  };
}

(usable ? describe.each(RUNTIMES) : describe.skip.each(RUNTIMES))('%s network namespace', (name, bin) => {
  let rt: OciRuntime;
  beforeEach(() => { rt = new OciRuntime(name, bin); });
  afterEach(() => { rt.cleanup(); });

  test('a namespace path is where the container runs', () => {
    withNetns((nsPath) => {
      const bundle = rt.bundle('b', ['sleep', '100'], withNetworkNs(nsPath));
      const r = rt.run('create', '--bundle', bundle, 'n1');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const pid = rt.state('n1')!.pid;
      expect(netnsOf(pid)).toBe(fs.statSync(nsPath).ino);
      expect(rt.run('delete', '--force', 'n1').status).toBe(0);
    });
  });

  test('a network entry without a path gives a new namespace, not the host\'s', () => {
    const bundle = rt.bundle('b', ['sleep', '100'], withNetworkNs());
    expect(rt.run('create', '--bundle', bundle, 'n2').status).toBe(0);
    expect(netnsOf(rt.state('n2')!.pid)).not.toBe(hostNetns());
    expect(rt.run('delete', '--force', 'n2').status).toBe(0);
  });
});

(usable ? describe : describe.skip)('tvisor network namespace rules', () => {
  let rt: OciRuntime;
  beforeEach(() => { rt = new OciRuntime('tvisor', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('the gofer is never in the host\'s namespace, even with --network host; the sentry is then', () => {
    const bundle = rt.bundle('b', ['sleep', '100'], withNetworkNs());
    expect(rt.run('--network', 'host', 'create', '--bundle', bundle, 'h1').status).toBe(0);
    const sentry = rt.state('h1')!.pid as number;
    expect(netnsOf(sentry)).toBe(hostNetns());
    // The gofer shares the sandbox's cgroup: it is the Node process there that is not the sentry.
    const cgroupLine = fs.readFileSync(`/proc/${sentry}/cgroup`, 'utf8').split('\n').find((l) => /:pids:/.test(l))!;
    const procs = fs.readFileSync(path.join('/sys/fs/cgroup/pids', cgroupLine.split(':')[2], 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    const gofers = procs.filter((p) => p !== sentry && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('\0gofer\0'));
    expect(gofers).toHaveLength(1);
    expect(netnsOf(gofers[0])).not.toBe(hostNetns());
    expect(rt.run('delete', '--force', 'h1').status).toBe(0);
  });

  test('a namespace path that does not exist is one error line (runc\'s text), and nothing is left', () => {
    const bundle = rt.bundle('b', ['true'], withNetworkNs('/run/netns/does-not-exist-here'));
    const r = rt.run('create', '--bundle', bundle, 'x1');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tvisor: namespace path: lstat /run/netns/does-not-exist-here: no such file or directory\n');
    expect(fs.existsSync(rt.root) ? fs.readdirSync(rt.root) : []).toEqual([]);
  });
});
