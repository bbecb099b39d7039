/**
 * process-list.ts holds the record of one container process as `ps` lists it: what the
 * sentry's control socket answers (sentry/kernel/containers.ts) and what the runtime's
 * `ps` reads (runtime/container/sandbox.ts). A leaf module: both layers import it.
 */

/** ContainerProcess is one process of a container, as `ps` shows it. */
export interface ContainerProcess {
  pid: number;
  ppid: number;
  uid: number;
  /** start is the process's start time (ms since the epoch). */
  start: number;
  cmd: string;
  /** hostPid is the host process that runs it (ptrace: its stub), when the platform has one. */
  hostPid?: number;
}
