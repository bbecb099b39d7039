/**
 * decode turns a wait status (and the siginfo of a signal stop) into a SwitchResult.
 *
 * ptrace cannot see the x86 page-fault error code, so a SIGSEGV/SIGBUS reports access
 * `execute` when the fault address is the instruction pointer and `unknown` otherwise;
 * si_code (SEGV_MAPERR 1: unmapped, SEGV_ACCERR 2: protection) is passed on as `code`.
 */
import type { SwitchResult } from '../platform';
import type { Registers } from '../registers';

const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11, SIGSYS = 31;
/** Signals the host raises for an instruction. SIGSYS comes only from the stub's seccomp
 * filter, which traps a call into the vsyscall page: `address` is then the entry called. */
const FAULT_SIGNALS = new Set([SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGSYS]);
/** SYSCALL_STOP is WSTOPSIG of a syscall stop with PTRACE_O_TRACESYSGOOD. */
const SYSCALL_STOP = SIGTRAP | 0x80;

const SYSCALL: SwitchResult = Object.freeze({ kind: 'syscall' });

/** decodeStatus interprets `status` from waitpid on a stub thread after PTRACE_SYSEMU. */
export function decodeStatus(status: number, siginfo: Buffer, regs: Registers): SwitchResult {
  if ((status & 0xff) === 0x7f) {
    const sig = (status >> 8) & 0xff;
    if (sig === SYSCALL_STOP) return SYSCALL;
    if (status >> 16 !== 0) return { kind: 'interrupted', signal: sig }; // PTRACE_EVENT_STOP etc.
    const code = siginfo.readInt32LE(8);
    // A positive si_code means the kernel raised it for an instruction (not kill/tgkill).
    if (FAULT_SIGNALS.has(sig) && code > 0) {
      const address = siginfo.readBigUInt64LE(16);
      const memory = sig === SIGSEGV || sig === SIGBUS;
      return { kind: 'fault', signal: sig, code, address, access: memory && address === regs.rip ? 'execute' : 'unknown' };
    }
    return { kind: 'interrupted', signal: sig };
  }
  if ((status & 0x7f) === 0) return { kind: 'exited', exitCode: (status >> 8) & 0xff };
  return { kind: 'exited', signal: status & 0x7f };
}
