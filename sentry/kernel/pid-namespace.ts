/**
 * PID namespaces (CLONE_NEWPID), as Linux's kernel/pid_namespace.c and gVisor's
 * kernel.PIDNamespace model them: a tree of namespaces, each task with one pid per level
 * from the sandbox's namespace (level 0) down to the one it lives in.
 *
 * The sandbox's namespace is the kernel's own: its pids are the kernel's ids (Task.tid,
 * ThreadGroup.tgid, Kernel.tasks and Kernel.groups), which the rest of the sentry keeps
 * using as global ids. A nested namespace numbers its tasks from 1 and maps them both ways
 * here; syscalls that show or take a pid translate through the caller's namespace
 * (pidIn, taskIn, groupIn, globalPid), and a signal's sender pid is translated into the
 * receiver's (infoFor).
 *
 * A task's namespace is fixed at clone; unshare(CLONE_NEWPID) and setns change only the
 * namespace of its future children (pid_for_children). The first process of a new
 * namespace is its init (local pid 1): orphans of the namespace are reparented to it, it
 * takes from inside only the signals it has a handler for, its getppid is 0, and when it
 * exits every other process of the namespace is killed and a fork into the namespace is
 * ENOMEM from then on.
 *
 * Translated: getpid, gettid, getppid, fork/clone/clone3's result and SETTID words,
 * wait4/waitid (arguments, result, si_pid), kill/tkill/tgkill (targets; kill(-1) stays in
 * the caller's namespace), getpgid/getpgrp/getsid/setpgid/setsid, every signal's si_pid,
 * rt_(tg)sigqueueinfo, pidfd_open, sched_* and affinity, get/setpriority, prlimit64,
 * capget/capset, get_robust_list, SCM_CREDENTIALS and SO_PEERCRED, F_GETLK's l_pid, System
 * V IPC's recorded pids (shm_cpid/lpid, GETPID, msg_lspid/lrpid), /proc/<pid>/status's NS*
 * lines (a recorded pid of a reaped process translates while it is among the last
 * RECENT_NESTED processes made in nested namespaces). Not yet: mq_notify's NOTIFY_PID,
 * F_SETOWN, /proc/sysvipc, /proc/<pid>/task/<tid>/children. A proc mount shows the
 * namespace of the task that mounted it (fsimpl/proc/proc.ts: listing, self, thread-self,
 * stat, status).
 *
 * Bookkeeping: a namespace's maps are checked against the kernel's on lookup (an entry
 * whose task has exited, or whose group was reaped, is stale and dropped), so exit and
 * reaping need no hook here; every SWEEP_EVERY additions the maps drop all their stale
 * entries, which bounds them by the live processes plus that many. Local pids count up
 * and wrap to 2 at PID_MAX, skipping those in use, as Linux's cyclic allocation.
 */
import { Errno, fail } from './errors';
import type { Kernel } from './kernel';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';

/** PID_MAX bounds process and thread ids (kernel.pid_max): ids wrap around below it. Kernel re-exports it. */
export const PID_MAX = 4194304;

/** SWEEP_EVERY is how many tasks enter a namespace between two sweeps of its stale entries. */
const SWEEP_EVERY = 256;

/** MAX_PID_NS_LEVEL is how deep namespaces nest (Linux's 32; the sandbox's is level 0). */
export const MAX_PID_NS_LEVEL = 32;

/** PidNamespace is one PID namespace. */
export class PidNamespace {
  readonly level: number;
  /** tasks and groups find a task by its tid and a thread group by its tgid in this namespace. */
  private readonly tasks = new Map<number, Task>();
  private readonly groups = new Map<number, ThreadGroup>();
  private next = 1;
  private adds = 0;
  /** init is the namespace's first process (its child reaper), once made. */
  init: ThreadGroup | null = null;
  /** dead is set when init has exited: no task may enter any more. */
  dead = false;

  constructor(readonly kernel: Kernel, readonly parent: PidNamespace | null) {
    this.level = parent ? parent.level + 1 : 0;
  }

  /** isRoot tells whether this is the sandbox's namespace (ids are the kernel's). */
  get isRoot(): boolean {
    return this.parent === null;
  }

