/**
 * cgroupfs: /sys/fs/cgroup as runc mounts it on a cgroup v1 host, and /proc/<pid>/cgroup.
 *
 * runc mounts a tmpfs at the spec's cgroup mount point and, in it, one cgroup v1 hierarchy
 * per hierarchy its host has mounted (named after the host's mount point: cpu, memory,
 * pids, systemd for name=systemd, "cpu,cpuacct" with cpu and cpuacct symlinks when
 * co-mounted), each a bind of the container's own cgroup, read-only as the spec's mount
 * options say. The sandbox shows the same tree, with the same names, mount options and
 * mountinfo roots, but each hierarchy is a view the sentry generates from its own state:
 * the container's processes (cgroup.procs, tasks), the limits config.json set (which the
 * runtime applied to the sandbox's host cgroup: memory.limit_in_bytes, pids.max,
 * cpu.shares, cpu.cfs_*), and the sentry's measurements (memory.usage_in_bytes,
 * pids.current, cpuacct.*). A file the sentry has no real value for is absent, never made
 * up (memory.stat, cpu.stat, blkio.*, devices.list, ...).
 *
 * The container's cgroup path is named as runc names it (libcontainer's cgroupfs paths):
 * an absolute linux.cgroupsPath as it is, a relative one under the caller's own cgroup of
 * each hierarchy, and none as `<caller's cgroup>/<container id>`; "/" in every hierarchy
 * under a cgroup namespace; a systemd "slice:prefix:name" one as the sandbox's own host
 * cgroups (the runtime lays them out as runc's systemd driver does). The caller is the runtime process that started the sentry
 * (its parent), whose cgroups are read at boot, before the sentry is confined. The
 * sandbox's host processes themselves sit in tvisor's own cgroup (runtime/sandbox/cgroup.ts),
 * which the container does not see.
 *
 * Not built: a cgroup v2 host (no v1 hierarchy mounted) keeps boot's empty placeholder at
 * the mount point.
 */
import * as path from 'node:path';
import type { Spec } from '../../../oci/config';
import { hostFile } from '../../kernel/host-files';
import type { Kernel } from '../../kernel/kernel';
import { Credentials } from '../../kernel/credentials';
import { groupTimes } from '../../kernel/cputime';
import { formatCpuList, sandboxCpus } from '../../kernel/cpus';
import { memoryUse, sandboxMemory } from '../../mm/oom';
import type { Inode, StatFs } from '../../vfs/inode';
import { MS_RDONLY, Superblock, type Location, type MountNamespace } from '../../vfs/mount';
import { ProcDir, ProcFile, ProcFs } from '../proc/nodes';
import { allocDev, Tmpfs } from '../tmpfs/tmpfs';

/** Hierarchy is one cgroup v1 hierarchy of the host, as runc's container shows it. */
export interface Hierarchy {
  /** name is the directory under /sys/fs/cgroup (the host mount point's last component). */
  name: string;
  /** controllers are the hierarchy's controllers ("name=systemd" for a named one). */
  controllers: string[];
  /** superOptions are the options mountinfo shows for the hierarchy ("rw,cpu"). */
  superOptions: string;
  /** path is the container's cgroup in this hierarchy, as runc names it. */
  path: string;
}

/** CgroupView is what the container sees of its cgroups: one per host hierarchy, and the
 * unified (v2) line of /proc/<pid>/cgroup. */
export interface CgroupView {
  hierarchies: Hierarchy[];
  /** unifiedPath is the path on /proc/<pid>/cgroup's "0::" line, or null when the host shows none. */
  unifiedPath: string | null;
  /** hierarchyIds are the hierarchy numbers of /proc/<pid>/cgroup by controller list ("cpu,cpuacct"). */
  hierarchyIds: Map<string, number>;
  /** cgroupns: the container has its own cgroup namespace. */
  cgroupns: boolean;
  /** cpusetMems is the memory nodes of the sandbox's host cpuset cgroup (null: unknown). */
  cpusetMems?: string | null;
}

/** CGROUP_SUPER_MAGIC is statfs's f_type of a cgroup v1 file system. */
const CGROUP_SUPER_MAGIC = 0x27e0eb;
/** UNLIMITED_BYTES is what a v1 memory file shows for no limit (PAGE_COUNTER_MAX pages on x86-64). */
const UNLIMITED_BYTES = '9223372036854771712';
const PAGE = 4096;

/** OPTION_WORDS are the cgroup v1 super options that are not controllers. */
const OPTION_WORDS = /^(rw|ro|noprefix|clone_children|xattr|cpuset_v2_mode|favordynmods|release_agent=.*)$/;

/** V1Mount is one cgroup v1 mount of a mountinfo text. */
interface V1Mount {
  point: string;
  root: string;
  controllers: string[];
  superOptions: string;
}

