/**
 * host-title keeps the host's view of a process in step with the sandbox's: where the
 * platform runs a process in a host process of its own (ptrace and systrap stubs), that
 * process is given the name and the arguments the application's process has, so that
 * host `ps` and `docker top` (run on the pids `tvisor ps` reports) list the container's
 * processes by name, as under runc (platform/ptrace/title.ts).
 *
 * When: after execve (init's too), on fork (a new address space: the child has its
 * parent's name and arguments, as on Linux), and when the leader of a process changes its
 * name (prctl PR_SET_NAME; /proc/<pid>/comm shows the leader's). A thread's own name stays
 * the sandbox's: the host thread of a task shows its process's name.
 */
import { TITLE_ARGS_MAX } from '../../platform/ptrace/title';
import type { Task } from './task';

/**
 * showHostTitle gives t's host process (if its platform has one) the process name `name`
 * (by default its leader's) and t's arguments. Best effort: the host's view is cosmetic,
 * so a failure is logged once and the application never sees it.
 */
export function showHostTitle(t: Task, name = (t.tg.leader ?? t).name): void {
  const mm = t.mm, as = mm?.as;
  if (!as?.setTitle) return;
  try {
    const n = Math.max(0, Math.min(mm.argEnd - mm.argStart, TITLE_ARGS_MAX));
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
