/**
 * Process groups and sessions: the rules of setpgid(2) and setsid(2), orphaned process
 * groups, and the controlling terminal's checks. The groups and sessions are objects
 * (sessions.ts): a process is a member of its group from fork until it is reaped (as a
 * Linux process's pid links it to its group and session until release).
 *
 * A process group is orphaned when no member has a parent in another group of the same
 * session (POSIX; the parent of a member in the group itself or in another session is no
 * link to job control). When a process exit orphans a group that has stopped members,
 * each member gets SIGHUP then SIGCONT, as Linux's kill_orphaned_pgrp sends them: for
 * the exiting process's own group, and for each child's group left without its link.
 */
import { ERESTARTSYS, Errno, fail } from './errors';
import type { Kernel } from './kernel';
import { sendToGroup } from './signals';
import { bit, SIGCONT, SIGHUP, SIGTTIN, SIG_IGN, SI_KERNEL } from './signal-types';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';
import { joinGroup, newSessionGroup, ProcessGroup } from './sessions';

/** execed holds the processes that have called execve since fork (setpgid's EACCES). */
const execed = new WeakSet<ThreadGroup>();

/** markExeced records that tg has exec'd: its parent may no longer change its process group. */
export function markExeced(tg: ThreadGroup): void {
  execed.add(tg);
}

/**
 * setpgid implements setpgid(pid, pgid) for t (0 for either: the caller's pid, then pid):
 * ESRCH unless pid is the caller or one of its children; for a child, EPERM when it is in
 * another session and EACCES once it has exec'd; EPERM for a session leader; EPERM when
 * the target group neither is the process's own pid nor exists in the caller's session.
 */
export function setpgid(t: Task, pid: number, pgid: number): number {
  const k = t.kernel;
  if (pgid < 0) fail(Errno.EINVAL);
  const self = t.tg;
  const g = pid === 0 ? self : k.groups.get(pid);
  if (!g || (g !== self && g.parent !== self)) fail(Errno.ESRCH);
  if (g !== self) {
    if (g.sid !== self.sid) fail(Errno.EPERM);
    if (execed.has(g)) fail(Errno.EACCES);
  }
  if (g.sid === g.tgid) fail(Errno.EPERM);
  const target = pgid === 0 ? g.tgid : pgid;
  const session = g.processGroup.session;
  const existing = session.groups.get(target);
  if (!existing && target !== g.tgid) fail(Errno.EPERM);
  joinGroup(g, existing ?? new ProcessGroup(target, session));
  return 0;
}

/**
 * setsid implements setsid(2): the caller leads a new session and a new process group,
 * both named by its pid; EPERM when a process group with that id exists (the caller
 * leads a group already, or another process is in one with the caller's pid). The new
 * session has no controlling terminal yet.
 */
export function setsid(t: Task): number {
  const g = t.tg;
  // A group named by the caller's pid can only be in the caller's session (only the
  // caller makes it, and setsid is the only way out of a session).
  if (g.processGroup.session.groups.has(g.tgid)) fail(Errno.EPERM);
  joinGroup(g, newSessionGroup(g.tgid));
  withoutTerminal.delete(g);
  return g.sid;
}

/** withoutTerminal holds the processes that gave their session's controlling terminal up
 * with TIOCNOTTY without leading the session: Linux drops only such a process's own link
 * to the terminal (proc_clear_tty), which fork passes on and setsid replaces. */
const withoutTerminal = new WeakSet<ThreadGroup>();

/** dropTerminal is a non-leader's TIOCNOTTY: tg no longer has a controlling terminal. */
export function dropTerminal(tg: ThreadGroup): void {
  withoutTerminal.add(tg);
}

/** inheritTerminal gives a new process its parent's link to the controlling terminal (fork). */
export function inheritTerminal(parent: ThreadGroup, child: ThreadGroup): void {
  if (withoutTerminal.has(parent)) withoutTerminal.add(child);
}

/** isControllingTerminal tells whether the terminal that session sid controls (0: none)
 * is tg's controlling terminal. */
export function isControllingTerminal(tg: ThreadGroup, sid: number): boolean {
  return sid !== 0 && tg.sid === sid && !withoutTerminal.has(tg);
}

