/**
 * decode turns a wait status (and the siginfo of a signal stop) into a SwitchResult.
 *
 * ptrace cannot see the x86 page-fault error code, so a SIGSEGV/SIGBUS reports access
 * `execute` when the fault address is the instruction pointer and `unknown` otherwise;
 * si_code (SEGV_MAPERR 1: unmapped, SEGV_ACCERR 2: protection) is passed on as `code`.
 *
 * A call into the legacy vsyscall page is emulated by the host kernel on the instruction
 * fetch, with no syscall stop; the stub's seccomp filter traps it (native/stub/stub.S):
 * SIGSYS with si_call_addr in the page and si_syscall the call, the kernel having already
 * emulated the page's `ret`. It is reported as that syscall, with rcx and r11 clobbered as
 * the page's own `syscall` instruction would (rcx = rip, the mark of a `syscall` stop).
 */
import type { SwitchResult } from '../platform';
import type { Registers } from '../registers';

const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11, SIGSYS = 31;
const SYS_SECCOMP = 1;
const VSYSCALL_START = 0xffffffffff600000n, VSYSCALL_END = 0xffffffffff601000n;
/** VSYSCALLS are the calls the vsyscall page offers: gettimeofday, time, getcpu. */
const VSYSCALLS = new Set([96, 201, 309]);
const FAULT_SIGNALS = new Set([SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV]);
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
    if (sig === SIGSYS && code === SYS_SECCOMP) {
      // struct siginfo for SIGSYS: si_call_addr at 16, si_syscall at 24.
      const callAddr = siginfo.readBigUInt64LE(16);
      const nr = siginfo.readInt32LE(24);
      if (callAddr >= VSYSCALL_START && callAddr < VSYSCALL_END && VSYSCALLS.has(nr)) {
        regs.origRax = BigInt(nr);
        regs.rcx = regs.rip;
        regs.r11 = regs.eflags;
        return SYSCALL;
      }
    }
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
