/**
 * host declares the few plain libc calls of the ptrace backend (through native/libc.ts);
 * everything that must happen in one crossing lives in the addon instead.
 */
import { check, libcFunc } from '../../native/libc';

/** tgkill sends `sig` to thread `tid` of process `pid`; returns false if it is gone. */
export function tgkill(pid: number, tid: number, sig: number): boolean {
  // SAFETY: plain signal delivery to a stub thread; pid and tid are checked together by
  // the kernel, so a recycled tid in another process is never hit.
  return libcFunc('int tgkill(int tgid, int tid, int sig)')(pid, tid, sig) === 0;
}

/** killProcess sends SIGKILL to a whole stub process. */
export function killProcess(pid: number): void {
  // SAFETY: pid is a stub process we spawned and have not reaped yet.
  libcFunc('int kill(int pid, int sig)')(pid, 9);
}

/** gettid returns the calling thread's id. */
export function gettid(): number {
  return check('gettid', libcFunc('int gettid()')());
}
