/**
 * /proc/<pid>/wchan (wchan.c): "0" for the running reader, process and thread alike.
 * Compared between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'wchan',
  runscUnsupported: 'Debian\'s 2022 runsc has no /proc/<pid>/wchan',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, ['/proc/self/wchan: "0" (1 bytes)', '/proc/self/task/<tid>/wchan: "0" (1 bytes)']);
  },
});
