/**
 * rt_sigtimedwait (sigwaitinfo, sigtimedwait) and signalfd (programs/sigwait.c), compared
 * between a native run and runc, runsc and tvisor (see compare.ts). The expected lines are
 * what Linux documents for each case.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'sigwait',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'nothing pending, zero timeout: -1 EAGAIN',
      'nothing pending, 30 ms timeout: -1 EAGAIN',
      'kill: USR1, si_signo 10, SI_USER, pid matches yes',
      'sigqueue: SIGRTMIN yes, SI_QUEUE, value 4242',
      'process USR1 + thread USR2: USR2 then USR1',
      'process USR2 then USR1: USR1 then USR2',
      "woken by a child (timeout): USR1, SI_USER, pid is the child's yes",
      'woken by a child (no timeout): USR1',
      "SIGCHLD: CHLD, CLD_EXITED, status 7, pid is the child's yes",
      'other signal with a handler: -1 EINTR, handler ran 1',
      'bad sigsetsize: EINVAL',
      'signalfd empty: -1 EAGAIN, cloexec yes',
      'poll empty: 0',
      'epoll empty: 0',
      'poll pending: 1, POLLIN yes',
      'epoll pending: 1, data 5',
      'read: 128 bytes, USR1, SI_USER, pid matches yes',
      'read again: -1 EAGAIN; poll 0',
      'new mask: same fd yes',
      'two at once: 256 bytes, USR2 then SIGRTMIN, value 99',
      "blocking read woken by a child: 128 bytes, USR1, pid is the child's yes",
      'epoll_wait woken by a child: 1',
      'USR1 through the signalfd with the new mask: -1 EAGAIN',
      'errors: not a signalfd EINVAL, bad flags EINVAL, bad size EINVAL',
      'done',
    ]);
  },
  // gVisor's signalfd4 on an existing signalfd makes a new one instead of changing the mask.
  runscDeviations: [
    ['new mask: same fd yes', 'new mask: same fd no'],
    ['two at once: 256 bytes, USR2 then SIGRTMIN, value 99', 'two at once: 130 bytes, USR2 then other, value 0'],
    ['USR1 through the signalfd with the new mask: -1 EAGAIN', 'USR1 through the signalfd with the new mask: 128 0'],
  ],
});
