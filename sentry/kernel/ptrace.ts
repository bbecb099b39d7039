/**
 * ptrace's model in the sentry: a tracer/tracee relation between tasks, ptrace-stops as a
 * kind of stop, reported to the tracer's wait as Linux does (ptrace(2)). No host ptrace is
 * involved: the tracer reads and changes the tracee's saved registers and memory, which
 * the platform loads when the tracee runs again.
 *
 * Invariants: `t.traced` is set exactly while t has a tracer, and then t is in its
 * tracer's `tracees`; a tracee in a ptrace-stop has `traced.stop` set and state 'stopped'
 * (the scheduler's wake() leaves it alone, a SIGCONT does not resume it); only the tracer's
 * resume (CONT, DETACH, the tracer's exit) or SIGKILL ends the stop. The tracer is a task
 * (a thread), as in Linux; any thread of its process may wait for the tracee.
 */
import { Errno, fail } from './errors';
import { SA_NOCLDSTOP, SIGCHLD, SIGKILL, SIGSTOP, SIGTRAP, type SignalInfo } from './signal-types';
import type { Task } from './task';
import type { Credentials } from './credentials';
import { sendToGroup, sendToTask } from './signals';

/** CAP_SYS_PTRACE lets a task trace another user's tasks. */
export const CAP_SYS_PTRACE = 19;

/** PTRACE_O_* options (linux/ptrace.h). */
export const PTRACE_O_TRACESYSGOOD = 1, PTRACE_O_TRACEFORK = 2, PTRACE_O_TRACEVFORK = 4, PTRACE_O_TRACECLONE = 8,
  PTRACE_O_TRACEEXEC = 0x10, PTRACE_O_TRACEVFORKDONE = 0x20, PTRACE_O_TRACEEXIT = 0x40, PTRACE_O_TRACESECCOMP = 0x80,
  PTRACE_O_EXITKILL = 0x100000, PTRACE_O_SUSPEND_SECCOMP = 0x200000;
/** PTRACE_O_MASK is every option Linux accepts. */
export const PTRACE_O_MASK = 0xff | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP;
/** PTRACE_EVENT_* are the events of ptrace-stops (status >> 16); STOP is a SEIZEd tracee's PTRACE_INTERRUPT stop. */
export const PTRACE_EVENT_FORK = 1, PTRACE_EVENT_VFORK = 2, PTRACE_EVENT_CLONE = 3, PTRACE_EVENT_EXEC = 4, PTRACE_EVENT_EXIT = 6, PTRACE_EVENT_STOP = 128;
/** CLD_TRAPPED is SIGCHLD's (and waitid's) code for a ptrace-stop. */
export const CLD_TRAPPED = 4;
const SI_USER = 0;
/** ENOSYS is what rax holds at a syscall-entry-stop (Linux's entry code puts it there). */
const ENOSYS = 38;
const CLONE_VFORK = 0x4000, CLONE_PTRACE = 0x2000, CLONE_UNTRACED = 0x800000;

/** StopKind says what a ptrace-stop is (GET_SYSCALL_INFO tells syscall stops apart). */
export type StopKind = 'signal' | 'event' | 'syscall-entry' | 'syscall-exit';

/** PtraceStop is one ptrace-stop: its wait status word and the siginfo GETSIGINFO shows. */
export interface PtraceStop {
  /** status is the wait status (sig | event << 8) << 8 | 0x7f. */
  status: number;
  /** info is the signal being delivered (signal-delivery-stop) or the stop's own siginfo. */
  info: SignalInfo;
  /** kind: a signal-delivery-stop (the resume's signal argument replaces the signal), an
   * event stop (PTRACE_EVENT_*, INTERRUPT) or a syscall stop (PTRACE_SYSCALL). */
  kind: StopKind;
  /** reported: the tracer's wait has seen this stop. */
  reported: boolean;
}

