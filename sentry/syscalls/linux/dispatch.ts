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
import type { SeccompVerdict } from '../../seccomp';
import { exitGroup, exitTask } from '../../kernel/task-exit';
import { forceSignal } from '../../kernel/signals';
import { SIGSYS } from '../../kernel/signal-types';

/** SYS_SECCOMP is SIGSYS's si_code for a seccomp trap. */
const SYS_SECCOMP = 1;

/** dispatchSyscall runs the syscall in t.regs and returns its result. */
export function dispatchSyscall(t: Task): SyscallResult {
  const nr = t.regs.sysno;
  const filter = t.kernel.seccomp;
  if (filter && !t.inSyscall) {
    const v = filter.check(nr, [0, 1, 2, 3, 4, 5].map((i) => t.regs.arg(i)));
    if (v.action !== 'allow') {
      const r = seccompVerdict(t, nr, v);
      if (r !== undefined) return r;
    }
  }
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

/**
 * seccompVerdict applies a non-allow verdict of the container's seccomp profile: the
 * syscall's result, or undefined to run it (log). kill ends the thread (or process) with
 * SIGSYS; trap sends SIGSYS (si_code SYS_SECCOMP).
 */
function seccompVerdict(t: Task, nr: number, v: Exclude<SeccompVerdict, { action: 'allow' }>): SyscallResult | undefined {
  switch (v.action) {
    case 'log':
      t.kernel.log.info(`seccomp: ${syscallName(nr)} allowed (SCMP_ACT_LOG)`);
      return undefined;
    case 'errno':
      return -v.errno;
    case 'kill':
      if (v.process) exitGroup(t, { signal: SIGSYS, core: true });
      else exitTask(t, { signal: SIGSYS, core: true });
      return null;
    case 'trap':
      forceSignal(t, { signo: SIGSYS, code: SYS_SECCOMP });
      return -Errno.ENOSYS;
  }
}
