/**
 * rlimit-checks enforce the resource limits a syscall must honour, as Linux does:
 * RLIMIT_FSIZE on writes and truncation of regular files (SIGXFSZ, then EFBIG, or a short
 * write up to the limit), RLIMIT_NPROC on clone/fork (EAGAIN when the real user already
 * runs that many tasks, unless root or CAP_SYS_RESOURCE/CAP_SYS_ADMIN), RLIMIT_AS and
 * RLIMIT_DATA on mmap and brk (ENOMEM), and RLIMIT_NICE on lowering a nice value.
 */
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from './capabilities';
import { Errno, fail } from './errors';
import { limitOf, RLIM_INFINITY, RLIMIT_AS, RLIMIT_DATA, RLIMIT_FSIZE, RLIMIT_NPROC } from './rlimits';
import { sendToTask } from './signals';
import { SIGXFSZ, SI_KERNEL } from './signal-types';
import type { Task } from './task';

/**
 * fsizeRoom returns how many of `len` bytes RLIMIT_FSIZE lets t write to a regular file at
 * position pos() (all of them when unlimited; pos is read only then). At or past the limit
 * it sends SIGXFSZ and fails with EFBIG (the signal kills the writer unless caught,
 * blocked or ignored).
 */
export function fsizeRoom(t: Task, where: () => number, len: number): number {
  const [soft] = limitOf(t.tg, RLIMIT_FSIZE);
  if (soft === RLIM_INFINITY) return len;
  const lim = Number(soft), pos = where();
  if (pos + len <= lim) return len;
  if (pos >= lim) {
    sendToTask(t, { signo: SIGXFSZ, code: SI_KERNEL });
    fail(Errno.EFBIG);
  }
  return lim - pos;
}

/** checkFsize fails (SIGXFSZ, EFBIG) when a regular file may not grow to `size` bytes. */
export function checkFsize(t: Task, size: number): void {
  const [soft] = limitOf(t.tg, RLIMIT_FSIZE);
  if (soft !== RLIM_INFINITY && size > Number(soft)) {
    sendToTask(t, { signo: SIGXFSZ, code: SI_KERNEL });
    fail(Errno.EFBIG);
  }
}

/** checkNproc fails with EAGAIN when t's real user may not start one more task. */
export function checkNproc(t: Task): void {
  const [soft] = limitOf(t.tg, RLIMIT_NPROC);
  if (soft === RLIM_INFINITY) return;
  const uid = t.creds.uid;
  if (uid === 0 || t.creds.capable(CAP_SYS_RESOURCE) || t.creds.capable(CAP_SYS_ADMIN)) return;
  let n = 0;
  for (const task of t.kernel.tasks.values()) if (task.creds.uid === uid && task.state !== 'exited') n++;
  if (BigInt(n) >= soft) fail(Errno.EAGAIN);
}

/** checkVm fails with ENOMEM when t's address space may not grow by `add` bytes, `data` of them private writable. */
export function checkVm(t: Task, add: number, data: number): void {
  if (add <= 0) return;
  const [as] = limitOf(t.tg, RLIMIT_AS), [dl] = limitOf(t.tg, RLIMIT_DATA);
  if (as === RLIM_INFINITY && (dl === RLIM_INFINITY || data <= 0)) return;
  const { total, data: used } = t.mm.vmUsage();
  if (as !== RLIM_INFINITY && total + add > Number(as)) fail(Errno.ENOMEM);
  if (dl !== RLIM_INFINITY && data > 0 && used + data > Number(dl)) fail(Errno.ENOMEM);
}