/** Tracee is a traced task's side of the relation. */
export class Tracee {
  options = 0;
  stop: PtraceStop | null = null;
  /** injected is the signal the tracer's resume asked to deliver (taken before any other). */
  injected: SignalInfo | null = null;
  /** interrupt is a PTRACE_INTERRUPT waiting for the tracee to stop. */
  interrupt = false;
  /** exitStatus is the tracee's exit, kept for the tracer's wait (null: not exited). */
  exitStatus: number | null = null;
  /** syscallTrace: resumed by PTRACE_SYSCALL, the tracee stops at its next syscall's entry and exit. */
  syscallTrace = false;
  /** entered: a syscall-entry-stop was taken; the syscall runs when the tracee is resumed. */
  entered = false;
  /** due are stops the tracee takes in order before it goes on (an event, then a syscall's exit). */
  readonly due: PtraceStop[] = [];
  /** eventMsg is what PTRACE_GETEVENTMSG reads: a task (a new child; the tracee itself
   * after exec), read as its tid in the tracer's pid namespace, or a number (an exit status). */
  eventMsg: Task | number = 0;
  /** exiting: the exit event was reported; the exit syscall, run again, ends the task without stops. */
  exiting = false;
  /** forcedTf: PTRACE_SINGLESTEP set the trap flag, which the next stop clears (the tracer never sees it). */
  forcedTf = false;
  constructor(readonly tracer: Task, readonly seized: boolean) {}
}

/**
 * mayAccess is Linux's ptrace_may_access in attach mode (also /proc/<pid>/mem's open):
 * the target's real, effective and saved uids and gids all the caller's real ones (the
 * target dumpable: always, here), or CAP_SYS_PTRACE.
 */
export function mayAccess(c: Credentials, target: Task): boolean {
  const tc = target.creds;
  const sameIds = [tc.uid, tc.euid, tc.suid].every((u) => u === c.uid) && [tc.gid, tc.egid, tc.sgid].every((g) => g === c.gid);
  return sameIds || c.capableIn(CAP_SYS_PTRACE, tc.userns);
}

function link(tracer: Task, tracee: Task, seized: boolean, options: number): void {
  const tr = new Tracee(tracer, seized);
  tr.options = options;
  tracee.traced = tr;
  (tracer.tracees ??= new Set()).add(tracee);
}

/** attach implements PTRACE_ATTACH (seize: false, a SIGSTOP is sent) and PTRACE_SEIZE. */
export function attach(t: Task, target: Task, seize: boolean, options: number): void {
  if (target.tg === t.tg) fail(Errno.EPERM);
  if (target.state === 'exited' || target.tg.exiting) fail(Errno.EPERM);
  if (target.traced) fail(Errno.EPERM);
  if (!mayAccess(t.creds, target)) fail(Errno.EPERM);
  link(t, target, seize, options);
  if (!seize) sendToTask(target, { signo: SIGSTOP, code: SI_USER, pid: t.pid, uid: t.creds.uid });
}

/** traceMe implements PTRACE_TRACEME: the parent process's leader (or a live thread) becomes the tracer. */
export function traceMe(t: Task): void {
  const parent = t.tg.parent;
  const tracer = parent?.leader && parent.leader.state !== 'exited' ? parent.leader : parent ? [...parent.tasks][0] : undefined;
  if (t.traced || !tracer) fail(Errno.EPERM);
  link(tracer, t, false, 0);
}

/**
 * stoppedTracee returns target if t traces it and it is in a ptrace-stop (Linux's
 * ptrace_check_attach); ESRCH otherwise.
 */
export function stoppedTracee(t: Task, target: Task | undefined): Task {
  if (!target || target.traced?.tracer !== t || !target.traced.stop || target.state !== 'stopped') fail(Errno.ESRCH);
  return target;
}

/** tracedBy returns target if t traces it (stopped or not); ESRCH otherwise. */
export function tracedBy(t: Task, target: Task | undefined): Task {
  if (!target || target.traced?.tracer !== t || target.state === 'exited') fail(Errno.ESRCH);
  return target;
}

/** injectedSignal is the siginfo a resume with `sig` delivers after `stop` (null: none). */
function injectedSignal(tracer: Task, stop: PtraceStop | null, sig: number): SignalInfo | null {
  if (sig === 0 || stop?.kind !== 'signal') return null;
  if (sig === stop.info.signo) return stop.info;
  return { signo: sig, code: SI_USER, pid: tracer.pid, uid: tracer.creds.uid };
}

/** EFLAGS_TF is the trap flag: the CPU traps (SIGTRAP) after the next instruction. */
const EFLAGS_TF = 0x100n;

/** ResumeMode is how a resume lets the tracee go: on (CONT), to its next syscall stop (SYSCALL) or for one instruction (SINGLESTEP). */
export type ResumeMode = 'cont' | 'syscall' | 'step';

/**
 * resume ends tracee's ptrace-stop (PTRACE_CONT, PTRACE_SYSCALL, PTRACE_SINGLESTEP),
 * delivering `sig` if it stopped for a signal. A single step sets the trap flag: the
 * platform reports the CPU's trap after one instruction as a SIGTRAP fault, which stops
 * the tracee again.
 */
