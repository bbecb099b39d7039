import { hostMemory } from './memory-share';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blkioEntries, cpuList, keyed, oomKills, readCgroupStats } from './cgroup-stats';

/** tree writes a fake cgroup v1 leaf per controller, with the files given. */
function tree(root: string, files: Record<string, Record<string, string>>): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [ctl, content] of Object.entries(files)) {
    const dir = path.join(root, ctl);
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, v] of Object.entries(content)) fs.writeFileSync(path.join(dir, f), v);
    paths[ctl] = dir;
  }
  return paths;
}

test('parsers', () => {
  expect(cpuList('0-2,5,7-8\n')).toEqual([0, 1, 2, 5, 7, 8]);
  expect(cpuList('')).toEqual([]);
  expect(keyed('user 12\nsystem 3\n\nbad x\n')).toEqual({ user: 12, system: 3 });
  expect(keyed('hierarchical_memory_limit 9223372036854771712')).toEqual({ hierarchical_memory_limit: 9223372036854771712n });
  expect(blkioEntries('8:0 Read 4096\n8:0 Write 0\n8:16 512\nTotal 4096\n')).toEqual([
    { major: 8, minor: undefined, op: 'Read', value: 4096 }, { major: 8, minor: undefined, op: 'Write', value: undefined },
    { major: 8, minor: 16, op: undefined, value: 512 },
  ]);
});

describe('readCgroupStats', () => {
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-cgstats-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('reads runc\'s figures from the v1 files', () => {
    const paths = tree(tmp, {
      cpuacct: {
        'cpuacct.usage': '300\n', 'cpuacct.usage_percpu': '100 200 \n', 'cpuacct.usage_all': 'cpu user system\n0 60 40\n1 150 50\n',
        'cpuacct.stat': 'user 7\nsystem 2\n',
      },
      cpu: { 'cpu.stat': 'nr_periods 10\nnr_throttled 0\nthrottled_time 0\n' },
      cpuset: { 'cpuset.cpus': '0-1\n', 'cpuset.mems': '0\n', 'cpuset.sched_load_balance': '1\n', 'cpuset.sched_relax_domain_level': '-1\n' },
      memory: {
        'memory.usage_in_bytes': '4096\n', 'memory.max_usage_in_bytes': '8192\n', 'memory.limit_in_bytes': '9223372036854771712\n', 'memory.failcnt': '0\n',
        'memory.memsw.limit_in_bytes': `${hostMemory(134217728)}\n`, 'memory.memsw.failcnt': '1\n', 'memory.stat': 'rss 4096\ncache 0\n',
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n',
      },
      pids: { 'pids.current': '5\n', 'pids.max': 'max\n' },
      blkio: { 'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\nTotal 4096\n', 'blkio.throttle.io_serviced_recursive': '8:0 Read 1\n' },
    });
    const s = readCgroupStats(paths);
    expect(s.cpu).toEqual({
      usage: { total: 300, percpu: [100, 200], percpu_kernel: [40, 50], percpu_user: [60, 150], kernel: 20_000_000, user: 70_000_000 },
      throttling: { periods: 10, throttledPeriods: undefined, throttledTime: undefined },
    });
    expect(s.cpuset).toMatchObject({ cpus: [0, 1], mems: [0], sched_load_balance: 1, sched_relax_domain_level: -1, cpu_exclusive: 0 });
    expect(s.memory.usage).toEqual({ limit: 9223372036854771712n, usage: 4096, max: 8192, failcnt: 0 });
    expect(s.memory.swap).toEqual({ limit: 134217728, usage: undefined, max: undefined, failcnt: 1 });
    expect(s.memory.kernel).toEqual({ limit: 0, usage: undefined, max: undefined, failcnt: 0 });
    expect(s.memory.cache).toBeUndefined();
    expect(s.memory.raw).toEqual({ cache: 0, rss: 4096 });
    expect(s.pids).toEqual({ current: 5, limit: undefined });
    expect(s.blkio.ioServiceBytesRecursive).toEqual([{ major: 8, minor: undefined, op: 'Read', value: 4096 }]);
    expect(s.hugetlb).toEqual({});
    expect(s.network_interfaces).toBeNull();
    expect(Object.keys(s)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    expect(oomKills(paths.memory)).toBe(3);
  });

  test('hierarchies that are not mounted read as zero', () => {
    const s = readCgroupStats({});
    expect(s.memory.usage).toEqual({ limit: 0, usage: undefined, max: undefined, failcnt: 0 });
    expect(s.pids).toEqual({ current: undefined, limit: undefined });
    expect(oomKills(undefined)).toBeUndefined();
  });
});
