/**
 * SandboxCgroup puts a sandbox's host processes (sentry, gofer, ptrace stubs) in a cgroup
 * of their own on a cgroup v1 host and applies config.json `linux.resources` to it.
 *
 * Paths follow runc's cgroupfs conventions: an absolute cgroupsPath is taken from each
 * hierarchy's mount point, a relative one from the caller's own cgroup in that hierarchy,
 * and no cgroupsPath means `/tvisor/<id>`. With --systemd-cgroup the "slice:prefix:name"
 * form is laid out as systemd would (`/a.slice/a-b.slice/<prefix>-<name>.scope`), but on
 * cgroupfs directly: tvisor does not ask systemd for a transient unit.
 *
 * Invariants: a directory is made in every mounted v1 hierarchy runc joins; `created`
 * lists, top-down, the directories this object made, and only those and the leaves are
 * ever removed, with rmdir (never recursively). A failed create removes what it made.
 * Not applied: memory.kernel (obsolete since Linux 5.16), blockIO other than its weight,
 * hugepageLimits, network, rdma, devices (the sentry opens no host devices for the
 * container). `set` (tvisor update) puts back the previous values when a write fails.
 *
 * The memory limits (limit and memsw) are the container's plus the sandbox's own share
 * (sandboxMemoryOverhead: the sentry enforces the container's limit on the application
 * itself); `current` and the stats report the container's figure, as runc's would. So is
 * pids.max (hostPids: the sentry enforces the container's limit on the application's tasks).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../oci/config';
import type { ContainerStats } from '../container/stats';
import { oomKills, readCgroupStats } from './cgroup-stats';
import { containerMemory, hostMemory } from './memory-share';
import { containerPids, hostPids } from './pids-share';

/** CONTROLLERS are the v1 hierarchies a sandbox joins when they are mounted (runc's list). */
export const CONTROLLERS = ['cpuset', 'cpu', 'cpuacct', 'memory', 'devices', 'freezer', 'blkio', 'pids',
  'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'rdma', 'misc', 'name=systemd'] as const;

/** CgroupError is a failed cgroup operation, naming the file and the value. */
export class CgroupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CgroupError';
  }
}

/** CgroupRecord is what a later command needs to find the cgroup again (state.json). */
export interface CgroupRecord {
  /** paths maps each controller to its leaf directory (co-mounted ones share it). */
  paths: Record<string, string>;
  /** created lists the directories this sandbox made, parents before children. */
  created: string[];
}

interface Mount {
  point: string;
  root: string;
}

/** v1Mounts maps each mounted v1 controller (or name=...) to its mount, from mountinfo. */
export function v1Mounts(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): Map<string, Mount> {
  const out = new Map<string, Mount>();
  for (const line of mountinfo.split('\n')) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype !== 'cgroup') continue;
    const f = pre.split(' ');
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    for (const opt of superOpts.split(',')) {
      if ((CONTROLLERS as readonly string[]).includes(opt) && !out.has(opt)) out.set(opt, { point: unescape(f[4]), root: unescape(f[3]) });
    }
  }
  return out;
}

/** ownCgroups maps each v1 controller to the caller's cgroup path, from /proc/self/cgroup. */
export function ownCgroups(text = fs.readFileSync('/proc/self/cgroup', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]+):(.*)$/.exec(line);
    if (m) for (const c of m[1].split(',')) out.set(c, m[2]);
  }
  return out;
}

/** expandSlice turns "a-b.slice" into "/a.slice/a-b.slice", as systemd nests slices. */
export function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice') || slice.includes('/')) throw new CgroupError(`cgroup: invalid systemd slice "${slice}"`);
  const name = slice.slice(0, -'.slice'.length);
  if (name === '-.' || name === '-') return '/';
  if (name.startsWith('-') || name.endsWith('-') || name.includes('--')) throw new CgroupError(`cgroup: invalid systemd slice "${slice}"`);
  let out = '';
  let prefix = '';
  for (const part of name.split('-')) {
    prefix += (prefix ? '-' : '') + part;
    out += `/${prefix}.slice`;
  }
  return out;
}

/**
 * cgroupInner resolves config.json's cgroupsPath to the path inside each hierarchy: an
 * absolute path (from the mount point) or a relative one (from the caller's own cgroup).
 */
