/**
 * wait4 and waitid: finding a child whose state changed (exited, stopped, continued),
 * reporting it and reaping zombies.
 */
import { leaveGroup } from './sessions';
import { Errno, fail } from './errors';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';
import { childReaped, groupTimes, type CpuTimes } from './cputime';
import { block, type Block } from './waiter';
import { reapIo } from './io-accounting';
import { SIGCHLD } from './signal-types';
import { waitTracees } from './ptrace';

export const WNOHANG = 1, WUNTRACED = 2, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000,
  __WALL = 0x40000000, __WCLONE = 0x80000000;

/** WaitSelector says which children a wait looks at. */
export type WaitSelector = { kind: 'any' } | { kind: 'pid'; pid: number } | { kind: 'pgid'; pgid: number };

/** WaitResult is a reported child state change. */
export interface WaitResult {
  pid: number;
  /** child is the process reported (its pid in another pid namespace: kernel/pid-namespace.ts). */
  child: ThreadGroup;
  /** status is the wait4 status word. */
  status: number;
  /** what is exited/stopped/continued, or trapped (a ptrace-stop), for waitid's si_code. */
  what: 'exited' | 'stopped' | 'continued' | 'trapped';
  /** task is set when the report is about a traced task (the wait returns its tid). */
  task?: Task;
  uid: number;
  /** times are an exited child's CPU times with its reaped children's (wait4's rusage). */
  times?: CpuTimes;
  /** maxRssKb is the exited child's largest resident size, or its children's (wait4's rusage). */
  maxRssKb?: number;
}

function matches(sel: WaitSelector, c: ThreadGroup): boolean {
  switch (sel.kind) {
    case 'any': return true;
    case 'pid': return c.tgid === sel.pid;
    case 'pgid': return c.pgid === sel.pgid;
  }
}

/** matchesTracee: a traced task is selected by its tid, whatever __WCLONE/__WALL say (Linux's eligible_child). */
function matchesTracee(sel: WaitSelector, t: Task): boolean {
  switch (sel.kind) {
    case 'any': return true;
    case 'pid': return t.tid === sel.pid;
    case 'pgid': return t.tg.pgid === sel.pgid;
  }
}

/** waitChild looks for a child state change; it blocks (Block) when none is there yet. */
export function waitChild(t: Task, sel: WaitSelector, options: number): WaitResult | null | Block {
  const tg = t.tg;
  // A "clone" child (exit signal other than SIGCHLD) is waited for with __WCLONE, the others without; __WALL takes both.
  const clones = (options & __WCLONE) !== 0;
  const candidates = [...tg.children].filter((c) => matches(sel, c) && (options & __WALL || (c.exitSignal !== SIGCHLD) === clones));
  // The tasks this process's threads trace come first: their ptrace-stops are reported
  // without WUNTRACED, their exits to the tracer (kernel/ptrace.ts).
  const traced = waitTracees(t, (u) => matchesTracee(sel, u), (options & WNOWAIT) !== 0, (options & WEXITED) !== 0);
  if (typeof traced === 'object') {
    return { pid: traced.task.tid, child: traced.task.tg, status: traced.status, what: traced.what, uid: traced.task.creds.uid, task: traced.task };
  }
  if (candidates.length === 0 && traced === false) fail(Errno.ECHILD);
  const exited = options & WEXITED;
  for (const c of candidates) {
    if (exited && c.zombie) {
      const own = groupTimes(c);
      const times = { user: own.user + c.cpu.children.user, sys: own.sys + c.cpu.children.sys };
      const res: WaitResult = { pid: c.tgid, child: c, status: c.exitStatus ?? 0, what: 'exited', uid: 0, times, maxRssKb: Math.max(c.cpu.maxRssKb, c.cpu.childrenMaxRssKb) };
      if (!(options & WNOWAIT)) reap(t, c);
      return res;
    }
    if (tg.waitableStops.has(c)) {
      if (c.stopped && options & WUNTRACED) {
        if (!(options & WNOWAIT)) tg.waitableStops.delete(c);
        return { pid: c.tgid, child: c, status: ((c.stopSignal & 0xff) << 8) | 0x7f, what: 'stopped', uid: 0 };
      }
      if (!c.stopped && options & WCONTINUED) {
        if (!(options & WNOWAIT)) tg.waitableStops.delete(c);
        return { pid: c.tgid, child: c, status: 0xffff, what: 'continued', uid: 0 };
      }
    }
  }
  if (options & WNOHANG) return null;
  return block(tg.childEvents);
}

function reap(t: Task, c: ThreadGroup): void {
  c.zombie = false;
  childReaped(t.tg, c);
  reapIo(t.tg, c);
  t.tg.children.delete(c);
  t.tg.waitableStops.delete(c);
  t.kernel.groups.delete(c.tgid);
  leaveGroup(c);
}