/** v1Mounts lists the cgroup v1 mounts of a mountinfo text, in mount order. */
function v1Mounts(mountinfo: string): V1Mount[] {
  const unescape = (x: string) => x.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: V1Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , superOptions = ''] = post.split(' ');
    if (fstype !== 'cgroup') continue;
    const controllers = superOptions.split(',').filter((o) => o && !OPTION_WORDS.test(o));
    if (!controllers.length) continue;
    const f = pre.split(' ');
    out.push({ point: unescape(f[4] ?? ''), root: unescape(f[3] ?? '/'), controllers, superOptions });
  }
  return out;
}

/** parseHierarchies lists the v1 hierarchies of a mountinfo text, in mount order, once
 * each (the first mount of each): name, controllers and super options. */
export function parseHierarchies(mountinfo: string): Omit<Hierarchy, 'path'>[] {
  const seen = new Set<string>();
  return v1Mounts(mountinfo).filter((m) => {
    const key = m.controllers.join(',');
    return !seen.has(key) && seen.add(key);
  }).map((m) => ({ name: path.posix.basename(m.point), controllers: m.controllers, superOptions: m.superOptions }));
}

/** hostCgroupDir is the host directory of the cgroup at `cgroupPath` in the v1 hierarchy
 * with controllers `key` ("cpuset"), from a mountinfo text: a mount point of the hierarchy
 * joined with the path below that mount's root; null when no mount holds it. */
export function hostCgroupDir(mountinfo: string, key: string, cgroupPath: string): string | null {
  for (const m of v1Mounts(mountinfo)) {
    if (m.controllers.join(',') !== key) continue;
    const rel = path.posix.relative(m.root, cgroupPath);
    if (rel.startsWith('..')) continue;
    return path.posix.join(m.point, rel);
  }
  return null;
}

/** parseProcCgroup maps each line of a /proc/<pid>/cgroup text to its number and path, by
 * controller list ("" for the unified line). */
export function parseProcCgroup(text: string): Map<string, { id: number; path: string }> {
  const out = new Map<string, { id: number; path: string }>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m) out.set(m[2], { id: Number(m[1]), path: m[3] });
  }
  return out;
}

/** NamingRule is what decides the container's cgroup path, as runc's libcontainer does. */
export interface NamingRule {
  id: string;
  cgroupsPath?: string;
  /** cgroupns: the container has its own cgroup namespace (its paths are "/"). */
  cgroupns: boolean;
  /** given: the paths given are the container's already (a systemd "slice:prefix:name"
   * cgroupsPath, which the runtime lays out as runc's systemd driver does). */
  given?: boolean;
}

/** SYSTEMD_PATH is the systemd form of cgroupsPath ("slice:prefix:name"). */
const SYSTEMD_PATH = /^[^/:]*:[^/:]*:[^/:]+$/;

/** containerCgroupPath is the container's cgroup in a hierarchy where the runtime's own is `own`. */
export function containerCgroupPath(own: string, r: NamingRule): string {
  if (r.cgroupns) return '/';
  if (r.given) return own;
  const p = r.cgroupsPath ?? '';
  if (p.startsWith('/')) return path.posix.normalize(p);
  return path.posix.join(own || '/', p || r.id);
}

/** buildCgroupView builds the view from the host's mountinfo, the runtime's /proc/<pid>/cgroup
 * and the naming rule. The unified line is moved with the others when the host mounts a
 * cgroup2 hierarchy (runc joins it), else it stays the runtime's. */
export function buildCgroupView(mountinfo: string, runtimeCgroup: string, r: NamingRule): CgroupView {
  const own = parseProcCgroup(runtimeCgroup);
  const hierarchies = parseHierarchies(mountinfo).map((h) => ({ ...h, path: containerCgroupPath(own.get(h.controllers.join(','))?.path ?? '/', r) }));
  const unified = own.get('');
  const hasV2 = mountinfo.split('\n').some((l) => l.split(' - ')[1]?.startsWith('cgroup2 '));
  const unifiedPath = unified === undefined ? null : hasV2 ? containerCgroupPath(unified.path, r) : r.cgroupns ? '/' : unified.path;
  const hierarchyIds = new Map<string, number>();
  for (const [k, v] of own) hierarchyIds.set(k, v.id);
  return { hierarchies, unifiedPath, hierarchyIds, cgroupns: r.cgroupns };
}

