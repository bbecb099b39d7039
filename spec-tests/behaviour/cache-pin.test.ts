/**
 * Pinned page-cache chunks: a 4 MiB gofer file mapped and mlocked stays resident
 * (mincore) with its bytes while 96 MiB of another file (three times the clean page
 * cache a 128 MiB container keeps under tvisor) is read through mappings a window at a
 * time, twice; a private mapping of a third file reads right throughout. Under tvisor the
 * page cache evicts only chunks no address space maps. Compared between a native run and
 * runc, runsc and tvisor.
 */
import { SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'cache-pin',
  title: 'mapped and mlocked page-cache chunks are not evicted',
  args: [SCRATCH],
  options: {
    timeoutMs: 180_000,
    scratchMount: '/pin', // a bind mount: gofer files under tvisor
    editSpec: (spec) => {
      spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: 128 * 1024 * 1024 } };
    },
  },
  runscUnsupported: 'mlock of 4 MiB fails with ENOMEM there (its RLIMIT_MEMLOCK), which ends the program',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'locked mapping: 1024 pages of 1024 resident, 0 bytes differ',
      'private mapping: 0 bytes differ',
      'streamed 96 MiB through windows twice: 0 bytes differ',
      'locked mapping after: 1024 pages of 1024 resident, 0 bytes differ',
      'private mapping after: 0 bytes differ',
      'done',
    ]);
  },
});
