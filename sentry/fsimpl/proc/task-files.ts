/**
 * The files of /proc/<pid> (and /proc/<pid>/task/<tid>) that describe a process's limits,
 * namespaces, identity maps, OOM adjustment and memory figures, each in Linux's format
 * (fs/proc/base.c, array.c). proc.ts lists them with the others.
 */
import { INITIAL_NS_INODES, nsInodeOf } from '../../kernel/namespaces';
import { CAP_SYS_NICE, CAP_SYS_RESOURCE } from '../../kernel/capabilities';
import { mapText, writeMap, writeSetgroups } from '../../kernel/user-namespace';
import { Errno, fail } from '../../kernel/errors';
import type { Kernel } from '../../kernel/kernel';
import { limitOf, RLIM_INFINITY } from '../../kernel/rlimits';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread-group';
import { MemoryManager } from '../../mm/mm';
import { PROT_EXEC, PROT_WRITE } from '../../../platform';
import type { Inode } from '../../vfs/inode';
import { ProcMemFile } from './mem';
import { ProcDir, ProcFile, ProcNsLink, ProcWritableFile, type ProcFs } from './nodes';
import { procViewOf } from './sandbox-view';
import { cgroupViewOf, rootedCgroupText } from '../sys/cgroupfs';
import { mayInspect } from './fd-link';
import { ioText } from '../../kernel/io-accounting';
import { setTimerSlack, timerSlack } from '../../kernel/timer-slack';
import { schedstatText, schedText } from './sched-files';
import { smapsRollup, smapsText } from './smaps';
import { cpuIds, formatBitmap, formatCpuList, taskCpus } from '../../kernel/cpus';

/** LIMITS are /proc/<pid>/limits' rows, by resource number: name and unit. */
const LIMITS: [string, string][] = [
  ['Max cpu time', 'seconds'], ['Max file size', 'bytes'], ['Max data size', 'bytes'], ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'], ['Max resident set', 'bytes'], ['Max processes', 'processes'], ['Max open files', 'files'],
  ['Max locked memory', 'bytes'], ['Max address space', 'bytes'], ['Max file locks', 'locks'], ['Max pending signals', 'signals'],
  ['Max msgqueue size', 'bytes'], ['Max nice priority', ''], ['Max realtime priority', ''], ['Max realtime timeout', 'us'],
];

/** limitsText is /proc/<pid>/limits for group g (proc_pid_limits' table). */
export function limitsText(g: ThreadGroup): string {
  const value = (v: bigint) => (v === RLIM_INFINITY ? 'unlimited' : v.toString()).padEnd(20);
  const rows = LIMITS.map(([name, unit], res) => {
    const [soft, hard] = limitOf(g, res);
    return `${name.padEnd(25)} ${value(soft)} ${value(hard)} ${unit ? `${unit.padEnd(10)}` : ''}`;
  });
  return [`${'Limit'.padEnd(25)} ${'Soft Limit'.padEnd(20)} ${'Hard Limit'.padEnd(20)} ${'Units'.padEnd(10)}`, ...rows, ''].join('\n');
}

/**
 * NAMESPACES are the links of /proc/<pid>/ns with the kind of namespace each names: the
 * sandbox's own of each kind, or a task's new UTS or IPC namespace (kernel/namespaces.ts,
 * which numbers them).
 */
const NAMESPACES: [string, string][] = [
  ['cgroup', 'cgroup'], ['ipc', 'ipc'], ['mnt', 'mnt'], ['net', 'net'], ['pid', 'pid'], ['pid_for_children', 'pid'],
  ['time', 'time'], ['time_for_children', 'time'], ['user', 'user'], ['uts', 'uts'],
];

/** OOM_SCORE_ADJ_MIN and MAX bound oom_score_adj; OOM_DISABLE and OOM_ADJUST_MAX bound the legacy oom_adj. */
const OOM_SCORE_ADJ_MIN = -1000, OOM_SCORE_ADJ_MAX = 1000, OOM_DISABLE = -17, OOM_ADJUST_MAX = 15;

/** parseProcInt parses what a task wrote as Linux's kstrtoint does after stripping
 * whitespace (EINVAL otherwise). */
export function parseProcInt(data: Buffer): number {
  const s = data.toString('latin1').trim();
  if (!/^[+-]?\d+$/.test(s)) fail(Errno.EINVAL);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) fail(Errno.EINVAL);
  return n;
}

/** setOomScoreAdj is Linux's __set_oom_adj: without CAP_SYS_RESOURCE (EACCES) no
 * oom_score_adj below the floor, and no legacy oom_adj below the current value; a
 * privileged write of oom_score_adj moves the floor. */
