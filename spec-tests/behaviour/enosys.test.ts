/**
 * Unimplemented system calls answer ENOSYS and the program goes on, compared between a
 * native run and runc, runsc and tvisor (see compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'enosys',
  expectNative(r) {
    expect(r.status).toBe(0);
    const numbers = [1000, 4096, 0x7fffffff, 0x40000000 | 1000];
    expectLines(r.stdout, [
      ...numbers.map((n) => `syscall(${n}): -1 ENOSYS (Function not implemented)`),
      'getpid still works: yes',
      'done',
    ]);
  },
});
