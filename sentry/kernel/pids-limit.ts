/**
 * pids-limit.ts enforces linux.resources.pids.limit on the application's tasks, as Linux's
 * pids cgroup controller does under runc: a clone or fork that would make the container's
 * tasks more than the limit fails with EAGAIN. Tasks are threads; an exited process counts
 * until its parent reaps it (the controller uncharges at release_task). The sandbox's host
 * cgroup holds this limit plus tvisor's own host threads (runtime/sandbox/pids-share.ts),
 * so the sentry, not the host, is what the application meets.
 */
import { Errno, fail } from './errors';
import type { Kernel } from './kernel';

/** sandboxPids is the container's pids limit (0: none), set at boot and by `tvisor update`. */
export const sandboxPids = { limit: 0 };

/** pidsLimitOf reads linux.resources.pids.limit (0 when unset, zero or negative: unlimited). */
export function pidsLimitOf(spec: { linux?: { resources?: { pids?: { limit?: number } } } } | undefined): number {
  const n = spec?.linux?.resources?.pids?.limit;
  return typeof n === 'number' && n > 0 ? n : 0;
}

/** checkPidsLimit fails with EAGAIN when one more task would pass the limit. */
export function checkPidsLimit(k: Kernel): void {
  if (sandboxPids.limit <= 0) return;
  let n = k.tasks.size;
  for (const g of k.groups.values()) if (g.tasks.size === 0) n++; // zombies not yet reaped
  if (n >= sandboxPids.limit) fail(Errno.EAGAIN);
}
