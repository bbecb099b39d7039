/**
 * Task and process exit: a task leaves, and when the last task of a thread group has
 * gone the group becomes a zombie holding its wait status until its parent reaps it
 * (or is reaped at once when the parent ignores SIGCHLD). Children of an exiting process
 * are reparented to init; when init exits, every other process of the sandbox is killed
 * and the kernel reports init's status.
 */
import { SIG_IGN, SA_NOCLDWAIT, SIGCHLD, SIGKILL, CLD_EXITED, CLD_KILLED, CLD_DUMPED, defaultKind } from './signal-types';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';
import type { Kernel } from './kernel';
import { sendToGroup } from './signals';
import { timekeeper } from './timekeeper';
import { orphanGroupsOnExit, sessionLeaderExited } from './process-group';
import { leaveGroup } from './sessions';
import { retireContext, taskLeft } from './cputime';
import { deleteAllTimers } from './posix-timers';
import { limitOf, RLIMIT_CORE } from './rlimits';
import { exitRobustList } from './robust';
import { notifyGroupExit } from './group-exit';
import { abortWait } from './waiter';
import { exitSemUndo } from './ipc/sem';
import { sweepMountNamespaces } from './mount-namespaces';
import { leaveIpcNamespace } from './ipc/namespace';
import { isNestedInit, reaperFor, zapPidNamespace } from './pid-namespace';
import { ptraceTaskExit } from './ptrace';

/** ExitReason is a normal exit code or a killing signal (core: dumped). */
export type ExitReason = { code: number } | { signal: number; core?: boolean };

/** waitStatus encodes an exit reason as wait4 reports it. */
export function waitStatus(r: ExitReason): number {
  return 'code' in r ? (r.code & 0xff) << 8 : (r.signal & 0x7f) | (r.core ? 0x80 : 0);
}

/** exitTask ends one task; the last one ends its thread group with `reason`. */
export function exitTask(t: Task, reason: ExitReason): void {
  if (t.state === 'exited') return;
  const k = t.kernel;
  t.state = 'exited';
  for (const u of t.unwait) u();
  t.unwait = [];
  abortWait(t);
  timekeeper.disarm(t.wakeTimer);
  exitRobustList(t);
  if (t.clearChildTid !== 0n && t.tg.tasks.size > 1) {
    try {
      t.mm.write(t.clearChildTid, Buffer.alloc(4));
      k.futexWake?.(t, t.clearChildTid, 1);
    } catch {
      // the address is gone: nothing to clear
    }
  }
  t.vforkDone?.notify();
  t.vforkDone = null;
  // Its tracees go on (or die, PTRACE_O_EXITKILL); its tracer learns of its exit.
  if (t.tracees || t.traced) ptraceTaskExit(t, waitStatus(reason), t.tg.tasks.size === 1);
  // The last user of its memory: the address space is released below, so the context
  // need not end its host thread there on its own (AddressSpace.closing).
  if (t.tg.tasks.size === 1 && t.mm.soleUser) t.mm.as.closing?.();
  retireContext(t);
  taskLeft(t);
  k.tasks.delete(t.tid);
  const tg = t.tg;
  tg.tasks.delete(t);
  t.fds.release();
  if (t.mntns) sweepMountNamespaces(k); // its mount namespace may die with it
  if (tg.tasks.size === 0) {
    exitSemUndo(tg);
    t.mm.release();
    leaveIpcNamespace(t);
    groupExited(tg, t, reason);
  } else {
    t.mm.release();
    leaveIpcNamespace(t);
  }
}

/** exitGroup ends every task of the group (exit_group, a fatal signal). */
export function exitGroup(t: Task, reason: ExitReason): void {
  // No core is written in the sandbox; as on Linux, with RLIMIT_CORE 0 none is even tried
  // and the wait status says so.
  if ('signal' in reason && reason.core && limitOf(t.tg, RLIMIT_CORE)[0] === 0n) reason = { signal: reason.signal };
  t.tg.exiting = true;
  for (const other of [...t.tg.tasks]) if (other !== t) exitTask(other, reason);
  exitTask(t, reason);
}

function groupExited(tg: ThreadGroup, last: Task, reason: ExitReason): void {
  const k = last.kernel;
  tg.exitStatus = waitStatus(reason);
  notifyGroupExit(tg);
  tg.exitWatcher?.(tg.exitStatus);
  tg.exitWatcher = null;
  timekeeper.disarm(tg.alarmTimer);
  deleteAllTimers(tg);
  const init = k.init;
  // A namespace's init kills the rest of its namespace and reaps its children.
  if (isNestedInit(tg, k)) zapPidNamespace(tg, k, (task) => exitTask(task, { signal: SIGKILL }), (g) => reapQuietly(k, g));
  // Orphans go to their namespace's init (or are dropped with the sandbox's).
  const reaper = reaperFor(tg, k);
  const formerChildren = [...tg.children];
  for (const child of tg.children) {
    child.parent = reaper;
    child.exitSignal = SIGCHLD; // as Linux's reparent_leader: init gets SIGCHLD, whatever clone asked
    if (child.parent) {
      child.parent.children.add(child);
      if (child.zombie) child.parent.childEvents.notify();
    }
  }
  tg.children.clear();
  if (tg === init) {
    // The sandbox ends with its init: kill what is left, then report.
    for (const other of [...k.groups.values()]) {
      if (other === tg) continue;
      for (const task of [...other.tasks]) exitTask(task, { signal: SIGKILL });
    }
    k.groups.delete(tg.tgid);
    leaveGroup(tg);
    k.onInitExit(tg.exitStatus);
    return;
  }
  sessionLeaderExited(k, tg);
  orphanGroupsOnExit(tg, formerChildren);
  const parent = tg.parent;
  const act = parent?.actions[SIGCHLD];
  // Only a child whose exit signal is SIGCHLD is reaped at once by a parent ignoring it.
  const autoReap = !parent || (tg.exitSignal === SIGCHLD && (act!.handler === SIG_IGN || (act!.flags & SA_NOCLDWAIT) !== 0));
  if (autoReap) {
    reapQuietly(k, tg);
    parent?.childEvents.notify();
    return;
  }
  tg.zombie = true;
  const code = 'code' in reason ? CLD_EXITED : reason.core ? CLD_DUMPED : CLD_KILLED;
  const status = 'code' in reason ? reason.code : reason.signal;
  parent!.childEvents.notify();
  if (tg.exitSignal !== 0) sendToGroup(parent!, { signo: tg.exitSignal, code, pid: tg.tgid, uid: last.creds.uid, status });
}

/** reapQuietly frees a zombie without telling its parent (auto-reaping, a dying namespace init). */
function reapQuietly(k: Kernel, tg: ThreadGroup): void {
  tg.zombie = false;
  k.groups.delete(tg.tgid);
  leaveGroup(tg);
  tg.parent?.children.delete(tg);
}

/** isCoreSignal tells whether a signal's default action dumps core. */
export function isCoreSignal(sig: number): boolean {
  return defaultKind(sig) === 'core';
}