/** SessionEndHook is told that session sid's leader has exited (a terminal module's). */
type SessionEndHook = (k: Kernel, sid: number) => void;
const sessionEndHooks: SessionEndHook[] = [];

/** onSessionLeaderExit registers a hook that learns when a session leader exits, for the
 * terminals to hang up their session (the kernel cannot name the terminal modules). */
export function onSessionLeaderExit(hook: SessionEndHook): void {
  sessionEndHooks.push(hook);
}

/**
 * sessionLeaderExited runs as process tg exits: when it leads its session, the session's
 * controlling terminal is disassociated from it (Linux's disassociate_ctty(1) at exit,
 * which for a pseudo-terminal sends SIGHUP to the foreground group).
 */
export function sessionLeaderExited(k: Kernel, tg: ThreadGroup): void {
  if (tg.sid !== tg.tgid) return;
  for (const hook of sessionEndHooks) hook(k, tg.sid);
}

/** processOf returns the process pid names for getpgid/getsid (0: the caller), or ESRCH. */
export function processOf(t: Task, pid: number): ThreadGroup {
  if (pid < 0) fail(Errno.ESRCH);
  const g = pid === 0 ? t.tg : t.kernel.groups.get(pid);
  if (!g) fail(Errno.ESRCH);
  return g;
}

/**
 * willBeOrphaned tells whether process group pg has no live member, other than
 * `ignored`, whose parent is in another group of the member's session (Linux's
 * will_become_orphaned_pgrp).
 */
function willBeOrphaned(pg: ProcessGroup, ignored: ThreadGroup | null): boolean {
  for (const m of pg.members) {
    if (m === ignored || !m.alive || m.tasks.size === 0) continue;
    const p = m.parent;
    if (p && p.processGroup !== pg && p.sid === m.sid) return false;
  }
  return true;
}

/**
 * hangUpIfOrphaned sends SIGHUP then SIGCONT to every member of `member`'s group when the
 * group is now orphaned, `link` (a process outside the group, in its session) having been
 * its connection, and some member is stopped.
 */
function hangUpIfOrphaned(member: ThreadGroup, link: ThreadGroup | null, ignored: ThreadGroup | null): void {
  const pg = member.processGroup;
  if (!link || link.processGroup === pg || link.sid !== member.sid) return;
  if (!willBeOrphaned(pg, ignored)) return;
  const members = [...pg.members].filter((m) => m.alive);
  if (!members.some((m) => m.stopped)) return;
  for (const sig of [SIGHUP, SIGCONT]) for (const m of members) sendToGroup(m, { signo: sig, code: SI_KERNEL, pid: 0, uid: 0 });
}

/**
 * orphanGroupsOnExit runs when process tg has exited and its children (formerChildren)
 * have been given their new parent: a child's group whose link was tg, and tg's own
 * group whose link was tg's parent, get SIGHUP and SIGCONT if they are now orphaned and
 * have stopped members.
 */
export function orphanGroupsOnExit(tg: ThreadGroup, formerChildren: ThreadGroup[]): void {
  for (const c of formerChildren) hangUpIfOrphaned(c, tg, null);
  hangUpIfOrphaned(tg, tg.parent, tg);
}

/**
 * ttyJobControl checks a read (SIGTTIN) or a write with TOSTOP set (SIGTTOU) of the
 * terminal controlling session `sid`, whose foreground group is `foreground`, by t, as
 * Linux's __tty_check_change does. A process of the session outside the foreground group
 * gets EIO when the signal is blocked or ignored (SIGTTIN; SIGTTOU then lets the write
 * through) or when its group is orphaned; else the signal goes to its whole group and the
 * call fails with ERESTARTSYS, to start again once the group is continued.
 */
export function ttyJobControl(t: Task, sid: number, foreground: number, sig: number): void {
  const g = t.tg;
  if (!isControllingTerminal(g, sid) || g.pgid === foreground) return;
  if ((t.sigmask & bit(sig)) !== 0n || g.actions[sig].handler === SIG_IGN) {
    if (sig === SIGTTIN) fail(Errno.EIO);
    return;
  }
  if (willBeOrphaned(g.processGroup, null)) fail(Errno.EIO);
  for (const m of [...g.processGroup.members]) if (m.alive) sendToGroup(m, { signo: sig, code: SI_KERNEL, pid: 0, uid: 0 });
  fail(ERESTARTSYS);
}
