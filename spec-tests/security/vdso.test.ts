/**
 * The vDSO's text and clock data page are one copy shared by every process of a sandbox:
 * a process that tries to write them (stores, mprotect, mremap, MAP_FIXED over them)
 * must not change another process's vDSO or clocks, natively, under runc and under tvisor
 * alike (program: spec-tests/security/programs/vdso-write.c).
 */
import { describeProgram, expectLines } from '../behaviour/compare';

describeProgram({
  program: 'vdso-write',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'child exited: yes',
      'parent\'s [vdso] bytes unchanged: yes',
      'parent\'s clock still agrees with the syscall: yes',
    ]);
  },
});
