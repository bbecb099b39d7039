/**
 * dispatchSyscall runs the handler of the task's current syscall. Unknown syscalls
 * answer ENOSYS and are logged once each; LinuxError becomes -errno; nothing an
 * application passes can make it throw past here (other exceptions are bugs: they are
 * logged and answered EIO... after which the task goes on).
 */
import { Errno, LinuxError } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import { HANDLERS, type SyscallResult } from './registry';
import { syscallName, straceLine } from './strace';
import './handlers';

/** dispatchSyscall runs the syscall in t.regs and returns its result. */
export function dispatchSyscall(t: Task): SyscallResult {
  const nr = t.regs.sysno;
  const entry = HANDLERS.get(nr);
  if (!entry) {
    t.kernel.log.warnOnce(`nosys-${nr}`, `unimplemented syscall ${syscallName(nr)} (${nr}): ENOSYS`);
    if (t.kernel.strace) t.kernel.log.info(straceLine(t, nr, -Errno.ENOSYS));
    return -Errno.ENOSYS;
  }
  let r: SyscallResult;
  try {
    r = entry.handler(t, t.regs);
  } catch (e) {
    if (e instanceof LinuxError) r = -e.errno;
    else {
      t.kernel.log.error(`${syscallName(nr)}: internal error: ${(e as Error).stack ?? e}`);
      r = -Errno.EIO;
    }
  }
  if (t.kernel.strace && !(r instanceof Block)) t.kernel.log.info(straceLine(t, nr, r));
  return r;
}
