/**
 * view.ts is the seccomp state a task can read back: the Seccomp and Seccomp_filters lines
 * of /proc/<pid>/status and prctl(PR_GET_SECCOMP). The container's linux.seccomp profile is
 * the only filter the sandbox applies (the application cannot install its own: seccomp(2)
 * and PR_SET_SECCOMP are not implemented), and it applies to every task of the sandbox
 * from init's first instruction, as runc installs it before it executes init (and before
 * each `exec`); so every task shows the same mode, as every process of runc's container does.
 */
import type { SeccompFilter } from './filter';

/** SECCOMP_MODE_DISABLED and SECCOMP_MODE_FILTER are Linux's seccomp modes (linux/seccomp.h). */
export const SECCOMP_MODE_DISABLED = 0;
/** SECCOMP_MODE_FILTER: a BPF filter is attached (mode 1, strict, is never in effect here). */
export const SECCOMP_MODE_FILTER = 2;

/** SeccompView is what Linux reports of a task's seccomp state. */
export interface SeccompView {
  /** mode is SECCOMP_MODE_DISABLED or SECCOMP_MODE_FILTER. */
  mode: number;
  /** filters is the number of filters attached (status's Seccomp_filters). */
  filters: number;
}

/** seccompView is the seccomp state of a task of a sandbox whose profile is `filter`
 * (null without linux.seccomp): one filter, as runc attaches one. */
export function seccompView(filter: SeccompFilter | null): SeccompView {
  return filter ? { mode: SECCOMP_MODE_FILTER, filters: 1 } : { mode: SECCOMP_MODE_DISABLED, filters: 0 };
}

/** seccompStatusLines are /proc/<pid>/status's Seccomp and Seccomp_filters lines. */
export function seccompStatusLines(filter: SeccompFilter | null): string[] {
  const v = seccompView(filter);
  return [`Seccomp:\t${v.mode}`, `Seccomp_filters:\t${v.filters}`];
}
