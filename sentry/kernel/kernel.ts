/**
 * Kernel is the sandbox's kernel state: the platform, the pid namespace (tasks and
 * thread groups by id), the mount namespace, the scheduler, and the sandbox identity.
 * There is one per sentry process; pid 1 is the container's init.
 */
import type { Platform } from '../../platform';
import type { MountNamespace } from '../vfs/mount';
import type { SentryLog } from '../log';
import { Scheduler } from './sched';
import type { SeccompFilter } from '../seccomp';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';
import type { Terminal } from '../fsimpl/host/tty';

/** UTS_RELEASE and UTS_VERSION are the kernel release and version the sandbox reports
 * (uname(2), /proc/version, kernel.osrelease and kernel.version). */
export const UTS_RELEASE = '4.4.0', UTS_VERSION = '#1 SMP Sun Jan 10 15:06:54 PST 2016';

import { PID_MAX } from './pid-namespace';

export { PID_MAX };

/** Kernel is the sentry's global state. */
export class Kernel {
  readonly tasks = new Map<number, Task>();
  readonly groups = new Map<number, ThreadGroup>();
  readonly sched: Scheduler;
  private nextId = 1;
  hostname = 'tvisor';
  domainname = '(none)';
  /** init is the container's pid 1 (set when it starts). */
  init: ThreadGroup | null = null;
  /**
   * initShielded: init takes only the signals it has a handler for, as the init of a pid
   * namespace does. False when config.json asks for no pid namespace: init is then an
   * ordinary process for signals, as under runc (a SIGTERM it does not handle ends it).
   */
  initShielded = true;
  /** onInitExit is called with the wait status of init when it exits. */
  onInitExit: (status: number) => void = () => undefined;
  readonly bootTime = Date.now();
  /** futexWake wakes up to n waiters on a futex word (set by the futex implementation). */
  futexWake?: (t: Task, addr: bigint, n: number) => number;
  /**
   * terminals are the sandbox's terminals (/dev/pts/N), each the controlling terminal of
   * one session; terminalWatchers (devfs) learn of each one that comes or goes.
   */
  readonly terminals = new Set<Terminal>();
  readonly terminalWatchers: { added(t: Terminal): void; removed(t: Terminal): void }[] = [];
  /** seccomp is the container's linux.seccomp profile, applied to every application syscall. */
  seccomp: SeccompFilter | null = null;
  /** containerSeccomp holds each pod container's own linux.seccomp profile, for its processes (kernel/containers.ts). */
  readonly containerSeccomp = new Map<string, SeccompFilter>();
  /** strace logs every syscall when set. */
  strace = false;
  /** syscallCoverage, when set, collects the numbers of the implemented syscalls made. */
  syscallCoverage: Set<number> | null = null;

  constructor(readonly platform: Platform, public mounts: MountNamespace, readonly log: SentryLog) {
    this.sched = new Scheduler(this);
  }

  /** allocId returns the next free pid/tid. */
  allocId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= PID_MAX ? 2 : this.nextId + 1;
      if (!this.tasks.has(id) && !this.groups.has(id)) return id;
    }
  }

  /** addTerminal lists a new terminal (its constructor calls this). */
  addTerminal(t: Terminal): void {
    this.terminals.add(t);
    for (const w of this.terminalWatchers) w.added(t);
  }

  /** removeTerminal forgets a terminal whose last description closed. */
  removeTerminal(t: Terminal): void {
    if (!this.terminals.delete(t)) return;
    for (const w of this.terminalWatchers) w.removed(t);
  }

  /** controllingTerminal is session sid's terminal, if it has one. */
  controllingTerminal(sid: number): Terminal | undefined {
    for (const t of this.terminals) if (t.sid === sid) return t;
    return undefined;
  }

  /** ttyForeground is the foreground process group of init's terminal (0 without one). */
  get ttyForeground(): number {
    return this.init ? (this.controllingTerminal(this.init.sid)?.foreground ?? 0) : 0;
  }

  /** uptime in seconds. */
  get uptime(): number {
    return (Date.now() - this.bootTime) / 1000;
  }
}
