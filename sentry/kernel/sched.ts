/**
 * Scheduler runs runnable tasks on the sentry's main thread, one at a time: it switches
 * into a task (Context.switch blocks until the task's next syscall or fault), handles
 * what stopped it, and goes on until the task blocks, exits, or has used its slice while
 * others wait. When no task is runnable it returns to Node's event loop, where host I/O
 * and timers wake tasks up (wake() queues them and schedules the loop again).
 *
 * Ordering rule: signals are delivered only between a syscall's completion and the next
 * switch into the task (and when a blocked task is woken by one), as Linux does on its
 * return to user mode.
 */
import { ERESTARTNOHAND, ERESTARTSYS, Errno } from './errors';
import type { Kernel } from './kernel';
import { deliverSignals, forceSignal, hasDeliverable, inSigwait } from './signals';
import { ptraceEnteredSyscall, ptraceStopsDue, ptraceSyscallEntry, ptraceSyscallExit } from './ptrace';
import { SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSYS, SIGTRAP, SEGV_ACCERR, SEGV_MAPERR } from './signal-types';
import type { Task } from './task';
import { exitGroup, exitTask } from './task-exit';
import { setRunning, takeDoomed } from '../mm/oom';
import { abortWait, Block } from './waiter';
import { timekeeper } from './timekeeper';
import { checkCpuTimers } from './itimers';
import { chargeSystemTime } from './cputime';
import { noteLeft, noteQueued, noteRun } from './sched-stats';
import { emulateVsyscall, isVsyscallEntry } from './vsyscall';
import { dispatchSyscall } from '../syscalls/linux/dispatch';
import { syscallName } from '../syscalls/linux/strace';
import { PHASES, phaseAdd, phaseAddSyscall, setSyscallNames } from '../../native/phases';

/** BUS_ADRERR is SIGBUS's code for an access to a nonexistent physical address (past a file's end). */
const BUS_ADRERR = 2;

setSyscallNames(syscallName); // the phase sums' per-syscall keys (native/phases.ts)

const SLICE_MS = 10;
const LOOP_MS = 50;

/** Scheduler owns the run queue. */
export class Scheduler {
  private readonly runq: Task[] = [];
  private scheduled = false;
  /** running is the task in Context.switch or in its syscall handler. */
  running: Task | null = null;
  /** paused: the container is paused (runc pause); runnable tasks wait in the queue. */
  private paused = false;

  /** setPaused pauses or resumes running application tasks. */
  setPaused(on: boolean): void {
    this.paused = on;
    if (!on) this.kick();
  }

  /** pausedContainers are pod containers paused alone (kernel/containers.ts); their runnable tasks wait in `held`. */
  private readonly pausedContainers = new Set<string>();
  private held: Task[] = [];

  /** setContainerPaused pauses or resumes the tasks of pod container `id` only. */
  setContainerPaused(id: string, on: boolean): void {
    if (on) {
      this.pausedContainers.add(id);
      return;
    }
    if (!this.pausedContainers.delete(id)) return;
    const back = this.held.filter((t) => t.tg.container === id);
    this.held = this.held.filter((t) => t.tg.container !== id);
    for (const t of back) {
      if (t.state !== 'runnable' || this.runq.includes(t)) continue;
      this.runq.push(t);
      noteQueued(t);
    }
    this.kick();
  }

  constructor(private readonly kernel: Kernel) {}

  /** stamping: the platform's own split of its round trips was turned on (the phase sums' syscalls mode, native/phases.ts). */
  private stamping = false;
  /** handlerMs is the last handler's time, for the phase sums' loop:dispatch. */
  private handlerMs = 0;
  /** lastSliceEnd is when the last slice that left its task runnable ended (0: none), for loop:gap. */
  private lastSliceEnd = 0;

  /** wake makes a blocked (or new) task runnable. */
  wake(t: Task): void {
    if (t.state === 'exited' || t.state === 'stopped') return;
    for (const u of t.unwait) u();
    t.unwait = [];
    timekeeper.disarm(t.wakeTimer);
    t.wakeTimer = null;
    if (t.state === 'runnable' && this.runq.includes(t)) return;
    t.state = 'runnable';
    if (this.running !== t) {
      this.runq.push(t);
      noteQueued(t);
    }
    this.kick();
  }