function setOomScoreAdj(t: Task, g: ThreadGroup, adj: number, legacy: boolean): void {
  const privileged = t.creds.capable(CAP_SYS_RESOURCE);
  if (adj < (legacy ? g.oom.adj : g.oom.min) && !privileged) fail(Errno.EACCES);
  g.oom.adj = adj;
  if (!legacy && privileged) g.oom.min = adj;
}

/** oomScore is /proc/<pid>/oom_score: Linux's badness (resident pages plus the
 * adjustment's share of the sandbox's memory) scaled to 0..1333, 0 for OOM_SCORE_ADJ_MIN. */
function oomScore(g: ThreadGroup, t: Task | undefined): number {
  if (g.oom.adj === OOM_SCORE_ADJ_MIN || !t) return 0;
  const total = Math.max(1, Math.floor(MemoryManager.commitLimit / 4096));
  const badness = Math.ceil(t.mm.rssBytes / 4096) + Math.trunc((g.oom.adj * total) / 1000);
  return Math.max(0, Math.trunc(((1000 + Math.trunc((badness * 1000) / total)) * 2) / 3));
}

/** MemoryFigures are the sizes /proc/<pid>/status and statm report, in bytes. */
interface MemoryFigures {
  size: number;
  /** rss is VmRSS: anon + file + shmem (MemoryManager.rss). */
  rss: number;
  anon: number;
  file: number;
  shmem: number;
  data: number;
  stack: number;
  /** text is VmExe (statm's text): the executable's code, as Linux's task_mem figures it. */
  text: number;
  /** lib is VmLib: the rest of the executable mappings (the interpreter, libraries, the vDSO). */
  lib: number;
}

/**
 * memoryFigures measures a task's address space: all of it, what is resident, the
 * private writable mappings (data), the stack, and the executable mappings split as
 * Linux's task_mem splits exec_vm (the mappings executable and not writable, the stack
 * aside): text is the executable's code from exec's start_code to end_code (page
 * bounds, at most exec_vm), lib the rest.
 */
export function memoryFigures(t: Task | undefined): MemoryFigures {
  const f = { size: 0, rss: 0, anon: 0, file: 0, shmem: 0, data: 0, stack: 0, text: 0, lib: 0 };
  if (!t || t.state === 'exited') return f;
  Object.assign(f, t.mm.rss());
  f.rss = f.anon + f.file + f.shmem;
  let exec = 0;
  for (const v of t.mm.vmas) {
    const len = v.end - v.start;
    f.size += len;
    if (v.name === '[stack]') f.stack += len;
    else if (!v.shared && v.prot & PROT_WRITE) f.data += len;
    if (v.prot & PROT_EXEC && !(v.prot & PROT_WRITE) && v.name !== '[stack]') exec += len;
  }
  const { startCode, endCode } = t.mm.execLayout;
  const page = 4096n;
  const text = BigInt.asUintN(64, ((endCode + page - 1n) & ~(page - 1n)) - (startCode & ~(page - 1n)));
  f.text = text < BigInt(exec) ? Number(text) : exec;
  f.lib = exec - f.text;
  return f;
}

/** memoryStatusLines are the Vm* and Rss* lines of /proc/<pid>/status, through
 * HugetlbPages and CoreDumping, as Linux's task_mem and proc_pid_status write them. The
 * sandbox has no swap, no pinned pages (VmPin), no hugetlbfs and no core dumps; VmLck is
 * what mlock locked. VmPeak and VmPTE are absent: the sentry keeps no peak of the address
 * space's size, and its page tables are the host's. */
export function memoryStatusLines(t: Task | undefined): string[] {
  const f = memoryFigures(t);
  const kb = (n: number) => `${String(Math.ceil(n / 1024)).padStart(8)} kB`;
  const hwm = Math.max(f.rss, (t?.tg.cpu.maxRssKb ?? 0) * 1024);
  const locked = t && t.state !== 'exited' ? t.mm.lockedBytes() : 0;
  return [`VmSize:\t${kb(f.size)}`, `VmLck:\t${kb(locked)}`, `VmPin:\t${kb(0)}`, `VmHWM:\t${kb(hwm)}`, `VmRSS:\t${kb(f.rss)}`,
    `RssAnon:\t${kb(f.anon)}`, `RssFile:\t${kb(f.file)}`, `RssShmem:\t${kb(f.shmem)}`, `VmData:\t${kb(f.data)}`, `VmStk:\t${kb(f.stack)}`,
    `VmExe:\t${kb(f.text)}`, `VmLib:\t${kb(f.lib)}`, `VmSwap:\t${kb(0)}`, `HugetlbPages:\t${kb(0)}`, 'CoreDumping:\t0'];
}

