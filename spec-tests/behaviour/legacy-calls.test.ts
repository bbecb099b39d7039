/**
 * Entry points glibc no longer makes on x86-64, made raw (legacy-calls.c): select,
 * getrlimit/setrlimit, signalfd, eventfd, rt_tgsigqueueinfo and epoll_pwait2, compared
 * between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'legacy-calls',
  // gVisor (Debian's 2022 runsc) takes an out-of-range nanosecond timeout in epoll_pwait2.
  runscDeviations: [['epoll_pwait2 with a bad timeout: EINVAL', 'epoll_pwait2 with a bad timeout: ok']],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'select on an empty pipe: 0, readable no',
      'select after a write: 1, readable yes',
      'setrlimit soft above hard: EINVAL',
      'signalfd read: 128 bytes, signo 10, code SI_USER yes',
      'eventfd read: 8 bytes, value 3',
      'rt_tgsigqueueinfo to itself: ok, value 42, code SI_QUEUE yes',
      'rt_tgsigqueueinfo SI_KERNEL from another process: EPERM',
      'epoll_pwait2 after a write: 1, data 7',
      'done',
    ]);
  },
});