  /** alloc returns the next free pid (ENOMEM once init has gone, as Linux's alloc_pid). */
  alloc(want = 0): number {
    if (this.dead) fail(Errno.ENOMEM);
    if (want !== 0) {
      if (this.task(want) || this.group(want)) fail(Errno.EEXIST);
      if (want >= this.next) this.next = want + 1;
      return want;
    }
    for (;;) {
      if (this.next >= PID_MAX) this.next = 2;
      const id = this.next++;
      if (!this.task(id) && !this.group(id)) return id;
    }
  }

  /**
   * checkEnter fails as Linux's alloc_pid would for a new task entering here. setTid[i]
   * asks for the pid at level - i (clone3's set_tid, the sandbox's level included): EINVAL
   * for more entries than levels, a pid outside [1, PID_MAX) or other than 1 in a
   * namespace without init yet; EPERM unless `mayChoose` (CAP_SYS_ADMIN or
   * CAP_CHECKPOINT_RESTORE); EEXIST when taken. ENOMEM when a namespace has lost its init.
   */
  checkEnter(setTid: number[], mayChoose: boolean): void {
    if (setTid.length > this.level + 1) fail(Errno.EINVAL);
    for (let n: PidNamespace | null = this, i = 0; n && i < setTid.length; n = n.parent, i++) {
      const want = setTid[i];
      if (want < 1 || want >= PID_MAX || (want !== 1 && !n.isRoot && n.init === null)) fail(Errno.EINVAL);
    }
    if (setTid.length > 0 && !mayChoose) fail(Errno.EPERM);
    for (let n: PidNamespace | null = this, i = 0; n; n = n.parent, i++) {
      if (n.dead) fail(Errno.ENOMEM);
      const want = setTid[i] ?? 0;
      if (want !== 0 && (n.task(want) || n.group(want))) fail(Errno.EEXIST);
    }
  }

  /** add records a task (and its group when it leads one) under its pid here. */
  add(id: number, t: Task, leads: boolean): void {
    this.tasks.set(id, t);
    if (leads) this.groups.set(id, t.tg);
    if (++this.adds % SWEEP_EVERY === 0) {
      for (const i of [...this.tasks.keys()]) this.task(i);
      for (const i of [...this.groups.keys()]) this.group(i);
    }
  }

  /** task returns the live task whose tid here is id. */
  task(id: number): Task | undefined {
    if (this.isRoot) return this.kernel.tasks.get(id);
    const t = this.tasks.get(id);
    if (t && (t.state === 'exited' || this.kernel.tasks.get(t.tid) !== t)) {
      this.tasks.delete(id);
      return undefined;
    }
    return t;
  }

  /** group returns the thread group (live or zombie, not reaped) whose tgid here is id. */
  group(id: number): ThreadGroup | undefined {
    if (this.isRoot) return this.kernel.groups.get(id);
    const g = this.groups.get(id);
    if (g && this.kernel.groups.get(g.tgid) !== g) {
      this.groups.delete(id);
      return undefined;
    }
    return g;
  }

  /** groupList lists the namespace's thread groups (not reaped). */
  groupList(): ThreadGroup[] {
    if (this.isRoot) return [...this.kernel.groups.values()];
    return [...this.groups.keys()].map((id) => this.group(id)).filter((g): g is ThreadGroup => g !== undefined);
  }

  /** ancestorAt returns this namespace's ancestor (or itself) at `level`. */
  ancestorAt(level: number): PidNamespace | null {
    let ns: PidNamespace | null = this;
    while (ns && ns.level > level) ns = ns.parent;
    return ns && ns.level === level ? ns : null;
  }

  /** contains tells whether ns is this namespace or one of its descendants. */
  contains(ns: PidNamespace): boolean {
    return ns.ancestorAt(this.level) === this;
  }
}

/** TaskPids is what a task holds of its namespaces: where it lives, its pid per level, where its children go. */
interface TaskPids {
  ns: PidNamespace;
  /** ids[level] is the task's tid at each level (ids[0] is Task.tid). */
  ids: number[];
  forChildren: PidNamespace;
}

const roots = new WeakMap<Kernel, PidNamespace>();
const taskPids = new WeakMap<Task, TaskPids>();
/** groupIds are each thread group's tgid per level (its leader's ids when it was made). */
const groupIds = new WeakMap<ThreadGroup, number[]>();
/** groupNs is the namespace each thread group lives in (absent: the sandbox's). */
const groupNs = new WeakMap<ThreadGroup, PidNamespace>();

