/**
 * clone: new processes (fork, vfork) and new threads. A new process gets a copy of the
 * address space (copy-on-write: MemoryManager.fork), of the descriptor table and of the
 * file system context; a thread shares all three. CLONE_VM shares the address space (one more user
 * of the MemoryManager): so does vfork (CLONE_VM|CLONE_VFORK), whose parent sleeps until
 * the child execs (which gives the child a new MemoryManager and drops its use of the
 * shared one) or exits (which drops its use only), as posix_spawn relies on.
 */
import { ptraceClone } from './ptrace';
import { showForkedTitle } from './host-title';
import { checkNproc } from './rlimit-checks';
import { checkPidsLimit } from './pids-limit';
import { Errno, fail } from './errors';
import { Credentials } from './credentials';
import type { Task } from './task';
import { Task as TaskClass } from './task';
import { ThreadGroup } from './thread-group';
import { WaitQueue } from './waiter';
import { forkedSched } from './sched-policy';
import { inheritTimerSlack } from './timer-slack';

export * from './clone-flags';
import {
  CLONE_FILES, CLONE_FS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_SETTLS,
  CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_THREAD, CLONE_VFORK, CLONE_VM,
} from './clone-flags';
import { CAP_SYS_ADMIN } from './capabilities';
import { defaultAction, SIG_DFL, SIG_IGN } from './signal-types';
import { enterPidNamespace, isNestedInit, pidNamespaceOf, tidIn } from './pid-namespace';
import { newNamespaces } from './namespaces';
import { enterCopy } from './mount-namespaces';
import { setIpcNamespace } from './ipc/namespace';
import { inheritTerminal } from './process-group';
import { joinGroup } from './sessions';

/** CAP_CHECKPOINT_RESTORE (40) also lets clone3 choose pids (set_tid). */
const CAP_CHECKPOINT_RESTORE = 40;

/** CloneArgs are clone's arguments, decoded. */
export interface CloneArgs {
  flags: number;
  exitSignal: number;
  stack: bigint;
  parentTid: bigint;
  childTid: bigint;
  tls: bigint;
  /** setTid is clone3's set_tid: the pid wanted in the child's namespace, then in each parent (checked by the caller). */
  setTid?: number[];
  /** clearSighand is clone3's CLONE_CLEAR_SIGHAND: the child's handlers back to SIG_DFL (SIG_IGN kept). */
  clearSighand?: boolean;
}

