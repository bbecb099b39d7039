/**
 * VMA merging (sentry/mm/vma.ts mergeable, MemoryManager.mergeAround): adjacent mappings
 * alike in every attribute are one VMA after mmap, mprotect, mremap, madvise and mlock,
 * as Linux's; unlike ones (protection, MAP_NORESERVE, anonymous beside a file, a file at
 * offsets that do not follow) stay apart; a mapping grown in steps with mremap stays one
 * VMA, so the next mremap finds its whole old range (apt's cache: it got EFAULT).
 * Compared between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'vma-merge',
  // gVisor 2022 keeps no MAP_NORESERVE flag on its VMAs, so it merges across it.
  runscDeviations: [['next to MAP_NORESERVE: 2', 'next to MAP_NORESERVE: 1']],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'two adjacent anonymous mappings: 1 VMA(s)',
      'after mprotect of the middle to read-only: 3',
      'after mprotect back: 1',
      'mremap of both in place: ok, contents 1 2',
      'after growing: 1',
      'after MADV_DONTFORK of a page: 3',
      'after MADV_DOFORK: 1',
      'read-write next to read-only: 2',
      'next to MAP_NORESERVE: 2',
      'read-only anonymous next to a read-only file mapping: 2',
      'one file at contiguous offsets: 1',
      'one file at offsets that do not follow: 2',
      '16 growths of 1 MiB with MREMAP_MAYMOVE: ok, one VMA: yes',
    ]);
  },
});