/** rootPidNamespace returns the sandbox's PID namespace. */
export function rootPidNamespace(k: Kernel): PidNamespace {
  let ns = roots.get(k);
  if (!ns) roots.set(k, (ns = new PidNamespace(k, null)));
  return ns;
}

/** pidNamespaceOf returns the namespace t lives in (task_active_pid_ns). */
export function pidNamespaceOf(t: Task): PidNamespace {
  return taskPids.get(t)?.ns ?? rootPidNamespace(t.kernel);
}

/** groupNamespaceOf returns the namespace a thread group lives in. */
export function groupNamespaceOf(tg: ThreadGroup, k: Kernel): PidNamespace {
  return groupNs.get(tg) ?? rootPidNamespace(k);
}

/** childPidNamespaceOf returns the namespace t's new children go to (pid_for_children). */
export function childPidNamespaceOf(t: Task): PidNamespace {
  return taskPids.get(t)?.forChildren ?? pidNamespaceOf(t);
}

/**
 * setChildPidNamespace makes ns the namespace of t's future children (unshare, setns).
 * unshare(CLONE_NEWPID) a second time before a fork is EINVAL, as Linux's copy_pid_ns.
 */
export function setChildPidNamespace(t: Task, ns: PidNamespace): void {
  const p = taskPids.get(t);
  if (p) p.forChildren = ns;
  else taskPids.set(t, { ns: rootPidNamespace(t.kernel), ids: [t.tid], forChildren: ns });
}

/**
 * newPidNamespace makes a namespace below t's own for CLONE_NEWPID: EINVAL when t already
 * has another pid_for_children (Linux's copy_pid_ns), ENOSPC past MAX_PID_NS_LEVEL.
 */
export function newPidNamespace(t: Task): PidNamespace {
  const own = pidNamespaceOf(t);
  if (childPidNamespaceOf(t) !== own) fail(Errno.EINVAL);
  if (own.level + 1 > MAX_PID_NS_LEVEL) fail(Errno.ENOSPC);
  return new PidNamespace(t.kernel, own);
}

/**
 * enterPidNamespace gives a new task (its kernel id already in Task.tid) a pid in ns and
 * each of ns's ancestors below the sandbox's: setTid[i], when given, asks for the pid at
 * level ns.level - i (clone3's set_tid, checked by the caller). A thread (leads false)
 * must be born in its creator's own namespace. The first process of a namespace becomes
 * its init. The caller has run ns.checkEnter.
 */
export function enterPidNamespace(child: Task, ns: PidNamespace, leads: boolean, setTid: number[] = []): void {
  const ids: number[] = new Array(ns.level + 1);
  ids[0] = child.tid;
  for (let n: PidNamespace | null = ns, i = 0; n && !n.isRoot; n = n.parent, i++) ids[n.level] = n.alloc(setTid[i] ?? 0);
  for (let n: PidNamespace | null = ns; n && !n.isRoot; n = n.parent) n.add(ids[n.level], child, leads);
  taskPids.set(child, { ns, ids, forChildren: ns });
  if (leads) {
    groupIds.set(child.tg, ids);
    groupNs.set(child.tg, ns);
    if (!ns.isRoot) rememberNested(child.tg.tgid, ns, ids);
    if (!ns.isRoot && ns.init === null) ns.init = child.tg;
  }
}

/** pidIn returns t's tid as seen in ns, or 0 when t is not in ns or below it. */
export function tidIn(ns: PidNamespace, t: Task): number {
  if (ns.isRoot) return t.tid;
  const p = taskPids.get(t);
  if (!p || p.ns.ancestorAt(ns.level) !== ns) return 0;
  return p.ids[ns.level];
}

/** pidIn returns a thread group's tgid as seen in ns, or 0 when it is not visible there. */
export function pidIn(ns: PidNamespace, tg: ThreadGroup | null | undefined): number {
  if (!tg) return 0;
  if (ns.isRoot) return tg.tgid;
  const g = groupNs.get(tg);
  if (!g || g.ancestorAt(ns.level) !== ns) return 0;
  return groupIds.get(tg)![ns.level];
}