/** procCgroupText is /proc/<pid>/cgroup: one line per hierarchy, highest number first, as Linux prints. */
export function procCgroupText(v: CgroupView): string {
  const lines: [number, string][] = v.hierarchies.map((h) => {
    const key = h.controllers.join(',');
    return [v.hierarchyIds.get(key) ?? 0, `${key}:${h.path}`];
  });
  lines.sort((a, b) => b[0] - a[0]);
  const out = lines.map(([id, rest]) => `${id}:${rest}\n`);
  if (v.unifiedPath !== null) out.push(`0::${v.unifiedPath}\n`);
  return out.join('');
}

/** rootedCgroupText is /proc/<pid>/cgroup as a reader in a cgroup namespace of the
 * sandbox's own sees it: the namespace's root is the cgroup its creator was in, which is
 * the sandbox's for every task (tasks do not move between cgroups), so each path is "/". */
export function rootedCgroupText(v: CgroupView): string {
  return procCgroupText({ ...v, hierarchies: v.hierarchies.map((h) => ({ ...h, path: '/' })), unifiedPath: v.unifiedPath === null ? null : '/' });
}

const views = new WeakMap<Kernel, CgroupView>();

/** configureCgroupView records sandbox k's cgroup view from the host (boot calls it before
 * the sentry is confined; `id` is the container's id). */