export function resume(tracer: Task, tracee: Task, sig: number, mode: ResumeMode = 'cont'): void {
  const tr = tracee.traced!;
  tr.syscallTrace = mode === 'syscall';
  if (mode === 'step' && !(tracee.regs.eflags & EFLAGS_TF)) {
    tracee.regs.eflags |= EFLAGS_TF;
    tr.forcedTf = true;
  }
  const stop = tr.stop;
  tr.stop = null;
  tr.injected = injectedSignal(tracer, stop, sig);
  wakeFromStop(tracee, stop);
}

/** wakeFromStop lets a task that was in ptrace-stop `stop` run again. */
function wakeFromStop(tracee: Task, stop: PtraceStop | null): void {
  if (tracee.state !== 'stopped' || !stop) return;
  tracee.state = 'blocked';
  tracee.kernel.sched.wake(tracee);
}

/** clearForcedTf takes back the trap flag a single step set. */
function clearForcedTf(t: Task, tr: Tracee): void {
  if (!tr.forcedTf) return;
  tr.forcedTf = false;
  t.regs.eflags &= ~EFLAGS_TF;
}

/** unlink ends the relation, leaving the tracee where it is (detach and exits call it). */
function unlink(tracee: Task): Tracee | null {
  const tr = tracee.traced;
  if (!tr) return null;
  tracee.traced = null;
  tr.tracer.tracees?.delete(tracee);
  clearForcedTf(tracee, tr);
  // Left at a syscall-entry-stop: the syscall runs as the task goes on (its instruction again).
  if (tr.entered && tracee.state !== 'exited') {
    tracee.regs.rip -= 2n;
    tracee.regs.rax = tracee.regs.origRax;
  }
  return tr;
}

/** detach implements PTRACE_DETACH: the tracee goes on, delivering `sig` if it stopped for a signal. */
export function detach(t: Task, tracee: Task, sig: number): void {
  const tr = unlink(tracee)!;
  const stop = tr.stop;
  tr.stop = null;
  const inject = injectedSignal(t, stop, sig);
  if (inject) sendToTask(tracee, inject);
  wakeFromStop(tracee, stop);
}

/** interrupt implements PTRACE_INTERRUPT: the (seized) tracee stops with PTRACE_EVENT_STOP. */
export function interrupt(tracee: Task): void {
  const tr = tracee.traced!;
  if (!tr.seized) fail(Errno.EIO);
  if (tr.stop) return;
  tr.interrupt = true;
  if (tracee.state === 'blocked') {
    tracee.interrupted = true;
    tracee.kernel.sched.wake(tracee);
  }
}

/**
 * enterStop puts the running tracee t in a ptrace-stop and tells its tracer (wait, and
 * SIGCHLD with CLD_TRAPPED unless the tracer's process set SA_NOCLDSTOP).
 */
function enterStop(t: Task, stop: PtraceStop): void {
  const tr = t.traced!;
  clearForcedTf(t, tr);
  tr.stop = stop;
  t.state = 'stopped';
  for (const u of t.unwait) u();
  t.unwait = [];
  const tracerGroup = tr.tracer.tg;
  tracerGroup.childEvents.notify();
  if (!(tracerGroup.actions[SIGCHLD].flags & SA_NOCLDSTOP)) {
    sendToGroup(tracerGroup, { signo: SIGCHLD, code: CLD_TRAPPED, pid: t.tid, uid: t.creds.uid, status: (stop.status >> 8) & 0xff });
  }
}

/**
 * ptraceSignal is called by signal delivery for each signal a traced task takes: it puts
 * the task in a signal-delivery-stop and returns true (the signal is held by the stop),
 * or false for SIGKILL, which is never reported.
 */
export function ptraceSignal(t: Task, info: SignalInfo): boolean {
  if (!t.traced || info.signo === SIGKILL) return false;
  enterStop(t, { status: ((info.signo & 0xff) << 8) | 0x7f, info, kind: 'signal', reported: false });
  return true;
}

/**
 * ptraceBeforeSignals runs at the start of signal delivery for a traced task: a pending
 * PTRACE_INTERRUPT stops it (true: stopped); else it returns the signal the tracer's last
 * resume injected, to deliver now without another stop (undefined: none).
 */