/**
 * recentNested remembers the last RECENT_NESTED processes made in a nested namespace by
 * kernel id (insertion order, the oldest dropped first), so that a pid recorded by an
 * object (an IPC object, a message's credentials) still translates once its process has
 * been reaped, as Linux's recorded struct pid does; a reused kernel id replaces its entry.
 */
const recentNested = new Map<number, { ns: PidNamespace; ids: number[] }>();
const RECENT_NESTED = 4096;

function rememberNested(tgid: number, ns: PidNamespace, ids: number[]): void {
  recentNested.delete(tgid);
  recentNested.set(tgid, { ns, ids });
  if (recentNested.size > RECENT_NESTED) recentNested.delete(recentNested.keys().next().value!);
}

/** globalIn translates a kernel id (a tgid, else a tid, as signals and process groups carry) into ns: 0 when not visible. */
export function globalIn(ns: PidNamespace, id: number): number {
  if (ns.isRoot || id <= 0) return id;
  const k = ns.kernel;
  const g = k.groups.get(id);
  if (g) return pidIn(ns, g);
  const gone = recentNested.get(id);
  if (gone) return gone.ns.ancestorAt(ns.level) === ns ? gone.ids[ns.level] : 0;
  const t = k.tasks.get(id);
  return t ? tidIn(ns, t) : 0;
}

/** NO_SUCH_PID is a kernel id no task has: what a pid that is not visible translates to. */
export const NO_SUCH_PID = 0x7fffffff;

/** globalPid translates a pid as seen in ns into the kernel's id (NO_SUCH_PID when none; 0 and negatives unchanged). */
export function globalPid(ns: PidNamespace, id: number): number {
  if (ns.isRoot || id <= 0) return id;
  return ns.group(id)?.tgid ?? ns.task(id)?.tid ?? NO_SUCH_PID;
}

/** ppidOf is getppid as t sees it: its parent's pid in t's namespace, 0 when the parent is outside (a namespace's init). */
export function ppidOf(t: Task): number {
  return pidIn(pidNamespaceOf(t), t.tg.parent);
}

/** nsIdsOf returns a thread group's tgid at each level from the sandbox's down to its own (NSpid of /proc/<pid>/status). */
export function nsIdsOf(tg: ThreadGroup): number[] {
  return groupIds.get(tg) ?? [tg.tgid];
}

/** nsTidsOf returns a task's tid at each level (NSpid of /proc/<pid>/task/<tid>/status). */
export function nsTidsOf(t: Task): number[] {
  return taskPids.get(t)?.ids ?? [t.tid];
}

/** nsInitOf returns the init of the namespace tg lives in when it is not the sandbox's, else null. */
export function nestedInitOf(tg: ThreadGroup, k: Kernel): ThreadGroup | null {
  const ns = groupNamespaceOf(tg, k);
  return ns.isRoot ? null : ns.init;
}

/**
 * isNestedInit tells whether tg is the init of a namespace below the sandbox's (the
 * sandbox's init is Kernel.init, shielded by Kernel.initShielded).
 */
export function isNestedInit(tg: ThreadGroup, k: Kernel): boolean {
  const ns = groupNs.get(tg);
  return ns !== undefined && !ns.isRoot && ns.init === tg;
}

/**
 * senderOutside tells whether the sender of a signal to tg (kernel id senderPid) lives in
 * an ancestor of tg's namespace, which lets SIGKILL and SIGSTOP through to a namespace's
 * init (Linux's force for a sender with no pid in the target's namespace).
 */
export function senderOutside(tg: ThreadGroup, k: Kernel, senderPid: number): boolean {
  const ns = groupNamespaceOf(tg, k);
  if (ns.isRoot || senderPid <= 0) return false;
  return globalIn(ns, senderPid) === 0;
}

/** subreapers are the processes that set PR_SET_CHILD_SUBREAPER (not inherited by their children). */
const subreapers = new WeakSet<ThreadGroup>();

/** setChildSubreaper is prctl(PR_SET_CHILD_SUBREAPER): tg adopts its descendants' orphans. */
export function setChildSubreaper(tg: ThreadGroup, on: boolean): void {
  if (on) subreapers.add(tg);
  else subreapers.delete(tg);
}

