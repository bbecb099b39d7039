/**
 * The cgroup view (cgroupfs.ts): the host's v1 hierarchies read from mountinfo, the
 * container's cgroup named as runc names it, /proc/<pid>/cgroup's text, and the tree
 * mounted at /sys/fs/cgroup (co-mounted controllers get runc's symlinks; the files show
 * the spec's limits).
 */
import type { Spec } from '../../../oci/config';
import { Credentials } from '../../kernel/credentials';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { mountinfoText } from '../../vfs/mountinfo';
import { MountNamespace, MS_NOSUID, MS_RDONLY } from '../../vfs/mount';
import { resolve } from '../../vfs/path';
import { Tmpfs } from '../tmpfs/tmpfs';
import { buildCgroupView, containerCgroupPath, hostCgroupDir, mountCgroupTree, parseHierarchies, procCgroupText } from './cgroupfs';

const MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
  '32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd',
  '35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct',
  '36 30 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory',
  '37 30 0:33 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids',
  '',
].join('\n');

const RUNTIME_CGROUP = '5:pids:/user.slice\n4:memory:/user.slice\n3:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n';

describe('cgroup view', () => {
  test('the host hierarchies, in mount order, with their controllers and options', () => {
    expect(parseHierarchies(MOUNTINFO)).toEqual([
      { name: 'systemd', controllers: ['name=systemd'], superOptions: 'rw,xattr,name=systemd' },
      { name: 'cpu,cpuacct', controllers: ['cpu', 'cpuacct'], superOptions: 'rw,cpu,cpuacct' },
      { name: 'memory', controllers: ['memory'], superOptions: 'rw,memory' },
      { name: 'pids', controllers: ['pids'], superOptions: 'rw,pids' },
    ]);
  });

  test('a cgroup\'s host directory: the mount point and the path below the mount\'s root', () => {
    expect(hostCgroupDir(MOUNTINFO, 'memory', '/tvisor/c1')).toBe('/sys/fs/cgroup/memory/tvisor/c1');
    expect(hostCgroupDir(MOUNTINFO, 'cpu,cpuacct', '/')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(hostCgroupDir(MOUNTINFO.replace('0:32 / /sys/fs/cgroup/memory', '0:32 /outer /sys/fs/cgroup/memory'), 'memory', '/elsewhere')).toBeNull();
    expect(hostCgroupDir(MOUNTINFO, 'cpuset', '/')).toBeNull();
  });

  test('the container\'s cgroup is named as runc names it', () => {
    expect(containerCgroupPath('/user.slice', { id: 'c1', cgroupns: false })).toBe('/user.slice/c1');
    expect(containerCgroupPath('/user.slice', { id: 'c1', cgroupsPath: 'sub/c', cgroupns: false })).toBe('/user.slice/sub/c');
    expect(containerCgroupPath('/user.slice', { id: 'c1', cgroupsPath: '/abs//c', cgroupns: false })).toBe('/abs/c');
    expect(containerCgroupPath('/user.slice', { id: 'c1', cgroupns: true })).toBe('/');
    expect(containerCgroupPath('/system.slice/docker-c1.scope', { id: 'c1', cgroupsPath: 'system.slice:docker:c1', cgroupns: false, given: true })).toBe('/system.slice/docker-c1.scope');
  });

  test('/proc/<pid>/cgroup: each hierarchy\'s number and the unified line (moved: the host mounts cgroup2)', () => {
    const v = buildCgroupView(MOUNTINFO, RUNTIME_CGROUP, { id: 'c1', cgroupns: false });
    expect(procCgroupText(v)).toBe('5:pids:/user.slice/c1\n4:memory:/user.slice/c1\n3:cpu,cpuacct:/user.slice/c1\n1:name=systemd:/user.slice/session-1.scope/c1\n0::/user.slice/session-1.scope/c1\n');
    const noV2 = buildCgroupView(MOUNTINFO.split('\n').filter((l) => !l.includes('cgroup2')).join('\n'), RUNTIME_CGROUP, { id: 'c1', cgroupns: false });
    expect(procCgroupText(noV2)).toMatch(/\n0::\/user\.slice\/session-1\.scope\n$/);
  });

  test('the tree: a tmpfs, one read-only hierarchy each, symlinks for co-mounted controllers, the spec\'s limits', () => {
    const v = buildCgroupView(MOUNTINFO, RUNTIME_CGROUP, { id: 'c1', cgroupns: false });
    const rootFs = new Tmpfs(0o755);
    const ns = new MountNamespace(rootFs, 0, 'none');
    const root0 = new Credentials(0, 0);
    rootFs.root.mkdir('cg', 0o755, root0);
    const at = { mount: ns.root.mount, dentry: ns.root.dentry.child('cg', root0) };
    const k = { groups: new Map(), tasks: new Map() } as unknown as Kernel;
    const spec = { linux: { resources: { memory: { limit: 1000000 }, pids: { limit: 7 }, cpu: { shares: 256 } } } } as Spec;
    expect(mountCgroupTree(k, spec, v, ns, at, MS_RDONLY | MS_NOSUID)).toBe(true);
    const mounts = mountinfoText(ns, ns.root).split('\n').slice(1, -1).map((l) => l.split(' ').slice(3).join(' '));
    expect(mounts).toEqual([
      '/ /cg rw,nosuid - tmpfs tmpfs rw,mode=755',
      '/user.slice/session-1.scope/c1 /cg/systemd ro,nosuid - cgroup cgroup rw,xattr,name=systemd',
      '/user.slice/c1 /cg/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct',
      '/user.slice/c1 /cg/memory ro,nosuid - cgroup cgroup rw,memory',
      '/user.slice/c1 /cg/pids ro,nosuid - cgroup cgroup rw,pids',
    ]);
    const r = { root: ns.root, cwd: ns.root, creds: root0 };
    const read = (p: string) => {
      const loc = resolve(r, ns.root, p, { follow: true });
      const b = Buffer.alloc(100);
      const n = loc.dentry.inode.open(loc, 0, r.creds).read({} as Task, b, 0) as number;
      return b.subarray(0, n).toString();
    };
    expect(resolve(r, ns.root, '/cg/cpu', { follow: false }).dentry.inode.readlink()).toBe('cpu,cpuacct');
    expect(resolve(r, ns.root, '/cg/cpuacct', { follow: false }).dentry.inode.readlink()).toBe('cpu,cpuacct');
    // Limits are whole pages, as the kernel rounds them.
    expect(read('/cg/memory/memory.limit_in_bytes')).toBe('999424\n');
    expect(read('/cg/memory/memory.soft_limit_in_bytes')).toBe('9223372036854771712\n');
    expect(read('/cg/pids/pids.max')).toBe('7\n');
    expect(read('/cg/cpu,cpuacct/cpu.shares')).toBe('256\n');
    expect(read('/cg/cpu,cpuacct/cpu.cfs_quota_us')).toBe('-1\n');
    expect(read('/cg/pids/cgroup.procs')).toBe('');
  });
});