export function ptraceBeforeSignals(t: Task): { stopped: boolean; injected?: SignalInfo } {
  const tr = t.traced;
  if (!tr) return { stopped: false };
  if (tr.injected) {
    const info = tr.injected;
    tr.injected = null;
    return { stopped: false, injected: info };
  }
  if (tr.interrupt) {
    tr.interrupt = false;
    enterStop(t, { status: ((SIGTRAP | (PTRACE_EVENT_STOP << 8)) << 8) | 0x7f, info: { signo: SIGTRAP, code: SI_USER | (PTRACE_EVENT_STOP << 8) }, kind: 'event', reported: false });
    return { stopped: true };
  }
  return { stopped: false };
}

/** ptraceKeeps tells whether signal generation must keep sig for t although its disposition ignores it (a tracer sees every signal but SIGKILL). */
export function ptraceKeeps(t: Task, sig: number): boolean {
  return t.traced !== null && sig !== SIGKILL;
}

/**
 * ptraceExec is called after a successful execve: with PTRACE_O_TRACEEXEC the tracee
 * stops with PTRACE_EVENT_EXEC (before its syscall-exit-stop); else one not seized gets
 * the legacy SIGTRAP.
 */
export function ptraceExec(t: Task): void {
  const tr = t.traced;
  if (!tr) return;
  if (tr.options & PTRACE_O_TRACEEXEC) {
    tr.eventMsg = t;
    tr.due.push(eventStop(PTRACE_EVENT_EXEC));
    return;
  }
  if (!tr.seized) sendToTask(t, { signo: SIGTRAP, code: SI_USER, pid: t.pid, uid: t.creds.uid });
}

/**
 * ptraceTaskExit runs as task t exits with wait status `status`: its tracees are
 * detached (killed with PTRACE_O_EXITKILL) and resumed; if t is traced, its exit is kept
 * for its tracer's wait unless its parent will report it anyway (t's process ends with it
 * and the tracer's process is its parent).
 */
export function ptraceTaskExit(t: Task, status: number, lastOfGroup: boolean): void {
  for (const tracee of [...(t.tracees ?? [])]) {
    const tr = unlink(tracee)!;
    if (tr.exitStatus !== null) continue;
    if (tr.options & PTRACE_O_EXITKILL) {
      sendToTask(tracee, { signo: SIGKILL, code: SI_USER, pid: t.pid, uid: t.creds.uid });
      continue;
    }
    wakeFromStop(tracee, tr.stop);
  }
  t.tracees = null;
  const tr = t.traced;
  if (!tr) return;
  tr.stop = null;
  if (lastOfGroup && t.tg.parent === tr.tracer.tg) {
    unlink(t);
    return;
  }
  tr.exitStatus = status;
  tr.tracer.tg.childEvents.notify();
}

/** TraceeReport is a tracee's state change found by the tracer's wait. */
export interface TraceeReport {
  task: Task;
  status: number;
  what: 'trapped' | 'exited';
}

/**
 * waitTracees looks, for wait in process t.tg, at the tasks its threads trace that
 * `eligible` accepts: a ptrace-stop not yet reported, or (`exits`) an exit. It returns the report
 * (consumed unless `peek`), or whether there is any eligible tracee at all.
 */
export function waitTracees(t: Task, eligible: (tracee: Task) => boolean, peek: boolean, exits: boolean): TraceeReport | boolean {
  let any = false;
  for (const tracer of t.tg.tasks) {
    for (const tracee of tracer.tracees ?? []) {
      if (!eligible(tracee)) continue;
      any = true;
      const tr = tracee.traced!;
      if (tr.exitStatus !== null) {
        if (!exits) continue;
        if (!peek) unlink(tracee);
        return { task: tracee, status: tr.exitStatus, what: 'exited' };
      }
      if (tr.stop && !tr.stop.reported) {
        if (!peek) tr.stop.reported = true;
        return { task: tracee, status: tr.stop.status, what: 'trapped' };
      }
    }
  }
  return any;
}

/** tracerOf returns t's tracer (null: none), for /proc/<pid>/status TracerPid. */
export function tracerOf(t: Task | undefined): Task | null {
  return t?.traced?.tracer ?? null;
}

/** eventStop is the ptrace-stop of PTRACE_EVENT_`event`. */
function eventStop(event: number): PtraceStop {
  return { status: ((SIGTRAP | (event << 8)) << 8) | 0x7f, info: { signo: SIGTRAP, code: SIGTRAP | (event << 8) }, kind: 'event', reported: false };
}

