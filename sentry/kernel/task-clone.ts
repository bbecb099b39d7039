/**
 * clone: new processes (fork, vfork) and new threads. A new process gets a copy of the
 * address space (copy-on-write: MemoryManager.fork), of the descriptor table and of the
 * file system context; a thread shares all three. CLONE_VM shares the address space (one more user
 * of the MemoryManager): so does vfork (CLONE_VM|CLONE_VFORK), whose parent sleeps until
 * the child execs (which gives the child a new MemoryManager and drops its use of the
 * shared one) or exits (which drops its use only), as posix_spawn relies on.
 */
import { checkNproc } from './rlimit-checks';
import { Errno, fail } from './errors';
import { Credentials } from './credentials';
import type { Task } from './task';
import { Task as TaskClass } from './task';
import { ThreadGroup } from './thread-group';
import { WaitQueue } from './waiter';
import { forkedSched } from './sched-policy';
import { inheritTimerSlack } from './timer-slack';

export const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_PIDFD = 0x1000,
  CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000, CLONE_NEWNS = 0x20000,
  CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000,
  CLONE_DETACHED = 0x400000, CLONE_UNTRACED = 0x800000, CLONE_CHILD_SETTID = 0x1000000, CLONE_NEWCGROUP = 0x2000000,
  CLONE_NEWUTS = 0x4000000, CLONE_NEWIPC = 0x8000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000,
  CLONE_NEWNET = 0x40000000, CLONE_IO = 0x80000000;

/** CloneArgs are clone's arguments, decoded. */
export interface CloneArgs {
  flags: number;
  exitSignal: number;
  stack: bigint;
  parentTid: bigint;
  childTid: bigint;
  tls: bigint;
}

const NAMESPACES = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

/** cloneTask creates the child task and makes it runnable; it returns the child. */
export function cloneTask(parent: Task, a: CloneArgs): Task {
  const f = a.flags;
  const k = parent.kernel;
  if (f & NAMESPACES) fail(Errno.EPERM);
  if (f & CLONE_THREAD && !(f & CLONE_SIGHAND)) fail(Errno.EINVAL);
  if (f & CLONE_SIGHAND && !(f & CLONE_VM)) fail(Errno.EINVAL);
  checkNproc(parent);
  const thread = (f & CLONE_THREAD) !== 0;
  // The stack and the thread pointer are written at once by both sides: copied now.
  const mm = f & CLONE_VM ? parent.mm.ref() : parent.mm.fork([Number(parent.regs.rsp), Number(parent.regs.fsBase)]);
  const fds = f & CLONE_FILES ? parent.fds.ref() : parent.fds.fork();
  const fs = f & CLONE_FS ? parent.fs : { ...parent.fs };
  const regs = cloneRegisters(parent);
  const tid = k.allocId();
  let tg: ThreadGroup;
  if (thread) {
    tg = parent.tg;
  } else {
    const parentGroup = f & CLONE_PARENT ? parent.tg.parent : parent.tg;
    tg = new ThreadGroup(tid, parentGroup, null);
    tg.pgid = parent.tg.pgid;
    tg.sid = parent.tg.sid;
    tg.actions = f & CLONE_SIGHAND ? parent.tg.actions : parent.tg.actions.map((x) => ({ ...x }));
    tg.rlimits = new Map(parent.tg.rlimits);
    tg.oom = { ...parent.tg.oom };
    tg.exitSignal = a.exitSignal;
    parentGroup?.children.add(tg);
    k.groups.set(tid, tg);
  }
  const child = new TaskClass(k, tid, tg, regs, parent.fp.clone(), mm, fds, fs, parent.creds.clone() as Credentials);
  if (!thread) tg.leader = child;
  tg.tasks.add(child);
  child.name = parent.name;
  child.nice = parent.nice;
  child.sigmask = parent.sigmask;
  child.sched = forkedSched(parent.sched);
  child.personality = parent.personality;
  child.ipcns = parent.ipcns;
  child.cpus = parent.cpus;
  inheritTimerSlack(parent, child);
  k.tasks.set(tid, child);
  // The child returns 0 from clone, on its new stack and TLS if given.
  child.regs.rax = 0n;
  if (a.stack !== 0n) child.regs.rsp = a.stack;
  if (f & CLONE_SETTLS) child.regs.set('fsBase', a.tls);
  const tidBuf = Buffer.alloc(4);
  tidBuf.writeInt32LE(tid);
  if (f & CLONE_PARENT_SETTID) parent.mm.write(a.parentTid, tidBuf);
  if (f & CLONE_CHILD_SETTID) child.mm.write(a.childTid, tidBuf);
  if (f & CLONE_CHILD_CLEARTID) child.clearChildTid = a.childTid;
  if (f & CLONE_VFORK) child.vforkDone = new WaitQueue();
  k.sched.wake(child);
  return child;
}

function cloneRegisters(parent: Task) {
  const regs = new (parent.regs.constructor as new () => typeof parent.regs)();
  parent.regs.buffer.copy(regs.buffer);
  return regs;
}
