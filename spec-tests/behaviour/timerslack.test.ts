/**
 * Timer slack (timerslack.c): prctl(PR_SET/GET_TIMERSLACK) and /proc/self/timerslack_ns
 * read and set the same per-thread value; 0 restores the thread's default, which a
 * forked child takes from its parent's slack at fork; malformed writes are EINVAL.
 * Compared between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'timerslack',
  runscUnsupported: 'Debian\'s 2022 runsc has neither PR_SET_TIMERSLACK nor /proc/self/timerslack_ns',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'start: prctl 50000, proc 50000',
      'PR_SET_TIMERSLACK 12345: ok; proc 12345',
      'write 777: ok; prctl 777',
      'write -5: EINVAL; write abc: EINVAL; proc 777',
      'child: inherits 777',
      'child: PR_SET_TIMERSLACK 0 after 99 restores 777 (the parent\'s at fork)',
      'write 0: ok; proc 50000',
      'PR_SET_TIMERSLACK 0 after 5: 50000',
    ]);
  },
});
