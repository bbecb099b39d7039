/**
 * Timer behaviour (timers.c): setitimer's three timers with intervals, timerfd and POSIX
 * timers, compared between a native run and runc, runsc and tvisor (see compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'timers',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'getitimer(REAL) interval: 0 s 20000 us',
      'ITIMER_REAL periodic: at least 3 SIGALRM: yes; old interval 20000 us',
      'getitimer(REAL) after disarm: 0 0',
      'old value of a 5 s timer: within (4 s, 5 s]: yes',
      'getitimer(VIRTUAL) interval: 30000 us, armed: yes',
      'ITIMER_VIRTUAL while busy: SIGVTALRM >= 2: yes',
      'ITIMER_PROF while busy: SIGPROF >= 2: yes',
      'getitimer(PROF) after disarm: 0 0',
      'setitimer(3): -1 EINVAL',
      'timerfd 10 ms interval, read after 55 ms: count >= 5: yes',
      'next read blocks until the next expiry: count >= 1: yes',
      'timerfd_gettime interval: 10000000 ns, armed: yes',
      'old interval when disarming: 10000000 ns',
      'timerfd_gettime after disarm: 0 0',
      'non-blocking read before expiry: -1 EAGAIN',
      'poll before expiry: 0',
      'one-shot of an hour: left in (3590 s, 3600 s]: yes, interval 0',
      'read of 4 bytes: -1 EINVAL',
      'write: -1 EINVAL',
      'poll on an absolute 20 ms timer: 1 revents POLLIN: yes',
      'read: 8 count 1',
      'timerfd_create(PROCESS_CPUTIME): -1 EINVAL',
      'timerfd_create(bad flags): -1 EINVAL',
      'timerfd_settime(nsec 1e9): -1 EINVAL',
      'timer signal: signo RTMIN, si_code SI_TIMER, si_value 42, si_timerid matches: yes, si_overrun 0',
      'timer_gettime after a one-shot expired: 0 0',
      'blocked 60 ms at 5 ms: delivered: yes, si_overrun >= 5: yes, timer_getoverrun in the handler the same: yes',
      'timer_gettime after disarm: value 0 0, interval 0 ns',
      'timer_gettime after delete: -1 EINVAL',
      'SIGEV_THREAD_ID: signal RTMIN+1 to this thread: yes',
      'SIGEV_THREAD_ID of no thread: -1 EINVAL',
      'SIGEV_NONE: left in (3590 s, 3600 s]: yes, interval 1 s',
      'TIMER_ABSTIME: fired no earlier than asked: yes',
      'timer_create(clock 99): -1 EINVAL',
      'timer_create(signal 65): -1 EINVAL',
      'done',
    ]);
  },
  // gVisor accepts a tv_nsec of 1e9 in timerfd_settime; Linux refuses it.
  runscDeviations: [['timerfd_settime(nsec 1e9): -1 EINVAL', 'timerfd_settime(nsec 1e9): 0 0']],
});