/** MAX_NUMNODES is the NUMA nodes a Linux kernel of Debian's configuration can have (NODES_SHIFT 10): Mems_allowed's width. */
const MAX_NUMNODES = 1024;

/**
 * affinityStatusLines are /proc/<pid>/status's Cpus_allowed, Cpus_allowed_list,
 * Mems_allowed and Mems_allowed_list: the task's CPU affinity (sched_setaffinity's, else
 * the one the sandbox's tasks start with: kernel/cpus.ts) as a mask nr_cpu_ids wide and as
 * a list, and node 0, the sandbox's only memory node.
 */
export function affinityStatusLines(t: Task): string[] {
  const cpus = taskCpus(t);
  return [`Cpus_allowed:\t${formatBitmap(cpus, cpuIds())}`, `Cpus_allowed_list:\t${formatCpuList(cpus)}`,
    `Mems_allowed:\t${formatBitmap([0], MAX_NUMNODES)}`, 'Mems_allowed_list:\t0'];
}

/** childrenText is /proc/<pid>/task/<tid>/children: the pids of the thread's children.
 * The sentry records which process, not which thread, made a child: the group's leader
 * lists them all, its other threads none (the same for a single-threaded process). */
function childrenText(g: ThreadGroup, thread: Task): string {
  if (thread.tid !== g.tgid) return '';
  return [...g.children].map((c) => `${c.tgid} `).join('');
}

/** taskFiles are the entries of /proc/<pid> (and of /proc/<pid>/task/<tid> for `thread`)
 * this module adds; `leader` is the task the directory describes, `owner` its owner. */
