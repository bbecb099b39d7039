/**
 * Signal generation and delivery. Generation queues a signal on a task or its thread
 * group and wakes a task that can take it (interrupting a blocked syscall). Delivery
 * happens in deliverSignals, on the way back to the application: default actions,
 * ignoring, or a handler frame on the user stack (arch/), with syscall restart
 * semantics (ERESTARTSYS + SA_RESTART) as Linux implements them.
 */
import { ERESTARTNOHAND, ERESTARTSYS, Errno } from './errors';
import {
  bit, defaultAction, defaultKind, SA_NODEFER, SA_RESETHAND, SA_RESTART, SIG_DFL, SIG_IGN, SIGCHLD, SIGCONT, SIGKILL,
  SIGSEGV, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, UNBLOCKABLE, CLD_CONTINUED, CLD_STOPPED, SA_NOCLDSTOP, type SignalInfo,
} from './signal-types';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';
import { exitGroup, isCoreSignal } from './task-exit';
import { pushSignalFrame } from './signal-frame';
import { limitOf, RLIMIT_SIGPENDING } from './rlimits';
import { WaitQueue } from './waiter';
import { infoFor, isNestedInit, senderOutside } from './pid-namespace';
import { fromKernelId } from './user-namespace';
import { ptraceBeforeSignals, ptraceKeeps, ptraceSignal } from './ptrace';

/**
 * realBlocked holds, for a task in rt_sigtimedwait, its mask from before the wait (Linux's
 * real_blocked): the wait unblocks the signals it takes so that they wake it.
 */
const realBlocked = new WeakMap<Task, bigint>();

/** blocks tells whether t blocks sig, counting a mask that rt_sigtimedwait has lifted for the wait. */
function blocks(t: Task, sig: number): boolean {
  return ((t.sigmask | (realBlocked.get(t) ?? 0n)) & bit(sig)) !== 0n;
}

/**
 * isIgnored tells whether a signal sent to `targets` is dropped at once: its disposition
 * ignores it and no target blocks it (a blocked signal stays pending even when ignored, as
 * Linux's sig_ignored keeps it, so that sigwait and signalfd can take it).
 */
function isIgnored(tg: ThreadGroup, sig: number, targets: Iterable<Task>): boolean {
  const a = tg.actions[sig];
  if (sig === SIGKILL || sig === SIGSTOP) return false;
  for (const t of targets) if (ptraceKeeps(t, sig)) return false;
  if (!(a.handler === SIG_IGN || (a.handler === SIG_DFL && defaultKind(sig) === 'ignore'))) return false;
  for (const t of targets) if (blocks(t, sig)) return false;
  return true;
}

const signalQueues = new WeakMap<ThreadGroup, WaitQueue>();

/** signalEvents is notified whenever a signal is queued for tg or one of its threads (signalfd waits on it). */
export function signalEvents(tg: ThreadGroup): WaitQueue {
  let q = signalQueues.get(tg);
  if (!q) signalQueues.set(tg, (q = new WaitQueue()));
  return q;
}

/**
 * dequeueSignal takes a pending signal of `set` for t, whether blocked or not
 * (rt_sigtimedwait, signalfd): thread-directed ones first, then process-directed ones,
 * and in each list the lowest-numbered signal (its oldest instance), as Linux's
 * next_signal picks.
 */
export function dequeueSignal(t: Task, set: bigint): SignalInfo | undefined {
  for (const list of [t.pending, t.tg.pending]) {
    let best = -1;
    list.forEach((s, i) => {
      if ((set & bit(s.signo)) !== 0n && (best < 0 || s.signo < list[best].signo)) best = i;
    });
    if (best >= 0) return list.splice(best, 1)[0];
  }
  return undefined;
}

/** hasPendingIn tells whether a signal of `set` is pending for t (thread- or process-directed). */
export function hasPendingIn(t: Task, set: bigint): boolean {
  return [t.pending, t.tg.pending].some((list) => list.some((s) => (set & bit(s.signo)) !== 0n));
}

/**
 * beginSigwait lifts `set` from t's mask for the time of an rt_sigtimedwait, so that a
 * signal of the set wakes it (the scheduler then runs the wait again instead of
 * interrupting it); endSigwait puts the mask back. Both are idempotent.
 */
export function beginSigwait(t: Task, set: bigint): void {
  if (!realBlocked.has(t)) realBlocked.set(t, t.sigmask);
  t.sigmask = realBlocked.get(t)! & ~set;
}

