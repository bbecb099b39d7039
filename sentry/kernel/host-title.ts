/**
 * host-title keeps the host's view of a process in step with the sandbox's: where the
 * platform runs a process in a host process of its own (ptrace and systrap stubs), that
 * process is given the name and the arguments the application's process has, so that
 * host `ps` and `docker top` (run on the pids `tvisor ps` reports) list the container's
 * processes by name, as under runc (platform/ptrace/title.ts).
 *
 * When: after execve (init's too), on fork (a new address space: the child has its
 * parent's name and arguments, as on Linux; put off to the event loop's next turn, see
 * showForkedTitle), and when a task changes its name (prctl
 * PR_SET_NAME): the leader's is the process's name (/proc/<pid>/comm), and where the task
 * runs on a host thread of its own (ptrace) that thread takes the name too. Under systrap
 * a task's host thread cannot be named (it never runs the sentry's calls) and keeps the
 * process's name; a new host thread starts with the process's name, not its creator's.
 */
import type { Task } from './task';

/** ARGS_READ_MAX bounds the argument bytes read for a title (a platform shows less: ptrace and systrap a page's worth). */
const ARGS_READ_MAX = 4096;

/**
 * showHostTitle gives t's host process (if its platform has one) the process name `name`
 * (by default its leader's) and t's arguments. Best effort: the host's view is cosmetic,
 * so a failure is logged once and the application never sees it.
 */
export function showHostTitle(t: Task, name = (t.tg.leader ?? t).name): void {
  const mm = t.mm, as = mm?.as;
  if (!as?.setTitle) return;
  try {
    const n = Math.max(0, Math.min(mm.argEnd - mm.argStart, ARGS_READ_MAX));
    let args: Buffer = Buffer.alloc(0);
    try {
      if (n > 0) args = mm.read(mm.argStart, n);
    } catch {
      // The arguments' memory is gone (unmapped by the process): the name alone.
    }
    as.setTitle(name, args);
  } catch (e) {
    t.kernel.log.warnOnce('host-title', `the host process of pid ${t.tg.tgid} keeps its stub's name: ${(e as Error).message}`);
  }
}

/**
 * showForkedTitle gives a forked child's new host process its parent's title
 * (showHostTitle) at the event loop's next turn rather than inside fork: the five host
 * calls it takes (platform/ptrace/title.ts) were a quarter of a fork's time, and a child
 * that execs (which sets its own title) or exits before that turn needs none of them.
 * Skipped then: the child's address space is no longer the one forked. The stub's control
 * thread, which the calls go through, never runs application code, so the title can be
 * set whenever the sentry's thread is free; until then the host shows the stub's name.
 */
export function showForkedTitle(t: Task): void {
  const mm = t.mm;
  if (!mm?.as.setTitle) return;
  setImmediate(() => {
    if (t.state !== 'exited' && t.mm === mm) showHostTitle(t);
  });
}

/**
 * showHostName follows t's prctl(PR_SET_NAME): the process's title when t leads it, and
 * t's own host thread where the platform gives it one. Best effort, as showHostTitle.
 */
export function showHostName(t: Task): void {
  if (t.tg.leader === t) showHostTitle(t);
  const ctx = t.ctx, as = t.mm?.as;
  if (!ctx?.nameThread || !as) return;
  try {
    ctx.nameThread(as, t.name);
  } catch (e) {
    t.kernel.log.warnOnce('host-thread-name', `the host thread of tid ${t.tid} keeps its name: ${(e as Error).message}`);
  }
}
