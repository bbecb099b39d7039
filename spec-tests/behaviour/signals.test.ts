/**
 * Signal behaviour: handlers, masks, pending and queued signals, default actions, EINTR,
 * and a program dying of SIGSEGV (status 139), compared between a native run and runc,
 * runsc and tvisor (see compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'signals',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'raise(USR1): handler ran 1 time(s)',
      'kill(self, USR1): handler ran 2 time(s)',
      'siginfo from kill: signo USR2, code SI_USER',
      'siginfo from raise: signo USR2, code SI_TKILL',
      'siginfo from sigqueue: signo USR2, code SI_QUEUE',
      'blocked USR1 sent 3 times: pending yes, handler ran 0',
      'after unblock: handler ran 1',
      'blocked SIGRTMIN queued 3 times: handler ran 3',
      'inside handler: USR2 (sa_mask) and HUP (itself) blocked: yes',
      'SA_RESETHAND: disposition after delivery is SIG_DFL',
      'ignored USR1: handler ran 0',
      'sigsuspend: got USR1 from child and SIGCHLD; child exit 5',
      'child after STOP: STOP',
      'child after CONT: continued',
      'child after TERM: signal TERM',
      'fork child: mask inherited yes, pending inherited no',
      "parent's own pending USR1 delivered at unblock: 1",
      'read interrupted by SIGALRM: -1 EINTR, handler ran: yes',
      'pause: -1 EINTR',
      'done',
    ]);
  },
});

describeProgram({
  program: 'segv',
  expectNative(r) {
    // 139 = 128 + SIGSEGV: the program dies of its own fault, after its last line.
    expect(r.status).toBe(139);
    expectLines(r.stdout, ['faulting child: signal SEGV', 'now faulting myself']);
    expect(r.stdout).not.toContain('still alive');
  },
});