/** endSigwait restores the mask beginSigwait lifted. */
export function endSigwait(t: Task): void {
  const m = realBlocked.get(t);
  if (m === undefined) return;
  t.sigmask = m;
  realBlocked.delete(t);
}

/** inSigwait tells whether t sleeps in rt_sigtimedwait: a signal wakes it to re-run the wait, not to interrupt it. */
export function inSigwait(t: Task): boolean {
  return realBlocked.has(t);
}

function isStopSignal(sig: number): boolean {
  return sig === SIGSTOP || sig === SIGTSTP || sig === SIGTTIN || sig === SIGTTOU;
}

const SIGRTMIN = 32, SI_USER = 0;

/** pendingOf counts the signals queued for tasks and groups of t's real user, sandbox-wide
 * (RLIMIT_SIGPENDING's count; /proc/<pid>/status SigQ). */
export function pendingOf(t: Task): number {
  const uid = t.creds.uid;
  let n = 0;
  for (const task of t.kernel.tasks.values()) if (task.creds.uid === uid) n += task.pending.length;
  for (const g of t.kernel.groups.values()) {
    const any = g.leader ?? g.tasks.values().next().value;
    if (any && any.creds.uid === uid) n += g.pending.length;
  }
  return n;
}

/**
 * queue adds info to list, the pending signals of receiver t, as Linux's
 * __send_signal_locked does: a standard signal is pending once; a signal past t's
 * RLIMIT_SIGPENDING (counted over t's real user) is refused with false (EAGAIN for the
 * sender) when it is real-time and not from kill(); otherwise it stays pending without a
 * second instance (its siginfo lost). Standard signals from kill() or the kernel
 * (si_code >= 0) are never refused.
 */
function queue(t: Task, list: SignalInfo[], info: SignalInfo): boolean {
  const sig = info.signo;
  if (sig < SIGRTMIN && list.some((s) => s.signo === sig)) return true;
  const override = sig < SIGRTMIN && info.code >= 0;
  if (override || BigInt(pendingOf(t)) < limitOf(t.tg, RLIMIT_SIGPENDING)[0]) {
    list.push(info);
    return true;
  }
  if (sig >= SIGRTMIN && info.code !== SI_USER) return false;
  if (!list.some((s) => s.signo === sig)) list.push(info);
  return true;
}

/** interruptIfBlocked wakes t out of a blocked syscall when it can take sig. */
function interruptIfBlocked(t: Task, sig: number): boolean {
  if ((t.sigmask & bit(sig)) !== 0n && sig !== SIGKILL) return false;
  if (t.state === 'blocked') {
    t.interrupted = true;
    t.kernel.sched.wake(t);
  }
  return true;
}

/**
 * initIgnores tells whether the sandbox's init, or a nested pid namespace's, drops sig:
 * like Linux's pid-namespace init, it takes only signals it has a handler for, except
 * SIGKILL and SIGSTOP sent from outside (the runtime's kill; for a nested namespace's
 * init, a sender in an ancestor namespace: senderPid, a kernel id).
 */
function initIgnores(tg: ThreadGroup, sig: number, fromOutside: boolean, targets: Iterable<Task>, senderPid = 0): boolean {
  if (tg.tasks.size === 0) return false;
  const k = [...tg.tasks][0].kernel;
  if (isNestedInit(tg, k)) fromOutside ||= senderOutside(tg, k, senderPid);
  else if (k.init !== tg || !k.initShielded) return false;
  if (tg.actions[sig].handler !== SIG_DFL) return false;
  // A blocked signal is queued all the same (sigwait, signalfd), as Linux's sig_ignored does first.
  if (sig !== SIGKILL && sig !== SIGSTOP) for (const t of targets) if (blocks(t, sig)) return false;
  return !(fromOutside && (sig === SIGKILL || sig === SIGSTOP));
}

/** uidFor gives a signal's sender uid (a kernel id) as receiver t's user namespace sees it,
 * the overflow id where it is unmapped (Linux's userns_fixup_signal_uid). */
function uidFor(t: Task, info: SignalInfo): SignalInfo {
  return info.uid === undefined || t.creds.userns === null ? info : { ...info, uid: fromKernelId(t.creds.userns, 'uid', info.uid) };
}

/**
 * sendToGroup queues a process-directed signal (fromOutside: sent by the runtime, not a
 * task). It returns false when RLIMIT_SIGPENDING refuses it (the sender's EAGAIN).
 */
