/**
 * A fork maps none of the parent's shared memory in the child until the child touches it,
 * as Linux's fork copies no page-table entries of a VMA without private pages: the child of
 * a process with 8 MiB of MAP_SHARED anonymous memory touched starts with RssShmem below
 * 1 MiB, reads the parent's bytes, and its writes reach the parent. Its private memory,
 * which the sentry maps in the child only when accessed, serves system calls on memory the
 * child never touched (write(2) from it, read(2) into it) and a grandchild. Compared
 * between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'fork-lazy',
  // gVisor 2022 counts no shared anonymous memory in RssShmem.
  runscDeviations: [
    ['parent: RssShmem at least 8 MiB: yes', 'parent: RssShmem at least 8 MiB: no'],
    ['child: RssShmem below 1 MiB after fork: yes', 'child: RssShmem below 1 MiB after fork: no'],
    ['child: RssShmem at least 8 MiB once read: yes', 'child: RssShmem at least 8 MiB once read: no'],
  ],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'parent: RssShmem at least 8 MiB: yes',
      'child: RssShmem below 1 MiB after fork: yes',
      'child: pages with other bytes than the parent\'s: 0',
      'child: RssShmem at least 8 MiB once read: yes',
      'child exit 0; parent sees the child\'s writes in 2048 of 2048 pages',
      'child\'s write(2) of 1 MiB it never touched: exit 0, bytes equal: yes',
      'child\'s read(2) into untouched memory, grandchild sees it and the rest: exit 0; parent\'s bytes unchanged: yes',
    ]);
  },
});
