/**
 * Clean page-cache pages are reclaimed before the OOM killer runs, mapped ones too: under
 * a 128 MiB memory limit a process keeps 96 MiB of a gofer file (a bind mount) mapped and
 * read, then touches 80 MiB of private memory, and lives; the file's pages read right
 * afterwards (under tvisor they are read from the host again). Under tvisor the mapped
 * chunks were pinned and the OOM killer killed the process. Compared between a native
 * run (no limit) and runc, runsc and tvisor.
 */
import { SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'oom-reclaim',
  title: 'mapped clean page-cache pages are reclaimed before the OOM killer',
  args: [SCRATCH],
  options: {
    timeoutMs: 180_000,
    scratchMount: '/reclaim',
    editSpec: (spec) => {
      spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: 128 * 1024 * 1024 } };
    },
  },
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'file mapped and read: 0 pages differ',
      '80 MiB of private memory touched with the file still mapped: alive',
      'file mapping read again: 0 pages differ',
      'done',
    ]);
  },
});