export function sendToGroup(tg: ThreadGroup, info: SignalInfo, fromOutside = false): boolean {
  const sig = info.signo;
  if (!tg.alive || tg.tasks.size === 0) return true;
  if (initIgnores(tg, sig, fromOutside, tg.tasks, info.pid)) return true;
  const any = [...tg.tasks][0];
  info = uidFor(any, infoFor(tg, any.kernel, info));
  if (sig === SIGKILL) {
    exitGroup(any, { signal: SIGKILL });
    return true;
  }
  if (sig === SIGCONT) continueGroup(tg);
  if (isStopSignal(sig)) {
    for (let i = tg.pending.length - 1; i >= 0; i--) if (tg.pending[i].signo === SIGCONT) tg.pending.splice(i, 1);
  }
  if (isIgnored(tg, sig, tg.tasks)) return true;
  if (!queue(tg.leader ?? tg.tasks.values().next().value!, tg.pending, info)) return false;
  signalEvents(tg).notify();
  for (const t of tg.tasks) if (interruptIfBlocked(t, sig)) break;
  return true;
}

/** sendToTask queues a thread-directed signal (tkill, tgkill, faults); false: refused by RLIMIT_SIGPENDING. */
export function sendToTask(t: Task, info: SignalInfo): boolean {
  const sig = info.signo;
  if (t.state === 'exited') return true;
  if (initIgnores(t.tg, sig, false, [t], info.pid)) return true;
  info = uidFor(t, infoFor(t.tg, t.kernel, info));
  if (sig === SIGKILL) {
    exitGroup(t, { signal: SIGKILL });
    return true;
  }
  if (sig === SIGCONT) continueGroup(t.tg);
  if (isIgnored(t.tg, sig, [t])) return true;
  if (!queue(t, t.pending, info)) return false;
  signalEvents(t.tg).notify();
  interruptIfBlocked(t, sig);
  return true;
}

/** forced holds the siginfo of synchronous faults: they take their default action even in init. */
const forced = new WeakSet<SignalInfo>();

/** forceSignal delivers a synchronous fault signal: it cannot be blocked or ignored. */
export function forceSignal(t: Task, info: SignalInfo): void {
  forced.add(info);
  const sig = info.signo;
  const a = t.tg.actions[sig];
  if ((t.sigmask & bit(sig)) !== 0n || a.handler === SIG_IGN) {
    t.sigmask &= ~bit(sig);
    t.tg.actions[sig] = defaultAction();
  }
  t.pending.unshift(info);
}

function continueGroup(tg: ThreadGroup): void {
  if (!tg.stopped) return;
  tg.stopped = false;
  for (const t of tg.tasks) if (t.state === 'stopped' && !t.traced?.stop) {
    t.state = 'blocked';
    t.kernel.sched.wake(t);
  }
  if (tg.parent) {
    tg.parent.waitableStops.add(tg);
    tg.parent.childEvents.notify();
    const act = tg.parent.actions[SIGCHLD];
    if (!(act.flags & SA_NOCLDSTOP)) sendToGroup(tg.parent, { signo: SIGCHLD, code: CLD_CONTINUED, pid: tg.tgid, status: SIGCONT });
  }
}

function stopGroup(t: Task, sig: number): void {
  const tg = t.tg;
  tg.stopped = true;
  tg.stopSignal = sig;
  for (const task of tg.tasks) {
    if (task.state === 'exited') continue;
    for (const u of task.unwait) u();
    task.unwait = [];
    task.state = 'stopped';
  }
  if (tg.parent) {
    tg.parent.waitableStops.add(tg);
    tg.parent.childEvents.notify();
    const act = tg.parent.actions[SIGCHLD];
    if (!(act.flags & SA_NOCLDSTOP)) sendToGroup(tg.parent, { signo: SIGCHLD, code: CLD_STOPPED, pid: tg.tgid, status: sig });
  }
}

/** hasDeliverable tells whether a signal is pending that t's current mask lets through. */
export function hasDeliverable(t: Task): boolean {
  const ok = (s: SignalInfo) => (t.sigmask & bit(s.signo) & ~UNBLOCKABLE) === 0n;
  return t.pending.some(ok) || t.tg.pending.some(ok);
}

function takePending(t: Task): SignalInfo | undefined {
  const deliverable = (s: SignalInfo) => (t.sigmask & bit(s.signo) & ~UNBLOCKABLE) === 0n;
  // Synchronous faults first (they were put at the head), then thread, then process.
  let i = t.pending.findIndex(deliverable);
  if (i >= 0) return t.pending.splice(i, 1)[0];
  i = t.tg.pending.findIndex(deliverable);
  if (i >= 0) return t.tg.pending.splice(i, 1)[0];
  return undefined;
}

