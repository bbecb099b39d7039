/**
 * Sessions and process groups as objects, as gVisor's kernel/sessions.go models them: a
 * Session is a set of process groups named by its leader's pid; a ProcessGroup a set of
 * processes (thread groups) of one session, named by the pid of the process that made
 * it. A process is a member of one group from fork (its parent's group) until it is
 * reaped (a zombie still counts, as Linux's pid links it until release), and moves with
 * setpgid and setsid (process-group.ts holds their rules). A group that loses its last
 * member leaves its session; ThreadGroup.pgid and .sid read the objects.
 */
import type { ThreadGroup } from './thread-group';

/** Session is one session: its id (the leader's pid) and its process groups by id. */
export class Session {
  readonly groups = new Map<number, ProcessGroup>();

  constructor(readonly id: number) {}
}

/** ProcessGroup is one process group of a session: its id and its members. */
export class ProcessGroup {
  readonly members = new Set<ThreadGroup>();

  constructor(readonly id: number, readonly session: Session) {
    session.groups.set(id, this);
  }
}

/** newSessionGroup returns a new group `id` leading a new session `id` (a process with no
 * parent in the sandbox, or setsid). */
export function newSessionGroup(id: number): ProcessGroup {
  return new ProcessGroup(id, new Session(id));
}

/** joinGroup moves tg into group g, leaving its former group (which, left empty, leaves
 * its session). */
export function joinGroup(tg: ThreadGroup, g: ProcessGroup): void {
  const old = tg.processGroup as ProcessGroup | undefined;
  if (old === g) return;
  if (old) leave(tg, old);
  g.members.add(tg);
  tg.processGroup = g;
}

/** leaveGroup takes a reaped process out of its group. */
export function leaveGroup(tg: ThreadGroup): void {
  leave(tg, tg.processGroup);
}

function leave(tg: ThreadGroup, g: ProcessGroup): void {
  g.members.delete(tg);
  if (g.members.size === 0 && g.session.groups.get(g.id) === g) g.session.groups.delete(g.id);
}
