/**
 * A program's pages are one copy shared by every process running it (tvisor maps an
 * executable's segments from the file's page cache, copy-on-write): a process that makes
 * a read-only page of its own image writable and changes it must not change what another
 * run of the program reads, natively, under runc, runsc and tvisor alike; a forked child
 * shares the change (program: spec-tests/security/programs/cow-exec.c).
 */
import { describeProgram, expectLines } from '../behaviour/compare';

describeProgram({
  program: 'cow-exec',
  title: 'a process changing its own image changes no other run of the program',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'the changing process reads: changed by the first process',
      'a new run of the program reads: original marker',
      'a forked child reads: changed by the first process',
      'done',
    ]);
  },
});
