/**
 * IpcNamespace is one IPC namespace: its System V shared memory segments, semaphore
 * sets and message queues, each in its own id space, its POSIX message queues by name,
 * and the limits it enforces (what
 * /proc/sys/kernel/{shmmax,shmall,shmmni,sem,msgmax,msgmnb,msgmni} show). A sandbox has
 * one, the kernel's; a task reaches it through ipcNamespaceOf(), which reads the task's
 * own (Task.ipcns, inherited by clone) so that a later CLONE_NEWIPC/unshare only has to
 * give a task a new IpcNamespace.
 *
 * Lifetime, as Linux's free_ipc_ns: a namespace made by CLONE_NEWIPC counts its users,
 * the tasks in it (setIpcNamespace, left at exit) and the open nsfs files naming it
 * (/proc/<pid>/ns/ipc held open: holdIpcNamespace). When the last goes, its objects are
 * destroyed as IPC_RMID and mq_unlink destroy them: an unattached shared memory segment
 * gives its memory back at once, an attached one is marked SHM_DEST and goes with its
 * last detach, semaphore sets and message queues give back their budget, a POSIX queue
 * still open through a descriptor lives until that closes. The sandbox's own namespace
 * lives as long as the sandbox.
 */
import type { Kernel } from '../kernel';
import type { Task } from '../task';
import { MsgQueue, MSGMAX, MSGMNB, MSGMNI } from './msg';
import { MQ_MSG_DEFAULT, MQ_MSG_MAX, MQ_MSGSIZE_DEFAULT, MQ_MSGSIZE_MAX, MQ_QUEUES_MAX, unlinkMq, type PosixMq } from './mqueue';
import { IpcRegistry } from './perm';
import { SemSet, SEMMNI, SEMMNS, SEMMSL, SEMOPM } from './sem';
import { ShmSegment, SHMALL, SHMMAX, SHMMNI } from './shm';

/** IpcLimits are a namespace's sysctls (Linux's defaults). */
export interface IpcLimits {
  shmmax: bigint;
  shmall: bigint;
  shmmni: number;
  semmsl: number;
  semmns: number;
  semopm: number;
  semmni: number;
  msgmax: number;
  msgmnb: number;
  msgmni: number;
  /** The POSIX message queue limits (/proc/sys/fs/mqueue). */
  mqQueuesMax: number;
  mqMsgMax: number;
  mqMsgsizeMax: number;
  mqMsgDefault: number;
  mqMsgsizeDefault: number;
}

/** IpcNamespace is one IPC namespace. */
export class IpcNamespace {
  readonly limits: IpcLimits = {
    shmmax: SHMMAX, shmall: SHMALL, shmmni: SHMMNI,
    semmsl: SEMMSL, semmns: SEMMNS, semopm: SEMOPM, semmni: SEMMNI,
    msgmax: MSGMAX, msgmnb: MSGMNB, msgmni: MSGMNI,
    mqQueuesMax: MQ_QUEUES_MAX, mqMsgMax: MQ_MSG_MAX, mqMsgsizeMax: MQ_MSGSIZE_MAX, mqMsgDefault: MQ_MSG_DEFAULT, mqMsgsizeDefault: MQ_MSGSIZE_DEFAULT,
  };
  readonly shm = new IpcRegistry<ShmSegment>(() => this.limits.shmmni, this);
  readonly sem = new IpcRegistry<SemSet>(() => this.limits.semmni, this);
  readonly msg = new IpcRegistry<MsgQueue>(() => this.limits.msgmni, this);
  /** mqueues are the POSIX message queues by name (what /dev/mqueue lists). */
  readonly mqueues = new Map<string, PosixMq>();

  /** shmPages is the pages of every segment (what SHMALL bounds, SHM_INFO's shm_tot). */
  shmPages(): number {
    return this.shm.objects().reduce((n, s) => n + s.pages, 0);
  }

  /** semCount is the semaphores of every set (what SEMMNS bounds). */
  semCount(): number {
    return this.sem.objects().reduce((n, s) => n + s.nsems, 0);
  }

  /** users counts the tasks in the namespace and the open files naming it; permanent marks the sandbox's own (never counted). */
  private users = 0;
  private permanent = false;
  /** destroyed is set once the last user left (and the objects went). */
  destroyed = false;

  /** hold adds a user (a task entering it, an nsfs file opened on it). */
  hold(): void {
    if (!this.permanent) this.users++;
  }

  /** release drops a user; the last one destroys every object of the namespace (see the header). */
  release(): void {
    if (this.permanent || --this.users > 0) return;
    this.destroyed = true;
    for (const s of this.shm.objects()) s.markRemoved();
    for (const s of this.sem.objects()) this.sem.remove(s);
    for (const q of this.msg.objects()) this.msg.remove(q);
    for (const name of [...this.mqueues.keys()]) unlinkMq(this, name);
  }

  /** makePermanent exempts the namespace from counting (the sandbox's own). */
  makePermanent(): void {
    this.permanent = true;
  }
}

const roots = new WeakMap<Kernel, IpcNamespace>();

/** ipcNamespaceOf returns the task's IPC namespace (the sandbox's, unless the task was given another). */
export function ipcNamespaceOf(t: Task): IpcNamespace {
  return (t.ipcns ??= sandboxIpcNamespace(t.kernel));
}

/** sandboxIpcNamespace returns the kernel's IPC namespace (for /proc/sysvipc and /proc/sys/kernel when no task is at hand). */
export function sandboxIpcNamespace(k: Kernel): IpcNamespace {
  let ns = roots.get(k);
  if (!ns) {
    roots.set(k, (ns = new IpcNamespace()));
    ns.makePermanent();
  }
  return ns;
}

/**
 * setIpcNamespace moves t into ns (null: the sandbox's), holding ns and releasing the
 * namespace t leaves (clone, unshare, setns).
 */
export function setIpcNamespace(t: Task, ns: IpcNamespace | null): void {
  ns?.hold();
  const old = t.ipcns;
  t.ipcns = ns;
  old?.release();
}

/** leaveIpcNamespace drops an exiting task's use of its namespace (the task keeps naming it, for /proc). */
export function leaveIpcNamespace(t: Task): void {
  t.ipcns?.release();
}