/** cloneTask creates the child task and makes it runnable; it returns the child. */
export function cloneTask(parent: Task, a: CloneArgs): Task {
  const f = a.flags;
  const k = parent.kernel;
  // Linux's copy_namespaces: a new IPC namespace cannot share the undo list.
  if ((f & (CLONE_NEWIPC | CLONE_SYSVSEM)) === (CLONE_NEWIPC | CLONE_SYSVSEM)) fail(Errno.EINVAL);
  // A new mount namespace cannot share the root and cwd of the old one (copy_process).
  if ((f & (CLONE_NEWNS | CLONE_FS)) === (CLONE_NEWNS | CLONE_FS)) fail(Errno.EINVAL);
  if (f & CLONE_THREAD && !(f & CLONE_SIGHAND)) fail(Errno.EINVAL);
  if (f & CLONE_SIGHAND && !(f & CLONE_VM)) fail(Errno.EINVAL);
  // Linux's copy_process: a thread stays in its creator's pid namespace, and an init
  // (the sandbox's or a namespace's) cannot make siblings with CLONE_PARENT.
  if (f & CLONE_THREAD && f & (CLONE_NEWPID | CLONE_NEWUSER)) fail(Errno.EINVAL);
  // A new user namespace cannot share the root and cwd of the old one (copy_process).
  if ((f & (CLONE_NEWUSER | CLONE_FS)) === (CLONE_NEWUSER | CLONE_FS)) fail(Errno.EINVAL);
  if (f & CLONE_PARENT && (parent.tg === k.init || isNestedInit(parent.tg, k))) fail(Errno.EINVAL);
  checkNproc(parent);
  checkPidsLimit(k);
  const ns = newNamespaces(parent, f);
  if (f & CLONE_THREAD && ns.pidns !== pidNamespaceOf(parent)) fail(Errno.EINVAL);
  const thread = (f & CLONE_THREAD) !== 0;
  // The stack and the thread pointer are written at once by both sides: copied now; the
  // child resumes at the parent's instruction: its code is mapped now too.
  const mm = f & CLONE_VM ? parent.mm.ref() : parent.mm.fork([Number(parent.regs.rsp), Number(parent.regs.fsBase)], Number(parent.regs.rip));
  const fds = f & CLONE_FILES ? parent.fds.ref() : parent.fds.fork();
  const fs = f & CLONE_FS ? parent.fs : { ...parent.fs };
  const regs = cloneRegisters(parent);
  // Checked before anything is made: a pid at every level of the child's pid namespace.
  const setTid = a.setTid ?? [];
  ns.pidns.checkEnter(setTid, parent.creds.capable(CAP_SYS_ADMIN) || parent.creds.capable(CAP_CHECKPOINT_RESTORE));
  // The sandbox's level is the kernel's ids: set_tid's last entry when it names that level.
  const tid = setTid.length === ns.pidns.level + 1 ? setTid[ns.pidns.level] : k.allocId();
  let tg: ThreadGroup;
  if (thread) {
    tg = parent.tg;
  } else {
    const parentGroup = f & CLONE_PARENT ? parent.tg.parent : parent.tg;
    tg = new ThreadGroup(tid, parentGroup, null);
    joinGroup(tg, parent.tg.processGroup);
    inheritTerminal(parent.tg, tg);
    tg.actions = f & CLONE_SIGHAND ? parent.tg.actions
      // CLONE_CLEAR_SIGHAND is Linux's flush_signal_handlers: SIG_IGN stays, the rest SIG_DFL, no flags or mask.
      : parent.tg.actions.map((x) => (a.clearSighand ? { ...defaultAction(), handler: x.handler === SIG_IGN ? SIG_IGN : SIG_DFL } : { ...x }));
    tg.rlimits = new Map(parent.tg.rlimits);
    tg.oom = { ...parent.tg.oom };
    tg.exitSignal = a.exitSignal;
    tg.container = parent.tg.container;
    parentGroup?.children.add(tg);
    k.groups.set(tid, tg);
  }
  const child = new TaskClass(k, tid, tg, regs, parent.fp.clone(), mm, fds, fs, ns.creds ?? parent.creds.clone() as Credentials);
  if (!thread) tg.leader = child;
  tg.tasks.add(child);
  child.name = parent.name;
  if (!(f & CLONE_VM)) showForkedTitle(child); // a new host process: the parent's name and arguments, soon
  child.nice = parent.nice;
  child.ioprio = parent.ioprio;
  child.sigmask = parent.sigmask;
  child.sched = forkedSched(parent.sched);
  child.personality = parent.personality;
  setIpcNamespace(child, ns.ipcns);
  enterPidNamespace(child, ns.pidns, !thread, a.setTid);
  child.utsns = ns.utsns;
  child.cgroupns = ns.cgroupns;
  child.cpus = parent.cpus;
  inheritTimerSlack(parent, child);
  k.tasks.set(tid, child);
  child.mntns = parent.mntns;
  enterCopy(child, ns.mntns);
  // The child returns 0 from clone, on its new stack and TLS if given.
  child.regs.rax = 0n;
  if (a.stack !== 0n) child.regs.rsp = a.stack;
  if (f & CLONE_SETTLS) child.regs.set('fsBase', a.tls);
  // The parent's copy holds the tid as its namespace shows it, the child's as the child's does.
  const tidBuf = Buffer.alloc(4);
  tidBuf.writeInt32LE(tidIn(pidNamespaceOf(parent), child));
  if (f & CLONE_PARENT_SETTID) parent.mm.write(a.parentTid, tidBuf);
  tidBuf.writeInt32LE(tidIn(pidNamespaceOf(child), child));
  if (f & CLONE_CHILD_SETTID) child.mm.write(a.childTid, tidBuf);
  if (f & CLONE_CHILD_CLEARTID) child.clearChildTid = a.childTid;
  if (f & CLONE_VFORK) child.vforkDone = new WaitQueue();
  ptraceClone(parent, child, f, a.exitSignal);
  k.sched.wake(child);
  return child;
}

function cloneRegisters(parent: Task) {
  const regs = new (parent.regs.constructor as new () => typeof parent.regs)();
  parent.regs.buffer.copy(regs.buffer);
  return regs;
}
