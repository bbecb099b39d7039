/**
 * ptrace inside the sandbox (programs/ptrace.c), compared between a native run and runc,
 * runsc and tvisor (see compare.ts): attach and its SIGSTOP reported to waitpid, the
 * registers, memory (also through /proc/<pid>/mem) and siginfo of a stopped tracee, signal-delivery-stops (suppressed by
 * CONT 0, delivered by DETACH with the signal), SEIZE + INTERRUPT + KILL, a tracer that is
 * not the tracee's parent, single steps (SIGTRAP, the trap flag hidden), the EPERM and ESRCH refusals, and the registers SETREGS must
 * refuse (a kernel code segment or fs_base) or leave out (IOPL).
 */
import { describeProgram, expectLines, withCapabilities } from './compare';

describeProgram({
  program: 'ptrace',
  // The other-user case: a child that becomes uid 65534 (runc's default set has no SETUID/SETGID).
  options: { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) },
  // Measured here: runsc's PEEK/POKE of an unmapped address and a GETREGSET into a short
  // iovec fail with EFAULT (Linux: EIO, 0), and its wait for a PTRACE_KILLed seized
  // tracee never returns (the run times out).
  runscUnsupported: 'the wait after PTRACE_KILL of a seized tracee hangs (and EFAULT where Linux says EIO)',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'attach to self: EPERM',
      'cont before attach: ESRCH',
      'attach: 0',
      'after attach: stopped by 19, event 0',
      'attach again: EPERM',
      'TracerPid is the tracer: yes',
      'State: t (tracing stop)',
      'getregs: 0',
      'cs 0x33 ss 0x2b, rip nonzero yes',
      'peekuser rip: 0, same yes',
      'peekuser unaligned: EIO',
      'getregset prstatus: 0, length 216, rsp same yes',
      'getregset prfpreg short: 0, length 16',
      'getsiginfo: 0, signo 19',
      'peekdata: 0, 0x1234',
      'peekdata bad address: EIO',
      'pokedata bad address: EIO',
      'peektext after poke: 0x4d2a',
      'mem: open 0, pread 8, 0x4d2a',
      'mem: pwrite 8',
      'mem: pread of an unmapped address -1 EIO',
      'setregs kernel cs: EIO',
      'setregs kernel fs_base: EIO',
      'setregs iopl: 0',
      'iopl after: 0',
      'setregs unchanged: 0',
      'after cont: exited 42',
      'own signal: stopped by 12, event 0',
      'siginfo: signo 12, code tkill yes',
      'own signal again: stopped by 12, event 0',
      'cont after detach: ESRCH',
      'detached: exited 7',
      'getregs while running: ESRCH',
      'interrupted: stopped by 5, event 128',
      'getregs: 0',
      'killed: killed by 9',
      'attach spinner: 0',
      'spinner: stopped by 19, event 0',
      'singlestep: 3 SIGTRAP stops, rip moved 3 times, trap flag seen 0 times',
      'spinner: killed by 9',
      'sibling tracer: exited 0',
      'its tracee: exited 52',
      'other user attaches: exited 0',
      'done',
    ]);
  },
});