export function configureCgroupView(k: Kernel, spec: Spec, id: string): CgroupView {
  const cgroupsPath = spec.linux?.cgroupsPath;
  const given = cgroupsPath !== undefined && SYSTEMD_PATH.test(cgroupsPath);
  const rule: NamingRule = { id, cgroupsPath, cgroupns: (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup' && !n.path), given };
  // The runtime process that started the sentry (its parent) is runc's caller; with a
  // systemd path the sentry's own cgroups are the container's.
  const own = given ? null : hostFile(`/proc/${process.ppid}/cgroup`);
  const mountinfo = hostFile('/proc/self/mountinfo') ?? '';
  const v = buildCgroupView(mountinfo, own ?? hostFile('/proc/self/cgroup') ?? '', rule);
  // The memory nodes the sandbox may use are its host cpuset cgroup's (the runtime's copy of its parent's).
  const cpuset = parseProcCgroup(hostFile('/proc/self/cgroup') ?? '').get('cpuset');
  const dir = cpuset ? hostCgroupDir(mountinfo, 'cpuset', cpuset.path) : null;
  v.cpusetMems = dir ? hostFile(path.posix.join(dir, 'cpuset.mems'))?.trim() || null : null;
  views.set(k, v);
  return v;
}

/** cgroupViewOf is k's view, or null before boot configured one (unit tests). */
export function cgroupViewOf(k: Kernel): CgroupView | null {
  return views.get(k) ?? null;
}

/** CgroupFs is one cgroup v1 hierarchy's view (proc's nodes under another name and magic). */
class CgroupFs extends ProcFs {
  override readonly name: string = 'cgroup';
  override readonly dev: number;

  constructor(dev: number) {
    super();
    this.dev = dev;
  }

  override statfs(): StatFs {
    return { ...super.statfs(), type: CGROUP_SUPER_MAGIC };
  }
}

/** sandboxCpuTimes are the CPU times (ns) of every process the container has run: live and
 * zombie processes' own, and those of the children they (init, at the end) reaped. */
function sandboxCpuTimes(k: Kernel): { user: number; sys: number } {
  let user = 0, sys = 0;
  for (const g of k.groups.values()) {
    const own = groupTimes(g);
    user += own.user + g.cpu.children.user;
    sys += own.sys + g.cpu.children.sys;
  }
  return { user: Math.round(user), sys: Math.round(sys) };
}

/** FileSpec is one generated file: its contents and mode (0644 for a file the cgroup lets
 * a writer change, 0444 for a read-only one, as Linux shows them). */
type FileSpec = [name: string, text: () => string, mode: number];

/** controllerFiles are the files with real values that a controller adds, in name order. */
function controllerFiles(k: Kernel, spec: Spec, v: CgroupView, controller: string): FileSpec[] {
  // Read at each read: `tvisor update` changes them (sentry/resources-update.ts).
  const res = () => spec.linux?.resources;
  const bytes = (n: number | undefined) => (typeof n === 'number' && n > 0 ? String(Math.floor(n / PAGE) * PAGE) : UNLIMITED_BYTES);
  switch (controller) {
    case 'cpu': return [
      ['cpu.cfs_period_us', () => String(res()?.cpu?.period ?? 100000), 0o644],
      ['cpu.cfs_quota_us', () => String(res()?.cpu?.quota ?? -1), 0o644],
      ['cpu.shares', () => String(res()?.cpu?.shares ?? 1024), 0o644],
    ];
    case 'cpuacct': return [
      ['cpuacct.stat', () => { const t = sandboxCpuTimes(k); return `user ${Math.floor(t.user / 1e7)}\nsystem ${Math.floor(t.sys / 1e7)}`; }, 0o444],
      ['cpuacct.usage', () => { const t = sandboxCpuTimes(k); return String(t.user + t.sys); }, 0o644],
      ['cpuacct.usage_sys', () => String(sandboxCpuTimes(k).sys), 0o444],
      ['cpuacct.usage_user', () => String(sandboxCpuTimes(k).user), 0o444],
    ];
    case 'cpuset': return [
      ['cpuset.cpus', () => formatCpuList(sandboxCpus().allowed), 0o644],
      ['cpuset.effective_cpus', () => formatCpuList(sandboxCpus().allowed), 0o444],
      ...(v.cpusetMems ? [['cpuset.effective_mems', () => v.cpusetMems!, 0o444], ['cpuset.mems', () => v.cpusetMems!, 0o644]] as FileSpec[] : []),
    ];
    case 'freezer':
      // A frozen container runs nothing that could read it.
      return [['freezer.state', () => 'THAWED', 0o644]];
    case 'memory': return [
      ['memory.limit_in_bytes', () => bytes(res()?.memory?.limit), 0o644],
      ['memory.oom_control', () => `oom_kill_disable 0\nunder_oom 0\noom_kill ${sandboxMemory.oomKills}`, 0o644],
      ['memory.soft_limit_in_bytes', () => bytes(res()?.memory?.reservation), 0o644],
      ['memory.usage_in_bytes', () => String(memoryUse(k.platform.memoryFile).used), 0o444],
    ];
    case 'pids': return [
      ['pids.current', () => String(k.tasks.size), 0o444],
      ['pids.max', () => (typeof res()?.pids?.limit === 'number' && res()!.pids!.limit > 0 ? String(res()!.pids!.limit) : 'max'), 0o644],
    ];
    default: return [];
  }
}

/** hierarchyFs builds one hierarchy's view: the files every v1 cgroup has, then each
 * controller's, sorted by name as Linux lists them. */
function hierarchyFs(k: Kernel, spec: Spec, v: CgroupView, h: Hierarchy, dev: number): CgroupFs {
  const fs = new CgroupFs(dev);
  const sorted = (list: number[]) => [...list].sort((a, b) => a - b).map(String).join('\n');
  const files: FileSpec[] = [
    ['cgroup.clone_children', () => '0', 0o644],
    ['cgroup.procs', () => sorted([...k.groups.values()].filter((g) => g.tasks.size > 0).map((g) => g.tgid)), 0o644],
    ['notify_on_release', () => '0', 0o644],
    ['tasks', () => sorted([...k.tasks.keys()]), 0o644],
    ...h.controllers.flatMap((c) => controllerFiles(k, spec, v, c)),
  ].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) as FileSpec[];
  fs.root = new ProcDir(fs, '/', () => new Map<string, () => Inode>(files.map(([name, text, mode]) => [
    name, () => new ProcFile(fs, `/${name}`, () => { const t = text(); return t === '' ? '' : `${t}\n`; }, undefined, mode),
  ])), undefined, 0o755);
  return fs;
}

/**
 * mountCgroupTree mounts the container's cgroup tree at `at`, as runc mounts a spec mount
 * of type cgroup on a v1 host: a tmpfs (the spec's flags without MS_RDONLY; its root mode
 * 0555 as runc leaves it, "mode=755" in its options), then each hierarchy in the host's
 * order with the spec's flags, and a symlink per controller of a co-mounted hierarchy.
 * It returns false, mounting nothing, when the host has no v1 hierarchy.
 */
export function mountCgroupTree(k: Kernel, spec: Spec, v: CgroupView, ns: MountNamespace, at: Location, flags: number): boolean {
  if (v.hierarchies.length === 0) return false;
  const root0 = new Credentials(0, 0);
  const tmp = new Tmpfs(0o555);
  const top = ns.mount(at, tmp, flags & ~MS_RDONLY, 'tmpfs', undefined, new Superblock(tmp, false, ['mode=755']));
  for (const h of v.hierarchies) {
    tmp.root.mkdir(h.name, 0o755, root0);
    const fs = hierarchyFs(k, spec, v, h, allocDev());
    const options = h.superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro');
    // In a cgroup namespace runc mounts each hierarchy anew, naming the systemd one's source "systemd".
    const source = v.cgroupns && h.name === 'systemd' ? 'systemd' : 'cgroup';
    const m = ns.mount({ mount: top, dentry: top.root.child(h.name, root0) }, fs, flags, source, undefined, new Superblock(fs, false, options));
    m.rootPath = h.path;
  }
  for (const h of v.hierarchies) {
    if (h.controllers.length < 2) continue;
    for (const c of h.controllers) if (!c.startsWith('name=') && c !== h.name) tmp.root.symlink(c, h.name, root0);
  }
  return true;
}
