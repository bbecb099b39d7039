/**
 * Memory behaviour: anonymous mmap, mprotect, munmap, mremap, brk and the faults they
 * cause, compared between a native run and runc, runsc and tvisor (see compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'mmap',
  expectNative(r) {
    expect(r.status).toBe(0);
    // 16 pages of (i * 13) mod 256: each 256-byte period sums to 0 + 1 + ... + 255,
    // since 13 is odd and so a bijection mod 256.
    const sum = ((16 * 4096) / 256) * ((255 * 256) / 2);
    expectLines(r.stdout, [
      'page size: 4096',
      'fresh private mapping: 0 non-zero bytes, page aligned: yes',
      `after writing: byte sum ${sum}`,
      'after the child wrote 2: shared page holds 2, private page holds 1',
      'read-only page: read ok, write SIGSEGV SEGV_ACCERR',
      'PROT_NONE page: read SIGSEGV SEGV_ACCERR, write SIGSEGV SEGV_ACCERR',
      'read-write again: write ok, value kept: yes',
      'hole after munmap: read SIGSEGV SEGV_MAPERR; neighbours: ok ok',
      'MAP_FIXED at the requested address: yes, content zeroed: yes',
      'mremap to 4 pages: old byte x, new bytes zero: yes',
      'after munmap of the whole range: read SIGSEGV SEGV_MAPERR',
      'sbrk of 8 pages: usable, break moved by 8 pages',
      'untouched PROT_NONE reservation opened by mprotect: top byte 7, guard page: SIGSEGV SEGV_ACCERR',
      'mmap of length 0: MAP_FAILED EINVAL',
      'munmap of an unaligned address: -1 EINVAL',
      'mprotect of an unaligned address: -1 EINVAL',
      'done',
    ]);
  },
  // gVisor 2022 reports a fault on a PROT_NONE page as SEGV_MAPERR (Linux: SEGV_ACCERR).
  runscDeviations: [
    [
      'PROT_NONE page: read SIGSEGV SEGV_ACCERR, write SIGSEGV SEGV_ACCERR',
      'PROT_NONE page: read SIGSEGV SEGV_MAPERR, write SIGSEGV SEGV_MAPERR',
    ],
    [
      'untouched PROT_NONE reservation opened by mprotect: top byte 7, guard page: SIGSEGV SEGV_ACCERR',
      'untouched PROT_NONE reservation opened by mprotect: top byte 7, guard page: SIGSEGV SEGV_MAPERR',
    ],
  ],
});
