/**
 * /proc/<pid>/stat's signal, blocked, sigignore and sigcatch fields (sigstat.c): the
 * thread's pending signals, mask and dispositions in decimal, the first 31 signals only;
 * compared between a native run and runc, runsc and tvisor (compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'sigstat',
  // gVisor's stat has 0 in all four.
  runscDeviations: [['signal 512 blocked 1073742336 sigignore 4096 sigcatch 2048', 'signal 0 blocked 0 sigignore 0 sigcatch 0']],
  expectNative(r) {
    expect(r.status).toBe(0);
    // SIGUSR1 (bit 9) pending and blocked with signal 31 (bit 30), SIGPIPE (bit 12) ignored, SIGUSR2 (bit 11) caught.
    expectLines(r.stdout, ['signal 512 blocked 1073742336 sigignore 4096 sigcatch 2048', 'done']);
  },
});