/** restartIfInterrupted makes an interrupted syscall start again (no handler ran). */
function restartIfInterrupted(t: Task): void {
  const rax = t.regs.rax;
  if (rax === BigInt.asUintN(64, BigInt(-ERESTARTSYS)) || rax === BigInt.asUintN(64, BigInt(-ERESTARTNOHAND))) {
    t.regs.rip = t.regs.rip - 2n;
    t.regs.rax = t.regs.origRax;
  }
}

/** InterruptibleState is the restart state of a blocked syscall that has something to
 * do when a handler ends it with EINTR (nanosleep writes the time left). */
export interface InterruptibleState {
  interrupted(): void;
}

/** interruptSyscall ends the blocked syscall with EINTR and drops its restart state,
 * after the state's interrupted() hook ran (it may change the result, e.g. to EFAULT). */
function interruptSyscall(t: Task): void {
  t.regs.setReturn(-Errno.EINTR);
  const st = t.syscallState as Partial<InterruptibleState> | undefined;
  if (typeof st === 'object' && st !== null && typeof st.interrupted === 'function') st.interrupted();
  t.syscallState = undefined;
}

/**
 * deliverSignals runs before the task returns to application code: it takes pending
 * signals and acts on them until one handler frame has been set up, the task is gone,
 * or nothing deliverable is left.
 */
export function deliverSignals(t: Task): void {
  for (;;) {
    if (t.state !== 'runnable') return;
    // A tracer's PTRACE_INTERRUPT stops the task first; a signal its resume injected is delivered now.
    let info: SignalInfo | undefined;
    if (t.traced) {
      const traced = ptraceBeforeSignals(t);
      if (traced.stopped) return;
      info = traced.injected;
    }
    if (info && (t.sigmask & bit(info.signo) & ~UNBLOCKABLE) !== 0n) {
      t.pending.push(info); // blocked meanwhile: it waits, and is reported again when taken
      continue;
    }
    if (!info) {
      info = takePending(t);
      // A traced task reports every signal but SIGKILL to its tracer first (signal-delivery-stop).
      if (info && ptraceSignal(t, info)) return;
    }
    if (!info) {
      restartIfInterrupted(t);
      if (t.savedSigmask !== null) {
        t.sigmask = t.savedSigmask;
        t.savedSigmask = null;
      }
      return;
    }
    const sig = info.signo;
    const action = t.tg.actions[sig];
    if (action.handler === SIG_IGN) continue;
    if (action.handler === SIG_DFL) {
      // The shielded init takes no default action but SIGKILL's and SIGSTOP's (a signal it
      // had blocked was queued, and is dropped here once unblocked, as Linux's get_signal does).
      if (sig !== SIGKILL && sig !== SIGSTOP && !forced.has(info) && ((t.kernel.init === t.tg && t.kernel.initShielded) || isNestedInit(t.tg, t.kernel))) continue;
      switch (defaultKind(sig)) {
        case 'ignore':
        case 'cont':
          continue;
        case 'stop':
          stopGroup(t, sig);
          return;
        default:
          exitGroup(t, { signal: sig, core: isCoreSignal(sig) });
          return;
      }
    }
    // A handler: settle the interrupted syscall's result first.
    const rax = t.regs.rax;
    if (rax === BigInt.asUintN(64, BigInt(-ERESTARTSYS))) {
      if (action.flags & SA_RESTART) {
        t.regs.rip = t.regs.rip - 2n;
        t.regs.rax = t.regs.origRax;
      } else {
        interruptSyscall(t);
      }
    } else if (rax === BigInt.asUintN(64, BigInt(-ERESTARTNOHAND))) {
      interruptSyscall(t);
    }
    const oldMask = t.savedSigmask ?? t.sigmask;
    t.savedSigmask = null;
    if (!pushSignalFrame(t, info, action, oldMask)) {
      // The frame could not be written (bad stack): the task dies with SIGSEGV.
      exitGroup(t, { signal: SIGSEGV, core: true });
      return;
    }
    t.sigmask = (t.sigmask | action.mask | ((action.flags & SA_NODEFER) ? 0n : bit(sig))) & ~UNBLOCKABLE;
    if (action.flags & SA_RESETHAND) t.tg.actions[sig] = defaultAction();
    return;
  }
}