/** syscallStop is a syscall-entry or -exit stop (SIGTRAP, | 0x80 with PTRACE_O_TRACESYSGOOD). */
function syscallStop(tr: Tracee, kind: 'syscall-entry' | 'syscall-exit'): PtraceStop {
  const sig = SIGTRAP | (tr.options & PTRACE_O_TRACESYSGOOD ? 0x80 : 0);
  return { status: (sig << 8) | 0x7f, info: { signo: SIGTRAP, code: sig }, kind, reported: false };
}

/** ptraceStopsDue puts t in the first of its due stops (true), if it has one. */
export function ptraceStopsDue(t: Task): boolean {
  const stop = t.traced?.due.shift();
  if (!stop) return false;
  enterStop(t, stop);
  return true;
}

/**
 * ptraceSyscallEntry is called when a tracee enters a syscall: resumed by PTRACE_SYSCALL,
 * it stops (true) with rax -ENOSYS, the syscall to run when the tracer resumes it.
 */
export function ptraceSyscallEntry(t: Task): boolean {
  const tr = t.traced;
  if (!tr?.syscallTrace || tr.exiting) return false;
  t.regs.setReturn(-ENOSYS);
  tr.entered = true;
  enterStop(t, syscallStop(tr, 'syscall-entry'));
  return true;
}

/**
 * ptraceEnteredSyscall tells, as a tracee resumes, whether a syscall waits after its
 * entry stop: 'run' it, 'skip' it (the tracer set orig_rax to -1: rax is the result), or
 * 'none'.
 */
export function ptraceEnteredSyscall(t: Task): 'run' | 'skip' | 'none' {
  const tr = t.traced;
  if (!tr?.entered) return 'none';
  tr.entered = false;
  return t.regs.sysno === -1 ? 'skip' : 'run';
}

/**
 * ptraceSyscallExit is called when a tracee's syscall has completed: the events it
 * raised, then (PTRACE_SYSCALL) its syscall-exit-stop, are taken in order; true when it
 * stopped.
 */
export function ptraceSyscallExit(t: Task): boolean {
  const tr = t.traced;
  if (!tr || t.state !== 'runnable') return false;
  if (tr.syscallTrace && !tr.exiting) tr.due.push(syscallStop(tr, 'syscall-exit'));
  return ptraceStopsDue(t);
}

/**
 * ptraceClone runs as traced `parent` creates `child` (clone flags, exit signal): with
 * the option for its kind (VFORK for CLONE_VFORK, CLONE for another exit signal than
 * SIGCHLD, FORK otherwise) or CLONE_PTRACE, and not CLONE_UNTRACED, the child is traced
 * by the same tracer with the same options and starts stopped (SIGSTOP; a seized one
 * with PTRACE_EVENT_STOP); with the option, the parent reports the event.
 */
export function ptraceClone(parent: Task, child: Task, flags: number, exitSignal: number): void {
  const tr = parent.traced;
  if (!tr || flags & CLONE_UNTRACED) return;
  const [event, option] = flags & CLONE_VFORK ? [PTRACE_EVENT_VFORK, PTRACE_O_TRACEVFORK]
    : exitSignal !== SIGCHLD ? [PTRACE_EVENT_CLONE, PTRACE_O_TRACECLONE] : [PTRACE_EVENT_FORK, PTRACE_O_TRACEFORK];
  const reported = (tr.options & option) !== 0;
  if (!reported && !(flags & CLONE_PTRACE)) return;
  link(tr.tracer, child, tr.seized, tr.options);
  if (tr.seized) child.traced!.interrupt = true;
  else sendToTask(child, { signo: SIGSTOP, code: SI_USER, pid: parent.pid, uid: parent.creds.uid });
  if (!reported) return;
  tr.eventMsg = child;
  tr.due.push(eventStop(event));
}

/**
 * ptraceExit is called by exit and exit_group before the task ends with wait status
 * `status`: with PTRACE_O_TRACEEXIT, the first time, the tracee stops with
 * PTRACE_EVENT_EXIT (message: the status) and the syscall is made to run again when it
 * goes on (true: the caller returns without exiting); the second time it exits.
 */
export function ptraceExit(t: Task, status: number): boolean {
  const tr = t.traced;
  if (!tr || !(tr.options & PTRACE_O_TRACEEXIT) || tr.exiting) return false;
  tr.exiting = true;
  tr.eventMsg = status;
  tr.due.push(eventStop(PTRACE_EVENT_EXIT));
  t.regs.rip -= 2n; // the syscall instruction again, as a restart
  t.regs.rax = t.regs.origRax;
  return true;
}
