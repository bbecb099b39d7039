/**
 * update, events and process.oomScoreAdj, against Debian's runc (the reference) and
 * tvisor, on a busybox bundle: the same `update` sequence must change the container's
 * cgroup v1 files the same way (and a refused value must change nothing), `events
 * --stats` must give runc's JSON shape with sane figures, and the oom_score_adj of the
 * state's pid must be config.json's.
 *
 * The cgroup holds runc's container processes but tvisor's sandbox host processes (sentry,
 * gofer, stubs): figures differ in magnitude, not in shape. Ids are unique per run, as a
 * cgroup path (/<id> for runc, /tvisor/<id> for tvisor) is shared by every --root.
 */
import { hostMemory } from '../../runtime/sandbox/memory-share';
import { hostPids } from '../../runtime/sandbox/pids-share';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ownCgroups, v1Mounts } from '../../runtime/sandbox/cgroup';
import { BUSYBOX, OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;
const mounts = v1Mounts();

/** skipReason returns why a runtime cannot be tested here, or undefined when it can. */
function skipReason(bin: string): string | undefined {
  if (!isRoot) return 'needs root (cgroups, namespaces)';
  if (!mounts.has('memory') || !mounts.has('pids') || !mounts.has('cpu')) return 'needs cgroup v1 memory, cpu and pids hierarchies';
  if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} is missing (install busybox-static)`;
  if (!fs.existsSync(bin)) return `${bin} is missing (run make)`;
  return undefined;
}

/** cgroupDir is `pid`'s leaf directory in the hierarchy of `controller`. */
function cgroupDir(pid: number, controller: string): string {
  const m = mounts.get(controller)!;
  const inner = ownCgroups(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).get(controller)!;
  return path.join(m.point, path.relative(m.root, inner));
}

const FILES = {
  memory: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes'],
  cpu: ['cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us'],
  pids: ['pids.max'],
};

/** limits reads the cgroup files update writes, as "controller/file" -> content. */
function limits(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [ctl, files] of Object.entries(FILES)) {
    for (const f of files) {
      const p = path.join(cgroupDir(pid, ctl), f);
      if (fs.existsSync(p)) out[f] = fs.readFileSync(p, 'utf8').trim();
    }
  }
  return out;
}

/** keyPaths lists an object's key paths down to `depth`, leaving out runc's omitempty leaves. */
function keyPaths(v: unknown, depth: number, prefix = ''): string[] {
  if (depth === 0 || v === null || typeof v !== 'object' || Array.isArray(v)) return [];
  const out: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = `${prefix}${k}`;
    // Left out when zero by runc's JSON tags, so present or not by value: the page cache,
    // CFS throttling, block I/O lines.
    if (['memory.cache', 'cpu.throttling', 'blkio'].some((o) => p === o || p.startsWith(`${o}.`))) continue;
    out.push(p, ...keyPaths(x, depth - 1, `${p}.`));
  }
  return out.sort();
}

const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]];
/** shapes collects each runtime's `events --stats` key paths for the comparison at the end. */
const shapes = new Map<string, string[]>();

describe.each(RUNTIMES)('%s update and events', (name, bin) => {
  const reason = skipReason(bin);
  if (reason) {
    test.skip(`skipped: ${reason}`, () => {});
    return;
  }
  const rt = new OciRuntime(name, bin);
  // tvisor's host cgroup holds the container's memory limit plus the sandbox's own share.
  const hostOf = (limit: number) => (name === 'tvisor' ? hostMemory(limit)! : limit);
  // And its pids.max, the container's limit plus tvisor's own host threads.
  const hostPidsOf = (limit: number) => (name === 'tvisor' ? hostPids(limit)! : limit);
  const id = `ue-${name}-${process.pid}`;
  afterAll(() => rt.cleanup());

  test('process.oomScoreAdj reaches the process named by state.pid', () => {
    const bundle = rt.bundle('oom', ['sleep', '100'], (s) => { s.process!.oomScoreAdj = 123; });
    const oid = `${id}-oom`;
    expect(rt.run('create', '--bundle', bundle, oid).status).toBe(0);
    try {
      const pid = rt.state(oid)!.pid as number;
      expect(fs.readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim()).toBe('123');
    } finally {
      rt.run('delete', '--force', oid);
    }
  });

  test('update changes the cgroup files; refused values change nothing; events --stats has runc\'s shape', () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    expect(rt.run('create', '--bundle', bundle, id).status).toBe(0);
    expect(rt.run('start', id).status).toBe(0);
    const pid = rt.state(id)!.pid as number;
    const memsw = fs.existsSync(path.join(cgroupDir(pid, 'memory'), 'memory.memsw.limit_in_bytes'));

    let r = rt.run('update', '--memory', '256m', '--memory-swap', '512m', '--memory-reservation', '128m',
      '--cpu-share', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--pids-limit', '200', id);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const set = limits(pid);
    expect(set).toMatchObject({
      'memory.limit_in_bytes': String(hostOf(256 * MiB)), 'memory.soft_limit_in_bytes': String(128 * MiB),
      'cpu.shares': '512', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '50000', 'pids.max': String(hostPidsOf(200)),
    });
    if (memsw) expect(set['memory.memsw.limit_in_bytes']).toBe(String(hostOf(512 * MiB)));

    // Above memory+swap (the kernel refuses it), not a size, not a number: all refused, nothing changed.
    if (memsw) {
      r = rt.run('update', '--memory', '1.5g', id);
      expect(r.status).not.toBe(0);
      expect(limits(pid)).toEqual(set);
    }
    for (const bad of [['--memory', 'abc'], ['--cpu-share', '-5'], ['--pids-limit', 'x']]) {
      r = rt.run('update', ...bad, id);
      expect(r.status).not.toBe(0);
      expect(r.stderr).not.toBe('');
      expect(limits(pid)).toEqual(set);
    }

    // -r FILE: JSON linux.resources; the other flags are then ignored.
    const res = path.join(rt.dir, 'resources.json');
    fs.writeFileSync(res, JSON.stringify({ memory: { limit: 192 * MiB }, cpu: { shares: 300 } }));
    expect(rt.run('update', '-r', res, '--cpu-share', '700', id).status).toBe(0);
    expect(limits(pid)).toEqual({ ...set, 'memory.limit_in_bytes': String(hostOf(192 * MiB)), 'cpu.shares': '300' });
    expect(rt.run('update', '--pids-limit', '-1', id).status).toBe(0);
    expect(limits(pid)['pids.max']).toBe('max');

    r = rt.run('events', '--stats', id);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const e = JSON.parse(lines[0]);
    expect(e.type).toBe('stats');
    expect(e.id).toBe(id);
    const d = e.data;
    expect(d.pids.current).toBeGreaterThanOrEqual(1);
    expect(d.pids.limit).toBeUndefined();
    expect(d.memory.usage.usage).toBeGreaterThan(0);
    expect(d.memory.usage.limit).toBe(192 * MiB);
    expect(d.memory.usage.max).toBeGreaterThanOrEqual(d.memory.usage.usage);
    expect(d.cpu.usage.total).toBeGreaterThan(0);
    expect(d.cpu.usage.percpu.length).toBe(d.cpuset.cpus.length);
    expect(Object.keys(d.memory.raw)).toContain('rss');
    shapes.set(name, keyPaths(d, 3));

    expect(rt.run('events', '--stats', 'nosuch').stderr).toMatch(/does not exist/);
    expect(rt.run('events', '--interval', '0s', id).status).not.toBe(0);
  });

  test('events without --stats prints a stats line each interval', async () => {
    const child = spawn(bin, ['--root', rt.root, 'events', '--interval', '200ms', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.split('\n').length > 2) resolve();
      });
      child.on('exit', () => reject(new Error(`events exited early: ${out}`)));
    });
    const [first, second] = out.split('\n').map((l) => (l ? JSON.parse(l) : undefined));
    expect(first).toMatchObject({ type: 'stats', id });
    expect(second).toMatchObject({ type: 'stats', id });
    // runc 1.1 keeps printing after the container stops (until it is deleted); tvisor's loop
    // ends with status 0 once the container has stopped.
    expect(rt.run('kill', id, 'KILL').status).toBe(0);
    await rt.waitStatus(id, 'stopped');
    if (name === 'tvisor') expect(await exited).toBe(0);
    else child.kill('SIGKILL');
  });

  test('a stopped container can be neither updated nor sampled', () => {
    const u = rt.run('update', '--memory', '64m', id);
    expect(u.status).not.toBe(0);
    expect(u.stderr).toMatch(/container not running/);
    const e = rt.run('events', '--stats', id);
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(new RegExp(`container with id ${id} is not running`));
    expect(rt.run('update', '--memory', '64m', 'nosuch').stderr).toMatch(/does not exist/);
  });
});

const skipped = RUNTIMES.map(([n, bin]) => [n, skipReason(bin)]).filter(([, why]) => why);
(skipped.length ? test.skip : test)(`tvisor events --stats has the keys of runc's${skipped.length ? ` (skipped: ${skipped.map((x) => x.join(': ')).join('; ')})` : ''}`, () => {
  expect(shapes.get('runc')).toBeDefined();
  expect(shapes.get('tvisor')).toEqual(shapes.get('runc'));
});
