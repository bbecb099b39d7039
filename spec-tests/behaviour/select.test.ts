/**
 * select and pselect6 write the time left back to their timeout (zero after a timeout,
 * the rest when ready or interrupted by a handler; a read-only timeout is left alone),
 * compared natively, under runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'select',
  expectNative: (r) => {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'timed out: 0, timeout now 0.000000',
      'ready: 1, time left between 3 and 5 s: yes',
      'interrupted: -1 EINTR, time left between 3 and 5 s: yes',
      'pselect6 timed out: 0, timeout now 0.000000000',
      'read-only timeout: 0, still 0.100000',
      'done',
    ]);
  },
});
