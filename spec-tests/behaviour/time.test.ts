/**
 * Time behaviour: CPU-time clocks of a busy and an idle thread, the clockids of
 * pthread_getcpuclockid/clock_getcpuclockid, getrusage, times and a reaped child's times
 * and a POSIX timer on the process CPU clock (cpuclock.c), compared between a native run and runc, runsc and tvisor (see compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'cpuclock',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'clock_getres(THREAD_CPUTIME): 0 s 1 ns',
      'busy thread\'s clock read from another thread reaches 50 ms: yes',
      'busy thread: its clock grew by >= 100 ms: yes',
      'busy thread: cpu <= wall time it spun (+ a tick): yes',
      'idle thread: cpu < 20 ms while the other spun: yes',
      'idle thread: its pthread_getcpuclockid clock < 20 ms: yes',
      'idle thread: its getrusage(THREAD) < 20 ms: yes',
      'process clock >= busy thread\'s: yes',
      'clock_getcpuclockid(getpid()) >= busy thread\'s: yes',
      'getrusage(SELF) user+sys >= 90 ms: yes',
      'times: utime+stime >= 9 ticks: yes',
      'times: children before any: 0',
      'getrusage(SELF) maxrss >= 32 MiB after touching 32 MiB: yes',
      'child\'s process clock readable: yes',
      'thread clock of another process: -1 EINVAL',
      'children\'s usage before reaping: 0',
      'wait4 rusage of the child >= 90 ms: yes',
      'wait4 rusage maxrss of the child >= 48 MiB: yes',
      'getrusage(CHILDREN) after reaping >= 90 ms: yes',
      'getrusage(CHILDREN) maxrss >= 48 MiB: yes',
      'times: children after reaping >= 9 ticks: yes',
      'clock_nanosleep(THREAD_CPUTIME): EINVAL',
      '/proc/self/stat: utime+stime >= 9 ticks: yes',
      '/proc/self/stat: cutime+cstime >= 9 ticks after reaping: yes',
      '/proc/self/stat: priority 23 nice 3 after setpriority(3)',
      'CPU-time timer: time left in (0, 50 ms]: yes',
      'CPU-time timer fired: yes, not before 50 ms of CPU: yes',
      'CPU-time timer after firing: 0 0',
      'timer_create(THREAD_CPUTIME): 0',
      'done',
    ]);
  },
  // gVisor reads a thread clock of another process; Linux refuses it.
  runscDeviations: [
    ['thread clock of another process: -1 EINVAL', 'thread clock of another process: 0 0'],
  ],
});