export function taskFiles(pfs: ProcFs, k: Kernel, base: string, g: ThreadGroup, leader: () => Task | undefined,
  owner: () => [number, number], thread?: Task, reader: () => Task | null = () => null): [string, () => Inode][] {
  const view = () => procViewOf(k);
  const userNs = () => leader()?.creds.userns ?? null;
  // uid_map and gid_map: a user namespace of the sandbox's shows its map to the reader
  // (lower ids as the reader sees them) and takes one write (user-namespace.ts); the
  // sandbox's own shows the container's mappings and is written already (EPERM).
  const idMapFile = (kind: 'uid' | 'gid') => [`${kind}_map`, () => new ProcWritableFile(pfs, `${base}/${kind}_map`, (c) => {
    const ns = userNs();
    return ns ? mapText(ns, kind, c?.userns ?? null) : kind === 'uid' ? view().uidMap : view().gidMap;
  }, (t, data) => {
    const ns = userNs();
    if (!ns) fail(Errno.EPERM);
    writeMap(ns, kind, t.creds, data.toString('latin1'));
  }, () => true, owner)] as [string, () => Inode];
  const file = (name: string, text: () => string, mode = 0o444) => [name, () => new ProcFile(pfs, `${base}/${name}`, text, owner, mode)] as [string, () => Inode];
  const oomWriter = (name: string, legacy: boolean, text: () => string) => [name, () => new ProcWritableFile(pfs, `${base}/${name}`, text, (t, data) => {
    const n = parseProcInt(data);
    if (legacy) {
      if (n < OOM_DISABLE || n > OOM_ADJUST_MAX) fail(Errno.EINVAL);
      setOomScoreAdj(t, g, n === OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : Math.trunc((n * OOM_SCORE_ADJ_MAX) / -OOM_DISABLE), true);
    } else {
      if (n < OOM_SCORE_ADJ_MIN || n > OOM_SCORE_ADJ_MAX) fail(Errno.EINVAL);
      setOomScoreAdj(t, g, n, false);
    }
  }, () => true, owner)] as [string, () => Inode];
  return [
    ...(thread ? [file('children', () => childrenText(g, thread))] : []),
    file('limits', () => limitsText(g)),
    // Paths relative to the reader's cgroup namespace (a new one's root is the sandbox's cgroup).
    file('cgroup', () => {
      const v = cgroupViewOf(k);
      return reader()?.cgroupns && v ? rootedCgroupText(v) : view().cgroup;
    }),
    ['ns', () => new ProcDir(pfs, `${base}/ns`, () => new Map(NAMESPACES.map(([name, type]) =>
      [name, () => { const t = leader(); return new ProcNsLink(pfs, `${base}/ns/${name}`, type, t ? nsInodeOf(t, name === 'pid_for_children' ? name : type) : INITIAL_NS_INODES[type], owner, () => { const l = leader(); return !l || mayInspect(reader(), l); }); }] as [string, () => Inode])), owner, 0o511)],
    oomWriter('oom_score_adj', false, () => `${g.oom.adj}\n`),
    oomWriter('oom_adj', true, () => `${g.oom.adj === OOM_SCORE_ADJ_MAX ? OOM_ADJUST_MAX : Math.trunc((g.oom.adj * -OOM_DISABLE) / OOM_SCORE_ADJ_MAX)}\n`),
    file('oom_score', () => `${oomScore(g, leader())}\n`),
    idMapFile('uid'),
    idMapFile('gid'),
    // setgroups: "allow" or "deny" (user-namespace.ts); the sandbox's own allows and stays so.
    ['setgroups', () => new ProcWritableFile(pfs, `${base}/setgroups`, () => `${userNs()?.setgroups ?? 'allow'}\n`, (t, data) => {
      const ns = userNs();
      if (ns) writeSetgroups(ns, t.creds, data.toString('latin1'));
      else if (data.toString('latin1').trim() !== 'allow') fail(Errno.EPERM);
    }, () => true, owner)],
    // No audit: the ids of a process never logged in (AUDIT_UID_UNSET), as in runc's container.
    file('loginuid', () => '4294967295', 0o644),
    file('sessionid', () => '4294967295'),
    // No Linux security module: reading a task's label is EINVAL, as on a host without one.
    ['attr', () => new ProcDir(pfs, `${base}/attr`, () => new Map([
      ['current', () => new ProcFile(pfs, `${base}/attr/current`, () => fail(Errno.EINVAL), owner, 0o666)],
    ]), owner, 0o555)],
    file('personality', () => `${(leader()?.personality ?? 0).toString(16).padStart(8, '0')}\n`, 0o400),
    // Its memory, offsets as addresses, for a task with ptrace access to it (mem.ts).
    ['mem', () => new ProcMemFile(pfs, `${base}/mem`, () => { const t = leader(); return t && t.state !== 'exited' ? t : undefined; }, owner)],
    // The auxiliary vector exec gave the process (mm.auxv), binary, readable by its owner.
    ['auxv', () => new ProcFile(pfs, `${base}/auxv`, () => leader()?.mm.auxv ?? Buffer.alloc(0), owner, 0o400)],
    // Read and write counts: the group's totals, or the thread's in task/<tid>/.
    file('io', () => ioText(g, thread), 0o400),
    // No kernel symbols: "0", as Linux shows for a running task (the reader itself); a
    // sleeping task's wait channel would name a sentry function, which means nothing here.
    file('wchan', () => '0'),
    // The thread's timer slack (the leader's in /proc/<pid>); another task's takes CAP_SYS_NICE to set.
    ['timerslack_ns', () => new ProcWritableFile(pfs, `${base}/timerslack_ns`, () => {
      const target = thread ?? leader();
      return `${target ? timerSlack(target) : 0n}\n`;
    }, (t, data) => {
      const s = data.toString('latin1').replace(/\n$/, '');
      if (!/^\+?\d+$/.test(s) || BigInt(s) >= 2n ** 64n) fail(Errno.EINVAL);
      const target = thread ?? leader();
      if (!target) fail(Errno.ESRCH);
      if (target !== t && !t.creds.capable(CAP_SYS_NICE)) fail(Errno.EPERM);
      setTimerSlack(target, BigInt(s));
    }, () => true, owner, 0o666)],
    // Scheduling figures of the thread (the leader's in /proc/<pid>): sched-files.ts.
    file('sched', () => { const t = thread ?? leader(); return t ? schedText(t, t.tid, g.zombie ? 1 : g.tasks.size) : ''; }, 0o644),
    file('schedstat', () => { const t = thread ?? leader(); return t ? schedstatText(t) : '0 0 0\n'; }),
    file('smaps', () => smapsText(leader()), 0o444),
    file('smaps_rollup', () => smapsRollup(leader()), 0o444),
    file('statm', () => {
      const f = memoryFigures(leader());
      const p = (n: number) => Math.ceil(n / 4096);
      // The third figure is the resident pages backed by a file or shmem (Linux's "shared").
      return `${p(f.size)} ${p(f.rss)} ${p(f.file + f.shmem)} ${p(f.text)} 0 ${p(f.data + f.stack)} 0\n`;
    }),
  ];
}
