/**
 * EINTR and restart after signal handlers (programs/eintr.c), compared between a native
 * run and runc, runsc and tvisor (see compare.ts): poll, select, epoll_wait and their
 * masked forms fail with EINTR even with SA_RESTART, pipe reads and wait4 are restarted.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'eintr',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'with SA_RESTART:',
      'poll: -1 EINTR, handler ran 1',
      'select: -1 EINTR, handler ran 1',
      'epoll_wait: -1 EINTR, handler ran 1',
      'nanosleep: -1 EINTR, handler ran 1',
      'ppoll: -1 EINTR, handler ran 1',
      'ppoll: USR2 blocked in the handler no, USR1 and USR2 blocked after yes',
      'pselect: -1 EINTR, handler ran 1',
      'epoll_pwait: -1 EINTR, handler ran 1',
      'epoll_pwait: USR1 blocked after yes',
      'ppoll with USR1 already pending: -1 EINTR, handler ran 1',
      'read on a pipe: 1 0, handler ran 1',
      "wait4: the child's pid yes, handler ran 1",
      'without SA_RESTART:',
      'read on a pipe: -1 EINTR, handler ran 1',
      'wait4: -1 EINTR, handler ran 1',
      'epoll_wait, stopped and continued: -1 EINTR, handler ran 0',
      'ppoll, stopped, continued, then USR1: -1 EINTR, handler ran 1',
      'done',
    ]);
  },
});
