/**
 * dispatchSyscall runs the handler of the task's current syscall. Unknown syscalls
 * answer ENOSYS and are logged once each; LinuxError becomes -errno; nothing an
 * application passes can make it throw past here (other exceptions are bugs: they are
 * logged and answered EIO... after which the task goes on).
 */
import { Errno, LinuxError } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import { MemoryFault } from '../../../platform';
import { HANDLERS, type SyscallResult } from './registry';
import { syscallName, straceLine } from './strace';
import './handlers';
import type { SeccompVerdict } from '../../seccomp';
import { exitGroup, exitTask } from '../../kernel/task-exit';
import { forceSignal } from '../../kernel/signals';
import { SIGSEGV, SIGSYS, SI_KERNEL } from '../../kernel/signal-types';

/** SYS_SECCOMP is SIGSYS's si_code for a seccomp trap. */
const SYS_SECCOMP = 1;

/** SYSCALL_INSN and INT80 are the encodings of `syscall` and `int $0x80` (little-endian). */
const SYSCALL_INSN = 0x050f, INT80 = 0x80cd;

/**
 * entryInstruction tells which instruction made the task's syscall stop. Under
 * PTRACE_SYSEMU every way into the host kernel's syscall path stops alike, orig_rax
 * holding the number: `syscall`, but also `int $0x80` (the 32-bit table: other numbers,
 * arguments in ebx, ecx, ...), which the sentry does not have. `syscall` leaves its
 * return address in rcx (the kernel saves it as both rcx and rip): when they are equal
 * the stop is a `syscall` without reading memory (the hot path; an `int $0x80` made with
 * rcx set so gets what a `syscall` of its own would give, nothing more). Otherwise the
 * two bytes before rip tell; another thread may rewrite them meanwhile, with the same
 * outcome at most. Unreadable bytes are `other`.
 */
function entryInstruction(t: Task): 'syscall' | 'int80' | 'other' {
  if (t.regs.rcx === t.regs.rip) return 'syscall';
  let insn: number;
  try {
    insn = t.mm.read(t.regs.rip - 2n, 2).readUInt16LE(0);
  } catch {
    return 'other';
  }
  return insn === SYSCALL_INSN ? 'syscall' : insn === INT80 ? 'int80' : 'other';
}

/**
 * refuseEntry answers any entry but `syscall` as Linux does `int $0x80` without IA32
 * emulation (ia32_emulation=0): the instruction faults, SIGSEGV with si_code SI_KERNEL and
 * address 0, rip back on an `int $0x80` and rax unchanged. Never the 64-bit call of that
 * number.
 */
function refuseEntry(t: Task, insn: 'int80' | 'other'): SyscallResult {
  if (insn === 'int80') t.regs.rip -= 2n;
  t.regs.rax = t.regs.origRax;
  t.regs.origRax = 0xffffffffffffffffn;
  forceSignal(t, { signo: SIGSEGV, code: SI_KERNEL, addr: 0n });
  return null;
}

/**
 * dispatchSyscall runs the syscall in t.regs and returns its result. `via` is how the task
 * got here: a syscall stop, whose instruction is checked (only `syscall` runs a syscall),
 * or the emulated vsyscall page (kernel/vsyscall.ts), whose entries are syscalls by
 * definition and leave no instruction before rip.
 */
export function dispatchSyscall(t: Task, via: 'stop' | 'vsyscall' = 'stop'): SyscallResult {
  if (!t.inSyscall && via === 'stop') {
    const insn = entryInstruction(t);
    if (insn !== 'syscall') return refuseEntry(t, insn);
  }
  const nr = t.regs.sysno;
  // A pod container's processes have its own profile, the others the sandbox container's.
  const filter = t.tg.container === null ? t.kernel.seccomp : t.kernel.containerSeccomp.get(t.tg.container);
  if (filter && !t.inSyscall) {
    const v = filter.checkWith(nr, () => [0, 1, 2, 3, 4, 5].map((i) => t.regs.arg(i)));
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
  t.kernel.syscallCoverage?.add(nr);
  let r: SyscallResult;
  try {
    r = entry.handler(t, t.regs);
  } catch (e) {
    if (e instanceof LinuxError) r = -e.errno;
    else if (e instanceof MemoryFault) {
      // Application memory a handler copied without its own EFAULT check: what Linux's
      // copy_{from,to}_user answers. Named once, so that the handler gets its check.
      t.kernel.log.warnOnce(`fault-${nr}`, `${syscallName(nr)}: an unchecked application-memory fault answered EFAULT: ${e.message}`);
      r = -Errno.EFAULT;
    } else {
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
