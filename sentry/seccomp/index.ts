/**
 * seccomp applies the container's OCI seccomp profile (config.json `linux.seccomp`) to
 * application syscalls inside the sentry: compileSeccomp once at boot, then
 * `filter.check(nr, args)` before each syscall handler runs.
 */
export { ARCHITECTURES, FLAGS, compileSeccomp } from './compile';
export {
  ALLOW, KILL_PROCESS, KILL_THREAD, LOG, OP, SeccompFilter, TRAP, conditionHolds,
  type SeccompCondition, type SeccompOp, type SeccompRule, type SeccompVerdict,
} from './filter';
export { SECCOMP_MODE_DISABLED, SECCOMP_MODE_FILTER, seccompStatusLines, seccompView, type SeccompView } from './view';
