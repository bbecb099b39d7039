/**
 * Shared memory files and reused memory: pages a tmpfs file gives back (truncated while
 * another process maps it) go back to the sentry's pool and are handed to other
 * processes; the stale mapping must fault (SIGBUS) and never show their bytes, natively,
 * under runc and under tvisor alike (program: spec-tests/security/programs/shm-reuse.c).
 */
import { describeProgram, expectLines } from '../behaviour/compare';

describeProgram({
  program: 'shm-reuse',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'stale mapping after the child truncated the file: 64 pages SIGBUS, 0 SIGSEGV, 0 readable, 0 showing bytes',
      'after the file grew again: 0 non-zero bytes',
      'child exit status 0',
    ]);
  },
});
