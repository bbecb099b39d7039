/**
 * ThreadGroup is a process: the tasks (threads) sharing a pid, its signal dispositions,
 * its place in the process tree (parent, children, process group, session) and, once it
 * has exited, its wait status until the parent reaps it.
 */
import { defaultAction, type SigAction, type SignalInfo } from './signal-types';
import type { Task } from './task';
import { WaitQueue } from './waiter';
import type { Deadline } from './timekeeper';
import { GroupCpu } from './cputime';
import { joinGroup, newSessionGroup, type ProcessGroup } from './sessions';

/** ThreadGroup is one process. */
export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly children = new Set<ThreadGroup>();
  /** actions[signo] is the disposition of each signal (shared by the threads). */
  actions: SigAction[] = Array.from({ length: 65 }, defaultAction);
  /** pending holds process-directed signals not yet delivered. */
  readonly pending: SignalInfo[] = [];
  /** childEvents is notified when a child exits or changes state (wait4 sleeps on it). */
  readonly childEvents = new WaitQueue();
  /** exitStatus is the wait status once the whole group has exited. */
  exitStatus: number | null = null;
  /** zombie: exited, not yet reaped. */
  zombie = false;
  /** exiting: exit_group or a fatal signal is tearing the group down. */
  exiting = false;
  /** processGroup is the process's group, in its session (sessions.ts). */
  processGroup!: ProcessGroup;
  readonly startTime = Date.now();
  /** alarmTimer is the pending alarm(2), if any. */
  alarmTimer: Deadline | null = null;
  /** alarmInterval is ITIMER_REAL's period in ms (0: one-shot). */
  alarmInterval = 0;
  /** cpu accounts the process's CPU time and its CPU interval timers (cputime.ts). */
  readonly cpu = new GroupCpu();
  /** rlimits: resource -> [soft, hard]. */
  rlimits = new Map<number, [bigint, bigint]>();
  /** oom is the process's oom_score_adj and the floor below which only CAP_SYS_RESOURCE
   * may lower it (Linux's signal->oom_score_adj and oom_score_adj_min); fork copies both. */
  oom = { adj: 0, min: 0 };
  /** stopped by a job-control signal (stopSignal). */
  stopped = false;
  stopSignal = 0;
  /** childStatusChanged holds children whose stop/continue is not yet reported. */
  readonly waitableStops = new Set<ThreadGroup>();
  name = '';
  /** exitWatcher, set for processes started from outside (exec), learns the wait status. */
  exitWatcher: ((status: number) => void) | null = null;
  /** exitSignal is sent to the parent at exit (SIGCHLD unless clone said otherwise). */
  exitSignal = 17;
  /** container is the id of the pod container the process belongs to (kernel/containers.ts;
   * null: the sandbox's own container); fork copies it. */
  container: string | null = null;

  constructor(readonly tgid: number, public parent: ThreadGroup | null, public leader: Task | null) {
    // A child starts in its parent's group; a process started from outside leads a new session.
    joinGroup(this, parent ? parent.processGroup : newSessionGroup(tgid));
  }

  /** pgid is the id of the process's group. */
  get pgid(): number {
    return this.processGroup.id;
  }

  /** sid is the id of the process's session. */
  get sid(): number {
    return this.processGroup.session.id;
  }

  get alive(): boolean {
    return !this.zombie && this.exitStatus === null;
  }
}
