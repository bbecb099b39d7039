/**
 * /proc/self/fdinfo of a timerfd and of an inotify descriptor (fdinfo-anon.c): the
 * timer's clock, pending expirations, settime flags, time left and interval; one line
 * per inotify watch, newest first, with the watched inode, device and mask. Compared
 * between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';
import { SCRATCH } from './runner';

describeProgram({
  program: 'fdinfo-anon',
  args: [SCRATCH],
  runscUnsupported: 'Debian\'s 2022 runsc shows no timerfd or inotify lines in fdinfo',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'new monotonic: clockid: 1',
      'expired once: ticks: 1',
      'expired once: it_value: (0, 0)',
      'armed for 100 s: it_value seconds within [98, 100]: yes',
      'armed for 100 s: it_interval: (5, 250)',
      'realtime absolute: settime flags: 03',
      'wds 1 2; the same directory again with IN_MASK_ADD: 1',
      'inotify wd:2 mask:84000002 ino matches sdev matches ignored_mask:0',
      'inotify wd:1 mask:380 ino matches sdev matches ignored_mask:0',
      'after removing wd 2:',
      'inotify wd:1 mask:380 ino matches sdev matches ignored_mask:0',
    ]);
  },
});