/** isChildSubreaper is prctl(PR_GET_CHILD_SUBREAPER). */
export function isChildSubreaper(tg: ThreadGroup): boolean {
  return subreapers.has(tg);
}

/**
 * reaperFor returns who adopts the orphans of an exiting tg, as Linux's find_new_reaper:
 * the nearest live ancestor in tg's namespace that is a child subreaper, else the
 * namespace's init (the sandbox's for the sandbox's namespace).
 */
export function reaperFor(tg: ThreadGroup, k: Kernel): ThreadGroup | null {
  const own = groupNamespaceOf(tg, k);
  for (let p = tg.parent; p && groupNamespaceOf(p, k) === own; p = p.parent) {
    if (p === k.init || p === own.init) break;
    if (subreapers.has(p) && p.tasks.size > 0) return p;
  }
  for (let ns: PidNamespace | null = own; ns; ns = ns.parent) {
    if (ns.isRoot) return k.init && k.init !== tg ? k.init : null;
    // A dying init (zapPidNamespace) still collects the orphans of what it kills.
    if (ns.init && ns.init !== tg && (ns.init.tasks.size > 0 || ns.dead)) return ns.init;
  }
  return null;
}

/**
 * zapPidNamespace is the exit of a namespace's init (Linux's zap_pid_ns_processes): no task
 * may enter the namespace any more, every other task in it is killed, and the init reaps
 * its children (those whose parent is outside are left to that parent). `exitTask` and
 * `reap` are task-exit's, passed in to keep this module below it.
 */
export function zapPidNamespace(init: ThreadGroup, k: Kernel, kill: (t: Task) => void, reap: (g: ThreadGroup) => void): void {
  const ns = groupNamespaceOf(init, k);
  ns.dead = true;
  for (const g of ns.groupList()) if (g !== init) for (const t of [...g.tasks]) kill(t);
  for (const g of [...init.children]) if (g.zombie) reap(g);
}

/**
 * infoFor returns a signal's info as its receiver tg sees it: the sender's (or the
 * child's) pid, a kernel id, translated into tg's namespace (0 when the sender is not
 * visible there, as Linux's si_pid from an ancestor namespace). Unchanged when nothing to
 * translate (the same object).
 */
export function infoFor<T extends { pid?: number }>(tg: ThreadGroup, k: Kernel, info: T): T {
  if (info.pid === undefined || info.pid <= 0) return info;
  const ns = groupNamespaceOf(tg, k);
  if (ns.isRoot) return info;
  return { ...info, pid: globalIn(ns, info.pid) };
}

/**
 * nsStatusLines are /proc/<pid>/status's NStgid, NSpid, NSpgid and NSsid lines: the ids at
 * each level from the proc mount's namespace `from` down to the process's own (t: the
 * thread shown, the leader for /proc/<pid>).
 */
export function nsStatusLines(tg: ThreadGroup, t: Task | undefined, k: Kernel, from: PidNamespace = rootPidNamespace(k)): string[] {
  const levels: PidNamespace[] = [];
  for (let ns: PidNamespace | null = groupNamespaceOf(tg, k); ns && ns.level >= from.level; ns = ns.parent) levels.unshift(ns);
  const row = (f: (ns: PidNamespace) => number) => levels.map(f).join('\t');
  return [
    `NStgid:\t${row((ns) => pidIn(ns, tg))}`,
    `NSpid:\t${row((ns) => (t ? tidIn(ns, t) : pidIn(ns, tg)))}`,
    `NSpgid:\t${row((ns) => globalIn(ns, tg.pgid))}`,
    `NSsid:\t${row((ns) => globalIn(ns, tg.sid))}`,
  ];
}

/** taskByTid finds the live task a tid argument names as t's namespace numbers it (undefined: none visible). */
export function taskByTid(t: Task, tid: number): Task | undefined {
  return pidNamespaceOf(t).task(tid);
}

/** groupByPid finds the process (not reaped) a pid argument names as t's namespace numbers it. */
export function groupByPid(t: Task, pid: number): ThreadGroup | undefined {
  return pidNamespaceOf(t).group(pid);
}

/** seenBy translates a kernel id (a pid a kernel object recorded) into t's namespace: 0 when not visible there. */
export function seenBy(t: Task, id: number): number {
  return globalIn(pidNamespaceOf(t), id);
}
