/**
 * Task is one application thread: its registers and FP state, the platform context it
 * runs on, and what it shares with other tasks (memory, descriptors, file system
 * context, signal dispositions through its thread group).
 *
 * Life cycle: runnable -> (running in Context.switch) -> runnable | blocked | exited.
 * A blocked task has a syscall in progress (`inSyscall`): when woken, it runs that
 * syscall's handler again from the start; handlers keep what must survive in
 * `syscallState`.
 */
import type { Context, FpState, Registers } from '../../platform';
import type { MemoryManager } from '../mm/mm';
import type { FdTable } from '../vfs/fd-table';
import type { Location, MountNamespace } from '../vfs/mount';
import type { Credentials } from './credentials';
import type { Kernel } from './kernel';
import type { SignalInfo } from './signal-types';
import type { ThreadGroup } from './thread-group';
import type { Tracee } from './ptrace';
import type { Interruption, WaitQueue } from './waiter';
import type { Deadline } from './timekeeper';
import type { IpcNamespace } from './ipc/namespace';
import type { CgroupNamespace, UtsNamespace } from './namespaces';
import { DEFAULT_SCHED, type SchedPolicy } from './sched-policy';
import { TaskCpu } from './cputime';

/** FsContext is the root, cwd and umask (shared by CLONE_FS threads). */
export interface FsContext {
  root: Location;
  cwd: Location;
  umask: number;
}

export type TaskState = 'runnable' | 'blocked' | 'stopped' | 'exited';

/** Task is one thread of the application. */
export class Task {
  state: TaskState = 'runnable';
  /** sigmask is the set of blocked signals. */
  sigmask = 0n;
  /** savedSigmask is restored after a handler runs (sigsuspend, ppoll, pselect). */
  savedSigmask: bigint | null = null;
  /** pending holds thread-directed signals. */
  readonly pending: SignalInfo[] = [];
  altstack = { sp: 0n, size: 0, flags: 2 /* SS_DISABLE */ };
  /** inSyscall is set while a blocked syscall waits to be run again. */
  inSyscall = false;
  syscallState: unknown = undefined;
  /** interrupted is set when a signal woke the task out of a blocked syscall. */
  interrupted = false;
  /** restartNoHandler: how a signal interrupts the blocked syscall (Block.noRestart, waiter.ts's Interruption). */
  restartNoHandler: Interruption = false;
  /** unwait removes the task from the queues it sleeps on. */
  unwait: Array<() => void> = [];
  wakeTimer: Deadline | null = null;
  /** clearChildTid is set_tid_address's pointer, cleared and futex-woken at exit. */
  clearChildTid = 0n;
  /** vforkDone is notified when a vfork child execs or exits (its parent waits on it). */
  vforkDone: WaitQueue | null = null;
  exitCode = 0;
  /** name is the comm shown in /proc (the executable's base name, 15 bytes). */
  name = '';
  /** sched is the scheduling policy (sched-policy.ts); fork copies it, exec keeps it. */
  sched: SchedPolicy = { ...DEFAULT_SCHED };
  /** personality is personality(2)'s execution domain; fork copies it, exec keeps it. */
  personality = 0;
  /** ipcns is the task's System V IPC namespace (null: the sandbox's; ipc/namespace.ts); clone copies it. */
  ipcns: IpcNamespace | null = null;
  /** utsns is the task's UTS namespace (null: the kernel's; namespaces.ts); clone copies it. */
  utsns: UtsNamespace | null = null;
  /** cgroupns is the task's cgroup namespace (null: the sandbox's; namespaces.ts); clone copies it. */
  cgroupns: CgroupNamespace | null = null;
  /** mntns is the task's mount namespace (null: the kernel's; mount-namespaces.ts); clone copies it. */
  mntns: MountNamespace | null = null;

  constructor(
    readonly kernel: Kernel,
    readonly tid: number,
    public tg: ThreadGroup,
    public regs: Registers,
    public fp: FpState,
    public mm: MemoryManager,
    public fds: FdTable,
    public fs: FsContext,
    public creds: Credentials,
  ) {}

  /** traced is the task's side of ptrace when a tracer traces it (kernel/ptrace.ts). */
  traced: Tracee | null = null;
  /** tracees are the tasks this task traces (null: none yet). */
  tracees: Set<Task> | null = null;

  /** ctx is the platform context this task runs on (one stub thread per task). */
  ctx: Context | null = null;
  /** nice is the task's nice value (-20..19; getpriority/setpriority). */
  nice = 0;
  /** ioprio is the task's I/O priority, class << 13 | data (ioprio_set/ioprio_get; 0 is
   * IOPRIO_CLASS_NONE, which follows the nice value). */
  ioprio = 0;
  /** cpus is the task's CPU affinity (sched_setaffinity), null for the mask the sandbox started with (cpus.ts: initial, else allowed). */
  cpus: number[] | null = null;
  /** cpu accounts the CPU time the task spent (cputime.ts). */
  readonly cpu = new TaskCpu();

  get pid(): number {
    return this.tg.tgid;
  }

  /** context returns the task's platform context, creating it on first use. */
  context(): Context {
    if (!this.ctx) this.ctx = this.kernel.platform.newContext();
    return this.ctx;
  }

  get root(): Location {
    return this.fs.root;
  }

  get cwd(): Location {
    return this.fs.cwd;
  }
}
