/**
 * Errors of the sentry. A syscall handler returns -errno, or throws LinuxError(errno)
 * from deep inside a helper; the dispatcher turns both into the application's -errno.
 * MemoryFault (from copy-in/copy-out) becomes EFAULT.
 */
import { Errno } from '../../native/libc';

export { Errno };

/** ERESTARTSYS is the kernel-internal "interrupted, restart if SA_RESTART" result. */
export const ERESTARTSYS = 512;
/** ERESTARTNOHAND restarts only when no handler ran (pause, sigsuspend never restart). */
export const ERESTARTNOHAND = 514;

/** LinuxError is a failure with a Linux errno, thrown inside the sentry. */
export class LinuxError extends Error {
  constructor(readonly errno: number, detail?: string) {
    super(detail ?? `errno ${errno}`);
    this.name = 'LinuxError';
  }
}

/** fail throws LinuxError(errno). */
export function fail(errno: number, detail?: string): never {
  throw new LinuxError(errno, detail);
}
