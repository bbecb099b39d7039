/**
 * The container's cgroups as Debian's tools see them under tvisor and under runc, on this
 * cgroup v1 host: /sys/fs/cgroup is a tmpfs holding one read-only hierarchy per host
 * hierarchy, with the same names, modes, mount options and mountinfo roots (the
 * container's cgroup as runc names it: `<runtime's cgroup>/<id>`, "/" in a cgroup
 * namespace); the limits config.json sets read back from the cgroup files
 * (memory.limit_in_bytes, pids.max, cpu.shares, cpu.cfs_quota_us, ...); pids.current counts
 * the container's tasks; writes and new cgroups are refused as on a read-only mount (and a
 * new name in /sys, EROFS as well: sysfs, unlike proc, has negative dentries); and
 * /proc/self/cgroup names the same paths. The container ids of the two runs differ and are
 * replaced by {id}.
 */
import { runDebian } from './image';

const RESOURCES = (spec: any) => {
  spec.linux.resources = {
    ...spec.linux.resources,
    memory: { limit: 256 * 1024 * 1024, reservation: 128 * 1024 * 1024 },
    pids: { limit: 100 },
    cpu: { shares: 512, quota: 50000, period: 100000 },
  };
};

const CGROUPNS = (spec: any) => {
  RESOURCES(spec);
  spec.linux.namespaces.push({ type: 'cgroup' });
};

/** sameAsRunc runs the script under both runtimes and compares the outputs, container ids replaced. */
function sameAsRunc(script: string, editSpec: (spec: any) => void): string {
  const norm = (s: string) => s.replace(/behaviour-\d+-\d+/g, '{id}');
  const runc = runDebian('runc', script, { editSpec, work: false });
  expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
  const tvisor = runDebian('tvisor', script, { editSpec, work: false });
  expect({ stdout: norm(tvisor.stdout), stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: norm(runc.stdout), stderr: '', status: 0 });
  return norm(runc.stdout);
}

const FILES = [
  'memory/memory.limit_in_bytes', 'memory/memory.soft_limit_in_bytes', 'memory/memory.oom_control',
  'pids/pids.max', 'cpu/cpu.shares', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpuset/cpuset.cpus', 'cpuset/cpuset.mems',
  'freezer/freezer.state', 'memory/notify_on_release', 'devices/cgroup.clone_children',
];

describe('/sys/fs/cgroup and /proc/self/cgroup under tvisor match runc', () => {
  test('the tree, its mounts, the limits read back, and the refusals', () => {
    const out = sameAsRunc(['{',
      // (.. is sysfs's /sys/fs, whose entries differ: not compared here)
      'ls -la /sys/fs/cgroup | tail -n +2 | awk \'$NF != ".." {print $1, $2, $NF}\'',
      'grep " /sys/fs/cgroup" /proc/self/mountinfo | cut -d" " -f4-',
      'cat /proc/self/cgroup',
      `for f in ${FILES.join(' ')}; do echo "$f: $(cat /sys/fs/cgroup/$f | tr '\\n' ' ')"; done`,
      'stat -f -c %t /sys/fs/cgroup/memory /sys/fs/cgroup',
      'stat -c "%a %n" /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids/pids.current /sys/fs/cgroup/memory/memory.usage_in_bytes',
      'echo "pids.current: $(cat /sys/fs/cgroup/pids/pids.current)"',
      'grep -qx "$$" /sys/fs/cgroup/pids/cgroup.procs && echo "the shell is in cgroup.procs"',
      '[ "$(cat /sys/fs/cgroup/memory/memory.usage_in_bytes)" -gt 0 ] && echo "memory in use"',
      'echo 5 > /sys/fs/cgroup/pids/pids.max; mkdir /sys/fs/cgroup/pids/sub; mkdir /sys/fs/cgroup/sub; mkdir /sys/probe; true',
      '} 2>&1'].join('\n'), RESOURCES);
    expect(out).toMatch(/^memory\/memory\.limit_in_bytes: 268435456 $/m);
    expect(out).toMatch(/^pids\/pids\.max: 100 $/m);
    expect(out).toMatch(/^cpu\/cpu\.cfs_quota_us: 50000 $/m);
    expect(out).toMatch(/^\d+:pids:\/.*\{id\}$/m);
    expect(out).toMatch(/Read-only file system/);
  });

  test('in a cgroup namespace every path is "/"', () => {
    const out = sameAsRunc([
      'cat /proc/self/cgroup',
      'grep " /sys/fs/cgroup" /proc/self/mountinfo | cut -d" " -f4-',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
    ].join('\n'), CGROUPNS);
    expect(out).toMatch(/^\d+:memory:\/$/m);
  });
});
