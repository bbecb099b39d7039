/**
 * Signal numbers, sets and dispositions (x86-64 Linux values).
 */

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
  SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGSTKFLT = 16,
  SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24,
  SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGIO = 29, SIGPWR = 30, SIGSYS = 31;
export const NSIG = 64;

/** SIG_DFL and SIG_IGN handler values. */
export const SIG_DFL = 0n, SIG_IGN = 1n;
export const SA_NOCLDSTOP = 1, SA_NOCLDWAIT = 2, SA_SIGINFO = 4, SA_RESTORER = 0x04000000, SA_ONSTACK = 0x08000000,
  SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;

/** bit returns the sigset bit of signal n. */
export function bit(n: number): bigint {
  return 1n << BigInt(n - 1);
}

/** UNBLOCKABLE is SIGKILL|SIGSTOP: they can be neither blocked, caught nor ignored. */
export const UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);

/** SigAction is a signal's disposition (rt_sigaction's struct kernel_sigaction). */
export interface SigAction {
  handler: bigint;
  flags: number;
  restorer: bigint;
  mask: bigint;
}

export function defaultAction(): SigAction {
  return { handler: SIG_DFL, flags: 0, restorer: 0n, mask: 0n };
}

/** DefaultKind is what SIG_DFL does for a signal. */
export type DefaultKind = 'term' | 'core' | 'ignore' | 'stop' | 'cont';

export function defaultKind(sig: number): DefaultKind {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: return 'ignore';
    case SIGCONT: return 'cont';
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU: return 'stop';
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS: return 'core';
    default: return sig >= 32 ? 'term' : 'term';
  }
}

/** SignalInfo is a queued signal with what siginfo_t will report. */
export interface SignalInfo {
  signo: number;
  code: number;
  /** pid/uid of the sender (SI_USER/SI_TKILL), or of the child (SIGCHLD). */
  pid?: number;
  uid?: number;
  /** status (SIGCHLD), addr (faults). */
  status?: number;
  addr?: bigint;
  /** value is sigqueue's (or a POSIX timer's) sigval. */
  value?: bigint;
  /** timerid and overrun: a POSIX timer's signal (SI_TIMER). */
  timerid?: number;
  overrun?: number;
}

/** si_code values. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_TKILL = -6, SI_QUEUE = -1;
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4, CLD_STOPPED = 5, CLD_CONTINUED = 6;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2;

/** SIGNAL_NAMES maps numbers to names (for logs and `kill -l`-style parsing). */
export const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
  23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ', 26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO',
  30: 'SIGPWR', 31: 'SIGSYS',
};
