/**
 * epoll and eventfd (programs/epoll.c), compared between a native run and runc, runsc
 * and tvisor (see compare.ts). The expected lines are what Linux documents for each case.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'epoll',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'empty pipe, timeout 0: 0',
      'level: 1 ready, data 1122334455667788, EPOLLIN yes',
      'level again without reading: 1',
      'edge: 1 then 0, after a new write 1',
      'oneshot: 1 then 0, after MOD 1',
      'nested: 1 ready, data 7; loop: ELOOP',
      "woken by the child's write: 1",
      'writer closed: 1 ready, EPOLLHUP yes',
      'after DEL, 30 ms timeout: 0',
      'errors: DEL absent ENOENT, ADD twice EEXIST, self EINVAL, bad fd EBADF, not epoll EINVAL, maxevents 0 EINVAL',
      'regular file: EPERM',
      'fd closed, dup open: 1 ready (data 9); dup closed too: 0',
      'eventfd: read 3, then EAGAIN',
      'eventfd: two writes of 5 read as 10; short read EINVAL',
      'semaphore: 1 1, then EAGAIN',
      'eventfd in epoll: 1 ready, IN no OUT yes',
      'round-robin, maxevents 1: 012012',
      'done',
    ]);
  },
});
