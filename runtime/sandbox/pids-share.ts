/**
 * pids-share: the sandbox's host pids cgroup holds the container's pids limit plus
 * tvisor's own host threads, since the sentry keeps the application's tasks within the
 * limit itself (sentry/kernel/pids-limit.ts), as memory-share.ts does for memory. Under
 * the ptrace platform each application thread runs on a host thread of a stub process,
 * and each process's stub has one more (its control thread): at most two host tasks per
 * application task. The sentry's and the gofer's Node processes have a dozen threads each
 * (main, V8's platform workers, libuv's pool); PIDS_OVERHEAD bounds them with room to spare.
 */

/** PIDS_OVERHEAD is the host tasks tvisor needs whatever the application does (sentry, gofer). */
export const PIDS_OVERHEAD = 64;

/** hostPids is the host cgroup's pids.max for a container limit (0, negative and unset kept: unlimited). */
export function hostPids(limit: number | undefined): number | undefined {
  return limit === undefined || limit <= 0 ? limit : 2 * limit + PIDS_OVERHEAD;
}

/** containerPids is the container's limit behind a host pids.max (hostPids's inverse). */
export function containerPids(host: number | undefined): number | undefined {
  return host === undefined || host <= 0 ? host : Math.max(1, Math.floor((host - PIDS_OVERHEAD) / 2));
}