export function cgroupInner(id: string, cgroupsPath: string | undefined, systemd: boolean): string {
  let p = cgroupsPath;
  if (systemd) {
    const parts = (p ?? `system.slice:tvisor:${id}`).split(':');
    if (parts.length !== 3) throw new CgroupError(`cgroup: cgroupsPath "${p}" must be "slice:prefix:name" with --systemd-cgroup`);
    const [slice, prefix, name] = parts;
    p = path.posix.join(expandSlice(slice || 'system.slice'), prefix ? `${prefix}-${name}.scope` : `${name}.scope`);
  }
  p = p === undefined || p === '' ? `/tvisor/${id}` : p;
  if (p.split('/').includes('..')) throw new CgroupError(`cgroup: cgroupsPath "${p}" must not contain ".."`);
  return p;
}

/**
 * under is path.join(dir, name) for a directory already in normal form and a name of one
 * component, made by concatenation. A create joins some 3 KB of cgroup paths through
 * path.join otherwise, enough for V8 to find path's normalizeString hot and optimize it
 * on a background thread, 5-8 ms of CPU in a CLI that ends a moment later. Anything else
 * (a relative, trailing-slash or unnormalized directory, `..`) goes to path.join.
 */
export function under(dir: string, name: string): string {
  const plain = name !== '' && name !== '.' && name !== '..' && !name.includes('/');
  const normal = dir.length > 1 && dir.startsWith('/') && !dir.endsWith('/') && !dir.includes('//') && !dir.includes('/./') && !dir.includes('/../') && !dir.endsWith('/.') && !dir.endsWith('/..');
  return plain && normal ? `${dir}/${name}` : path.join(dir, name);
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

function writeFile(dir: string, file: string, value: string | number): void {
  let fd: number;
  try {
    fd = fs.openSync(under(dir, file), fs.constants.O_WRONLY);
  } catch (e) {
    throw new CgroupError(`cgroup ${file}: cannot open for ${value}: ${code(e)}`, { cause: e });
  }
  try {
    // A cgroup file takes its value in one write(2).
    fs.writeSync(fd, String(value));
  } catch (e) {
    throw new CgroupError(`cgroup ${file}: cannot write ${value}: ${code(e)}`, { cause: e });
  } finally {
    fs.closeSync(fd);
  }
}

function readFile(dir: string, file: string): string {
  try {
    return fs.readFileSync(under(dir, file), 'utf8').trim();
  } catch (e) {
    throw new CgroupError(`cgroup ${file}: cannot read: ${code(e)}`, { cause: e });
  }
}

const has = (dir: string | undefined, file: string): dir is string => dir !== undefined && fs.existsSync(under(dir, file));

function int(file: string, v: number | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new CgroupError(`cgroup ${file}: invalid value ${String(v)}`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SandboxCgroup is the cgroup of one sandbox in every mounted v1 hierarchy. */
export class SandboxCgroup {
  private constructor(private readonly rec: CgroupRecord) {}

  /**
   * create makes the sandbox's cgroup in every mounted v1 hierarchy and applies
   * `resources`; on failure it removes what it made and throws a CgroupError.
   */
  static create(id: string, cgroupsPath: string | undefined, resources: LinuxResources | undefined, opts: { systemd?: boolean } = {}): SandboxCgroup {
    const inner = cgroupInner(id, cgroupsPath, opts.systemd ?? false);
    const mounts = v1Mounts();
    if (!mounts.has('memory')) throw new CgroupError('cgroup: no cgroup v1 memory hierarchy is mounted');
    const own = ownCgroups();
    const cg = new SandboxCgroup({ paths: {}, created: [] });
    try {
      for (const [ctl, m] of mounts) {
        const base = path.isAbsolute(inner) ? m.point : path.join(m.point, path.relative(m.root, own.get(ctl) ?? m.root));
        const leaf = path.join(base, inner);
        cg.rec.paths[ctl] = leaf;
        cg.mkdirs(m.point, leaf);
        // A cgroup that already holds processes belongs to someone else (the same id under
        // another --root, a leftover): joining it would let this sandbox's delete kill them.
        const busy = readFile(leaf, 'cgroup.procs');
        if (busy) throw new CgroupError(`cgroup ${leaf} is in use by ${busy.split('\n').length} process(es): choose another container id or linux.cgroupsPath`);
        if (ctl === 'cpuset') cg.inheritCpuset(m.point, leaf);
      }
      cg.update(resources ?? {});
    } catch (e) {
      cg.removeCreated();
      throw e;
    }
    return cg;
  }

  /** load returns the cgroup recorded by an earlier create (see record). */
  static load(rec: CgroupRecord): SandboxCgroup {
    return new SandboxCgroup({ paths: { ...rec.paths }, created: [...rec.created] });
  }

  /** record is the JSON-safe description that load takes back. */
  record(): CgroupRecord {
    return { paths: { ...this.rec.paths }, created: [...this.rec.created] };
  }

  /** path returns the leaf directory of `controller`, or undefined when it is not mounted. */
  path(controller: string): string | undefined {
    return this.rec.paths[controller];
  }

  private dirs(): string[] {
    return [...new Set(Object.values(this.rec.paths))];
  }

  private mkdirs(root: string, leaf: string): void {
    const rel = path.relative(root, leaf);
    let dir = root;
    for (const part of rel ? rel.split('/') : []) {
      dir = under(dir, part);
      try {
        fs.mkdirSync(dir);
        this.rec.created.push(dir);
      } catch (e) {
        if (code(e) !== 'EEXIST') throw new CgroupError(`cgroup ${dir}: cannot create: ${code(e)}`, { cause: e });
      }
    }
  }

  /** inheritCpuset fills empty cpuset.cpus/mems top-down from the parent: tasks cannot join otherwise. */
  private inheritCpuset(root: string, leaf: string): void {
    let dir = root;
    for (const part of path.relative(root, leaf).split('/').filter(Boolean)) {
      const parent = dir;
      dir = under(dir, part);
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (readFile(dir, f) === '') writeFile(dir, f, readFile(parent, f));
      }
    }
  }

  /**
   * update applies `resources` (the fields present) to the cgroup. It returns what it
   * could not apply on this host and left alone (a blkio weight without CFQ or BFQ).
   */
  update(r: LinuxResources): string[] {
    const ignored: string[] = [];
    const p = this.rec.paths;
    if (r.unified && Object.keys(r.unified).length) throw new CgroupError('cgroup: linux.resources.unified needs cgroup v2');
    const need = (ctl: string): string => {
      const d = p[ctl];
      if (!d) throw new CgroupError(`cgroup: the ${ctl} controller is not mounted`);
      return d;
    };
    const cpu = r.cpu ?? {};
    if (cpu.cpus !== undefined && cpu.cpus !== '') writeFile(need('cpuset'), 'cpuset.cpus', cpu.cpus);
    if (cpu.mems !== undefined && cpu.mems !== '') writeFile(need('cpuset'), 'cpuset.mems', cpu.mems);
    if (r.memory) this.setMemory(need('memory'), r.memory);
    const shares = int('cpu.shares', cpu.shares);
    const period = int('cpu.cfs_period_us', cpu.period);
    const quota = int('cpu.cfs_quota_us', cpu.quota);
    const rtPeriod = int('cpu.rt_period_us', cpu.realtimePeriod);
    const rtRuntime = int('cpu.rt_runtime_us', cpu.realtimeRuntime);
    const idle = int('cpu.idle', cpu.idle);
    if (shares !== undefined) writeFile(need('cpu'), 'cpu.shares', shares);
    if (period !== undefined) {
      try {
        writeFile(need('cpu'), 'cpu.cfs_period_us', period);
      } catch (e) {
        // A shorter period can be refused until the quota is lowered (runc retries the same way).
        if (quota === undefined) throw e;
        writeFile(need('cpu'), 'cpu.cfs_quota_us', quota);
        writeFile(need('cpu'), 'cpu.cfs_period_us', period);
      }
    }
    if (quota !== undefined) writeFile(need('cpu'), 'cpu.cfs_quota_us', quota);
    if (rtPeriod !== undefined) writeFile(need('cpu'), 'cpu.rt_period_us', rtPeriod);
    if (rtRuntime !== undefined) writeFile(need('cpu'), 'cpu.rt_runtime_us', rtRuntime);
    if (idle !== undefined && has(p.cpu, 'cpu.idle')) writeFile(p.cpu, 'cpu.idle', idle);
    if (r.pids) {
      const limit = hostPids(int('pids.max', r.pids.limit)) ?? 0;
      writeFile(need('pids'), 'pids.max', limit > 0 ? limit : 'max');
    }
    const weight = int('blkio.weight', r.blockIO?.weight as number | undefined);
    if (weight) {
      // BFQ's file when that scheduler is in use, else CFQ's; neither: nothing weighs I/O.
      const file = ['blkio.bfq.weight', 'blkio.weight'].find((f) => has(p.blkio, f));
      if (file) writeFile(p.blkio, file, weight);
      else ignored.push(`blkio weight ${weight} (no blkio.weight: the I/O scheduler has no weights)`);
    }
    return ignored;
  }

  /**
   * set is update for a running sandbox (`tvisor update`): when a write fails, it writes
   * back the values it read before starting, then throws the failure.
   */
  set(r: LinuxResources): string[] {
    const before = this.current(r);
    try {
      return this.update(r);
    } catch (e) {
      try {
        this.update(before);
      } catch {
        // best effort: the first error is the one to report
      }
      throw e;
    }
  }

  /** current reads the values of the settings `r` touches, as LinuxResources. */
  private current(r: LinuxResources): LinuxResources {
    const p = this.rec.paths;
    const out: LinuxResources = {};
    const read = (dir: string | undefined, f: string): number | undefined => {
      if (!has(dir, f)) return undefined;
      const v = readFile(dir, f);
      if (v === 'max') return -1;
      const n = Number(v);
      // An unlimited memory counter reads as PAGE_COUNTER_MAX pages: write -1 back for it.
      return n >= 2 ** 62 ? -1 : n;
    };
    if (r.memory) {
      out.memory = {
        limit: r.memory.limit !== undefined || r.memory.swap !== undefined ? containerMemory(read(p.memory, 'memory.limit_in_bytes')) : undefined,
        swap: r.memory.swap !== undefined || r.memory.limit !== undefined ? containerMemory(read(p.memory, 'memory.memsw.limit_in_bytes')) : undefined,
        reservation: r.memory.reservation !== undefined ? read(p.memory, 'memory.soft_limit_in_bytes') : undefined,
      };
    }
    if (r.cpu) {
      const c = r.cpu;
      out.cpu = {
        shares: c.shares !== undefined ? read(p.cpu, 'cpu.shares') : undefined,
        period: c.period !== undefined || c.quota !== undefined ? read(p.cpu, 'cpu.cfs_period_us') : undefined,
        quota: c.quota !== undefined || c.period !== undefined ? read(p.cpu, 'cpu.cfs_quota_us') : undefined,
        realtimePeriod: c.realtimePeriod !== undefined ? read(p.cpu, 'cpu.rt_period_us') : undefined,
        realtimeRuntime: c.realtimeRuntime !== undefined ? read(p.cpu, 'cpu.rt_runtime_us') : undefined,
        cpus: c.cpus && has(p.cpuset, 'cpuset.cpus') ? readFile(p.cpuset, 'cpuset.cpus') : undefined,
        mems: c.mems && has(p.cpuset, 'cpuset.mems') ? readFile(p.cpuset, 'cpuset.mems') : undefined,
      };
    }
    if (r.pids) out.pids = { limit: containerPids(read(p.pids, 'pids.max')) ?? -1 };
    if (r.blockIO?.weight) {
      const file = ['blkio.bfq.weight', 'blkio.weight'].find((f) => has(p.blkio, f));
      if (file) out.blockIO = { weight: read(p.blkio, file) };
    }
    return out;
  }

  private setMemory(dir: string, m: NonNullable<LinuxResources['memory']>): void {
    const limit = hostMemory(int('memory.limit_in_bytes', m.limit));
    const setLimit = (v: number) => {
      try {
        writeFile(dir, 'memory.limit_in_bytes', v);
      } catch (e) {
        // EBUSY: the kernel could not reclaim down to the new limit.
        if (!(e instanceof CgroupError && e.message.endsWith('EBUSY'))) throw e;
        throw new CgroupError(`cgroup memory.limit_in_bytes: cannot set ${v}: below the current usage of ${readFile(dir, 'memory.usage_in_bytes')} bytes`, { cause: e });
      }
    };
    const swap = hostMemory(int('memory.memsw.limit_in_bytes', m.swap ?? (limit === -1 ? -1 : undefined)));
    const reservation = int('memory.soft_limit_in_bytes', m.reservation);
    const swappiness = int('memory.swappiness', m.swappiness);
    if (swap !== undefined && has(dir, 'memory.memsw.limit_in_bytes')) {
      // memory.limit must stay <= memsw.limit at every step: raise memsw first when growing.
      const current = Number(readFile(dir, 'memory.limit_in_bytes'));
      const growing = swap === -1 || limit === -1 || (limit !== undefined && current < limit);
      if (growing) writeFile(dir, 'memory.memsw.limit_in_bytes', swap);
      if (limit !== undefined) setLimit(limit);
      if (!growing) writeFile(dir, 'memory.memsw.limit_in_bytes', swap);
    } else if (limit !== undefined) setLimit(limit);
    if (reservation !== undefined) writeFile(dir, 'memory.soft_limit_in_bytes', reservation);
    if (swappiness !== undefined && has(dir, 'memory.swappiness')) {
      if (swappiness < 0 || swappiness > 100) throw new CgroupError(`cgroup memory.swappiness: invalid value ${swappiness}`);
      writeFile(dir, 'memory.swappiness', swappiness);
    }
    if (m.disableOOMKiller) writeFile(dir, 'memory.oom_control', 1);
  }

  /** join moves process `pid` (all its threads) into every hierarchy; its later children inherit. */
  join(pid: number): void {
    for (const dir of this.dirs()) writeFile(dir, 'cgroup.procs', pid);
  }

  /**
   * joinTree joins `pid` and then its existing descendants (found from /proc/<n>/stat);
   * a process forked during the walk from one already joined inherits the cgroup.
   */
  joinTree(pid: number): void {
    this.join(pid);
    const children = new Map<number, number[]>();
    for (const n of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(n)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(n)]);
      } catch {
        // exited meanwhile
      }
    }
    const todo = [...(children.get(pid) ?? [])];
    while (todo.length) {
      const c = todo.shift()!;
      try {
        this.join(c);
      } catch (e) {
        if (!(e instanceof CgroupError && e.message.endsWith('ESRCH'))) throw e;
      }
      todo.push(...(children.get(c) ?? []));
    }
  }

  /** pids lists the processes in the sandbox's cgroup (from the pids or memory hierarchy). */
  pids(): number[] {
    const dir = this.rec.paths.pids ?? this.rec.paths.memory;
    if (!dir) return [];
    try {
      return readFile(dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** stats reads the cgroup's figures in runc's `events` shape (cgroup-stats.ts). */
  stats(): ContainerStats {
    return readCgroupStats(this.rec.paths);
  }

  /** oomKills is the cgroup's OOM-kill count (see cgroup-stats.ts), undefined without memory. */
  oomKills(): number | undefined {
    return oomKills(this.rec.paths.memory);
  }

  /**
   * destroy removes the leaves and the parents this sandbox made (rmdir only), retrying
   * for up to `drainMs` while exiting tasks drain; ENOENT is ignored, so it is idempotent.
   * A parent still holding another sandbox (EBUSY, ENOTEMPTY) is left in place.
   */
  async destroy(drainMs = 2000): Promise<void> {
    const until = Date.now() + drainMs;
    // The sandbox's last processes are usually gone within a millisecond or two of the
    // sentry: polls start at 1 ms and back off to 20 ms.
    let pause = 1;
    for (const leaf of this.dirs()) {
      for (;;) {
        const err = rmdir(leaf);
        if (!err) break;
        if (err !== 'EBUSY' || Date.now() >= until) throw new CgroupError(`cgroup ${leaf}: cannot remove: ${err}`);
        await sleep(pause);
        pause = Math.min(20, pause * 2);
      }
    }
    this.removeCreated();
  }

  private removeCreated(): void {
    for (const dir of [...this.rec.created].reverse()) rmdir(dir);
  }
}

/** rmdir removes one cgroup directory and returns the error code, undefined when done or absent. */
function rmdir(dir: string): string | undefined {
  try {
    fs.rmdirSync(dir);
  } catch (e) {
    if (code(e) !== 'ENOENT') return code(e);
  }
  return undefined;
}