  /** kick schedules the run loop on Node's event loop. */
  kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.loop();
    });
  }

  private loop(): void {
    if (this.paused) return;
    if (PHASES.syscalls && !this.stamping) {
      this.stamping = true;
      this.kernel.platform.debugStamps?.(true);
    }
    const until = Date.now() + LOOP_MS;
    // This thread's CPU time over the batch is the system time of the tasks it ran
    // (cputime.ts): read twice per batch, not per syscall.
    const cpu0 = this.kernel.platform.tracerCpuNs?.() ?? 0;
    const ran: Task[] = [];
    while (!this.paused && this.runq.length > 0 && Date.now() < until) {
      const t = this.runq.shift()!;
      if (t.state !== 'runnable') continue;
      if (this.pausedContainers.size > 0 && t.tg.container !== null && this.pausedContainers.has(t.tg.container)) {
        if (!this.held.includes(t)) this.held.push(t);
        continue;
      }
      this.running = t;
      ran.push(t);
      noteRun(t);
      try {
        this.runTask(t);
      } catch (e) {
        this.kernel.log.error(`task ${t.tid} (${t.name}): internal error: ${(e as Error).stack ?? e}`);
        exitTask(t, { signal: SIGKILL });
      } finally {
        this.running = null;
      }
      noteLeft(t, t.state === 'runnable');
      if (t.state === 'runnable') {
        this.runq.push(t);
        noteQueued(t);
      }
    }
    if (ran.length > 0) chargeSystemTime(ran, (this.kernel.platform.tracerCpuNs?.() ?? 0) - cpu0);
    if (this.runq.length > 0 && !this.paused) this.kick();
  }

  private park(t: Task, b: Block): void {
    t.state = 'blocked';
    t.inSyscall = true;
    t.restartNoHandler = b.noRestart;
    const wake = () => this.wake(t);
    t.unwait = b.queues.map((q) => q.add(wake));
    if (b.deadline !== undefined) t.wakeTimer = timekeeper.arm(b.deadline, wake);
    // A signal that was pending but blocked may be deliverable under the mask the syscall
    // just installed (sigsuspend, ppoll, pselect): it interrupts the wait at once.
    if (hasDeliverable(t)) {
      t.interrupted = true;
      this.wake(t);
    }
  }

  /** runSyscall runs the current syscall's handler and records its result. Returns false if the task blocked. */
  private runSyscall(t: Task): boolean {
    // rt_sigtimedwait takes the signal that woke it, or fails with EINTR itself: it runs again.
    if (t.interrupted && inSigwait(t)) t.interrupted = false;
    if (t.interrupted) {
      t.interrupted = false;
      t.inSyscall = false;
      abortWait(t);
      if (t.restartNoHandler === 'eintr') {
        t.syscallState = undefined;
        t.regs.setReturn(-Errno.EINTR);
      } else {
        t.regs.setReturn(t.restartNoHandler ? -ERESTARTNOHAND : -ERESTARTSYS);
      }
      return true;
    }
    const w0 = performance.now();
    const nr = PHASES.on ? t.regs.sysno : 0; // read before the handler: execve replaces the registers
    const r = dispatchSyscall(t);
    const took = performance.now() - w0;
    t.cpu.handlerMs += took;
    if (PHASES.on) {
      phaseAddSyscall('sys', nr, took);
      this.handlerMs = took;
    }
    if (r instanceof Block) {
      if (t.state === 'exited') return false;
      this.park(t, r);
      return false;
    }
    t.inSyscall = false;
    if (t.state === 'exited') return false;
    if (r !== null) {
      t.syscallState = undefined;
      t.regs.setReturn(r);
    }
    return true;
  }

  private runTask(t: Task): void {
    setRunning(t.tg); // the OOM killer dooms rather than tears down the running process
    try {
      if (PHASES.syscalls) {
        const now = performance.now();
        if (this.lastSliceEnd > 0) phaseAdd('loop:gap', now - this.lastSliceEnd);
        this.runTaskSlice(t);
        this.lastSliceEnd = t.state === 'runnable' ? performance.now() : 0; // a gap after a block is idle time, not the loop's
      } else {
        this.runTaskSlice(t);
      }
    } finally {
      setRunning(null);
    }
  }

  /** phasesOfStop adds a stop's phases (native/phases.ts): the switch from s1 to s2 and, in
   * the syscalls mode, the loop before it (from s0), the timers after it (to now) and the
   * switch by the syscall it stopped at (when `atSyscall`). */
  private phasesOfStop(t: Task, atSyscall: boolean, s0: number, s1: number, s2: number): void {
    phaseAdd('switch', s2 - s1); // the trap and the application's own time
    if (!PHASES.syscalls) return;
    phaseAdd('loop:timers', performance.now() - s2);
    phaseAdd('loop:pre', s1 - s0);
    if (atSyscall) phaseAddSyscall('switch', t.regs.sysno, s2 - s1);
    this.handlerMs = 0;
  }

  /**
   * resumeTraced goes on where a tracee's ptrace-stop left it: the stops still due (an
   * event, a syscall's exit), then the syscall its entry stop held back (run, or skipped
   * when the tracer set orig_rax to -1). False when it stopped or blocked again.
   */
  private resumeTraced(t: Task): boolean {
    if (ptraceStopsDue(t)) return false;
    const entered = ptraceEnteredSyscall(t);
    if (entered === 'none') return true;
    if (entered === 'run' && !this.runSyscall(t)) return false;
    return !(t.traced && ptraceSyscallExit(t));
  }

  /** runTaskSlice runs t until it blocks, exits or its slice ends. */
  private runTaskSlice(t: Task): void {
    const sliceEnd = Date.now() + SLICE_MS;
    if (t.traced && !this.resumeTraced(t)) return;
    if (t.inSyscall && (!this.runSyscall(t) || (t.traced && ptraceSyscallExit(t)))) return;
    for (;;) {
      const s0 = PHASES.syscalls ? performance.now() : 0;
      // Chosen by the OOM killer while it allocated: SIGKILL now (mm/oom.ts).
      if (takeDoomed(t.tg)) {
        exitGroup(t, { signal: SIGKILL });
        return;
      }
      deliverSignals(t);
      if (t.state !== 'runnable') return;
      // At the end of its slice the task goes back to the queue, even alone: loop() then
      // returns to Node's event loop now and then, so host I/O (the control socket, stdio)
      // is served while a task computes. A task that makes no syscalls still comes back
      // here: its stub's ITIMER_VIRTUAL stops it every 10 ms of CPU (see native/stub).
      if (Date.now() > sliceEnd) return;
      const s1 = PHASES.on ? performance.now() : 0;
      const res = t.context().switch(t.mm.as, t.regs, t.fp);
      const s2 = PHASES.on ? performance.now() : 0;
      if (this.kernel.platform.pendingWork) this.kernel.platform.afterStop!(); // a spare stub's start-up, a step on
      checkCpuTimers(t);
      if (PHASES.on) this.phasesOfStop(t, res.kind === 'syscall', s0, s1, s2);
      switch (res.kind) {
        case 'syscall': {
          // A tracee resumed by PTRACE_SYSCALL stops at the entry first (kernel/ptrace.ts).
          if (t.traced && ptraceSyscallEntry(t)) return;
          const s3 = PHASES.syscalls ? performance.now() : 0;
          const ran = this.runSyscall(t);
          if (PHASES.syscalls) phaseAdd('loop:dispatch', performance.now() - s3 - this.handlerMs);
          if (!ran) return;
          if (t.traced && ptraceSyscallExit(t)) return;
          break;
        }
        case 'fault': {
          const addr = Number(res.address);
          const f0 = PHASES.on ? performance.now() : 0;
          const handled = (res.signal === SIGSEGV || res.signal === SIGBUS) && t.mm.handleFault(addr, res.access);
          if (PHASES.on) phaseAdd('fault', performance.now() - f0); // the memory manager's handling of a fault
          if (handled) break;
          if (takeDoomed(t.tg)) {
            exitGroup(t, { signal: SIGKILL }); // its fault ran the sandbox out of memory and it is the biggest
            return;
          }
          // A call into the vsyscall page: trapped by the stub's seccomp filter (the host
          // already returned to the caller), or a plain fault at an entry (vsyscall=none).
          if (res.signal === SIGSYS && emulateVsyscall(t, res.address, true)) break;
          if (res.signal === SIGSEGV && res.address === t.regs.rip && isVsyscallEntry(res.address) && emulateVsyscall(t, res.address, false)) break;
          // Past the end of a shared file mapping (or its tmpfs full): SIGBUS BUS_ADRERR, as Linux.
          if ((res.signal === SIGSEGV || res.signal === SIGBUS) && t.mm.isBusFault(addr)) {
            forceSignal(t, { signo: SIGBUS, code: BUS_ADRERR, addr: res.address });
            break;
          }
          const code = res.signal === SIGSEGV ? (t.mm.findVma(addr) ? SEGV_ACCERR : SEGV_MAPERR) : res.code;
          forceSignal(t, { signo: [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP].includes(res.signal) ? res.signal : SIGSEGV, code, addr: res.address });
          break;
        }
        case 'interrupted':
          break;
        case 'exited':
          // The stub thread died under us (killed from outside): the task dies with it.
          exitTask(t, { signal: SIGKILL });
          return;
      }
    }
  }
}
