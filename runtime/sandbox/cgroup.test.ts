import { hostMemory } from './memory-share';
import { hostPids } from './pids-share';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupError, SandboxCgroup, cgroupInner, expandSlice, under, v1Mounts } from './cgroup';

const MiB = 1024 * 1024;
const root = process.getuid?.() === 0;
const mounts = v1Mounts();
const skip = !root ? 'not root' : !mounts.has('memory') ? 'no cgroup v1 memory hierarchy' : '';
if (skip) console.warn(`skipping cgroup v1 tests: ${skip}`);
const itV1 = skip ? it.skip : it;

const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8').trim();
/** closed waits until `c` has exited and its stdio streams are drained. */
const closed = (c: ChildProcess) => new Promise<void>((r) => c.on('close', () => r()));

function killAll(cg: SandboxCgroup): void {
  for (const pid of cg.pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

describe('cgroup paths', () => {
  it('defaults to /tvisor/<id> and keeps runc paths as given', () => {
    expect(cgroupInner('c1', undefined, false)).toBe('/tvisor/c1');
    expect(cgroupInner('c1', '/kubepods/pod1/c1', false)).toBe('/kubepods/pod1/c1');
    expect(cgroupInner('c1', 'rel/c1', false)).toBe('rel/c1');
    expect(() => cgroupInner('c1', '/a/../../etc', false)).toThrow(/must not contain "\.\."/);
  });

  it('lays out systemd slice:prefix:name paths', () => {
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(cgroupInner('c1', 'user-1000.slice:docker:abc', true)).toBe('/user.slice/user-1000.slice/docker-abc.scope');
    expect(cgroupInner('c1', undefined, true)).toBe('/system.slice/tvisor-c1.scope');
    expect(() => cgroupInner('c1', '/plain/path', true)).toThrow(CgroupError);
    expect(() => expandSlice('a--b.slice')).toThrow(/invalid systemd slice/);
  });

  it('under joins a directory and a name as path.join does', () => {
    const dirs = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/tvisor/c1', '/', '/a/', '/a//b', '/a/./b', '/a/../b', '/a/.', '/a/..', '/a/.hidden', 'rel/dir', '', '.'];
    const names = ['memory.limit_in_bytes', 'c1', '', '.', '..', 'a/b', '/abs', '...'];
    for (const d of dirs) for (const n of names) expect({ d, n, got: under(d, n) }).toEqual({ d, n, got: path.join(d, n) });
    // The usual case is a plain concatenation (no path.normalize on the way).
    expect(under('/sys/fs/cgroup/cpu,cpuacct/tvisor', 'cpu.shares')).toBe('/sys/fs/cgroup/cpu,cpuacct/tvisor/cpu.shares');
  });
});

describe('SandboxCgroup (cgroup v1)', () => {
  const id = `cgtest-${process.pid}`;
  const tvisorExisted = () => ['memory', 'cpu', 'pids'].map((c) => fs.existsSync(path.join(mounts.get(c)?.point ?? '/nonexistent', 'tvisor')));
  /** emptyTvisorLeft lists the controllers whose /tvisor is left empty though it was not there before. */
  const emptyTvisorLeft = (before: boolean[]) => ['memory', 'cpu', 'pids'].filter((c, i) => {
    const dir = path.join(mounts.get(c)?.point ?? '/nonexistent', 'tvisor');
    if (before[i] || !fs.existsSync(dir)) return false;
    return !fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
  });
  let cg: SandboxCgroup | undefined;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    if (cg) {
      killAll(cg);
      await cg.destroy();
    }
  });

  itV1('creates, limits, joins, enforces pids.max, reports stats and is destroyed', async () => {
    const before = tvisorExisted();
    cg = SandboxCgroup.create(id, undefined, {
      memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB, swappiness: 10 },
      cpu: { shares: 512, quota: 50_000, period: 100_000 },
      pids: { limit: 5 },
    });
    for (const c of ['memory', 'cpu', 'cpuacct', 'pids', 'cpuset', 'freezer']) {
      if (mounts.has(c)) expect(cg.path(c)).toBe(path.join(mounts.get(c)!.point, 'tvisor', id));
    }
    const mem = cg.path('memory')!;
    const cpu = cg.path('cpu')!;
    const pids = cg.path('pids')!;
    expect(read(mem, 'memory.limit_in_bytes')).toBe(String(hostMemory(64 * MiB)));
    expect(read(mem, 'memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
    const memsw = fs.existsSync(path.join(mem, 'memory.memsw.limit_in_bytes'));
    if (memsw) expect(read(mem, 'memory.memsw.limit_in_bytes')).toBe(String(hostMemory(96 * MiB)));
    expect(read(cpu, 'cpu.shares')).toBe('512');
    expect(read(cpu, 'cpu.cfs_quota_us')).toBe('50000');
    expect(read(cpu, 'cpu.cfs_period_us')).toBe('100000');
    expect(read(pids, 'pids.max')).toBe(String(hostPids(5)));
    const cpuset = cg.path('cpuset')!;
    expect(read(cpuset, 'cpuset.cpus')).toBe(read(mounts.get('cpuset')!.point, 'cpuset.cpus'));
    expect(read(cpuset, 'cpuset.mems')).not.toBe('');

    // A real child joins; /proc/<pid>/cgroup names our paths.
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    await new Promise((r) => sleeper.on('spawn', r));
    cg.join(sleeper.pid!);
    const procCgroup = fs.readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8');
    for (const c of ['memory', 'cpu', 'pids', 'cpuset']) expect(procCgroup).toMatch(new RegExp(`^\\d+:${c}:/tvisor/${id}$`, 'm'));
    expect(cg.pids()).toContain(sleeper.pid);

    // The same cgroup asked for again (same id under another --root) is refused, untouched.
    expect(() => SandboxCgroup.create(id, undefined, {})).toThrow(/is in use by 1 process\(es\)/);
    expect(fs.existsSync(mem)).toBe(true);
    expect(cg.pids()).toContain(sleeper.pid);

    // update changes limits in place; growing past memsw raises memsw first.
    cg.update({ memory: { limit: 128 * MiB, swap: 160 * MiB }, cpu: { shares: 256 } });
    expect(read(mem, 'memory.limit_in_bytes')).toBe(String(hostMemory(128 * MiB)));
    if (memsw) expect(read(mem, 'memory.memsw.limit_in_bytes')).toBe(String(hostMemory(160 * MiB)));
    expect(read(cpu, 'cpu.shares')).toBe('256');
    cg.update({ memory: { limit: 32 * MiB, swap: 48 * MiB } });
    expect(read(mem, 'memory.limit_in_bytes')).toBe(String(hostMemory(32 * MiB)));
    if (memsw) expect(read(mem, 'memory.memsw.limit_in_bytes')).toBe(String(hostMemory(48 * MiB)));
    cg.update({ memory: { limit: 128 * MiB, swap: 160 * MiB } });

    // A shell in the cgroup cannot fork beyond pids.max (the limit plus tvisor's own share).
    const sh = spawn('/bin/sh', ['-c', 'read go; for i in $(seq 120); do sleep 30 </dev/null >/dev/null 2>&1 & done; echo done'], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(sh);
    let err = '';
    sh.stderr!.on('data', (d) => (err += d));
    await new Promise((r) => sh.on('spawn', r));
    cg.joinTree(sh.pid!);
    const done = closed(sh);
    sh.stdin!.end('go\n');
    await done;
    expect(err).toMatch(/fork/i);
    const stats = cg.stats();
    expect(stats.pids?.limit).toBe(5);
    expect(stats.pids!.current).toBeLessThanOrEqual(hostPids(5)!);
    expect(stats.pids!.current).toBeGreaterThan(2);
    expect(stats.memory!.usage.usage).toBeGreaterThan(0);
    expect(stats.memory!.usage.limit).toBe(128 * MiB);
    expect(stats.cpu!.usage.total).toBeGreaterThan(0);

    // destroy drains and removes every directory; a second destroy is a no-op.
    killAll(cg);
    const rec = cg.record();
    await cg.destroy();
    for (const dir of Object.values(rec.paths)) expect(fs.existsSync(dir)).toBe(false);
    // The parent /tvisor goes with the last cgroup in it, unless it was there before: a
    // sandbox of a test running alongside (jest runs two files at once) may hold it.
    expect(emptyTvisorLeft(before)).toEqual([]);
    await SandboxCgroup.load(rec).destroy();
    cg = undefined;
  }, 20_000);

  itV1('set (tvisor update) puts back what it changed when a later write is refused', async () => {
    const sid = `${id}-set`;
    const s = SandboxCgroup.create(sid, undefined, { memory: { limit: 64 * MiB }, cpu: { shares: 512 }, pids: { limit: 30 } });
    try {
      const mem = s.path('memory')!;
      const cpu = s.path('cpu')!;
      const pids = s.path('pids')!;
      // memory is written before cpu.shares, which the kernel refuses (-5); pids is put back too.
      expect(() => s.set({ memory: { limit: 32 * MiB }, pids: { limit: 10 }, cpu: { shares: -5 } })).toThrow(/^cgroup cpu\.shares: cannot write -5: EINVAL$/);
      expect(read(mem, 'memory.limit_in_bytes')).toBe(String(hostMemory(64 * MiB)));
      expect(read(pids, 'pids.max')).toBe(String(hostPids(30)));
      expect(read(cpu, 'cpu.shares')).toBe('512');
      expect(s.set({ memory: { limit: 48 * MiB }, pids: { limit: -1 } })).toEqual([]);
      expect(read(mem, 'memory.limit_in_bytes')).toBe(String(hostMemory(48 * MiB)));
      expect(read(pids, 'pids.max')).toBe('max');
      expect(s.stats().pids).toEqual({ current: undefined, limit: undefined });
      expect(s.oomKills()).toBe(0);
    } finally {
      await s.destroy();
    }
  });

  itV1('rejects a bad value by file and value and leaves nothing behind', () => {
    const before = tvisorExisted();
    const bad = `${id}-bad`;
    expect(() => SandboxCgroup.create(bad, undefined, { memory: { limit: 64 * MiB }, cpu: { shares: -512 } }))
      .toThrow(/^cgroup cpu\.shares: cannot write -512: EINVAL$/);
    for (const m of mounts.values()) expect(fs.existsSync(path.join(m.point, 'tvisor', bad))).toBe(false);
    expect(tvisorExisted()).toEqual(before);
    expect(() => SandboxCgroup.create(bad, undefined, { pids: { limit: 1.5 } })).toThrow(/^cgroup pids\.max: invalid value 1\.5$/);
    for (const m of mounts.values()) expect(fs.existsSync(path.join(m.point, 'tvisor', bad))).toBe(false);
  });
});
