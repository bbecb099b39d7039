/**
 * VMA operations: mremap (moves, MREMAP_FIXED, MREMAP_DONTUNMAP, a shared mapping moved,
 * the error cases), madvise (DONTNEED on private and shared memory, REMOVE, FREE,
 * DONTFORK/DOFORK seen by a child, hints, errors), mincore before and after touching, and
 * the mlock family under a lowered RLIMIT_MEMLOCK without CAP_IPC_LOCK (VmLck), compared
 * between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'mmops',
  // gVisor 2022 answers MREMAP_DONTUNMAP with EINVAL, and the program stops there.
  runscUnsupported: 'MREMAP_DONTUNMAP is EINVAL',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'mremap grow to 64 pages: bytes kept yes, tail zero yes',
      'mremap shrink: same address yes, cut page mapped: ENOMEM',
      'mremap FIXED: at the target yes, bytes kept yes, old range: ENOMEM',
      'mremap FIXED, 64 KiB aligned: bytes kept yes, neighbours intact yes',
      'mremap DONTUNMAP: moved yes, bytes kept yes, old range mapped and zero yes',
      '  the old range is fresh memory: write ok, new copy unchanged yes',
      'mremap of a shared mapping: still shared yes',
      'mremap errors: FIXED without MAYMOVE EINVAL, DONTUNMAP without MAYMOVE EINVAL, DONTUNMAP resizing EINVAL',
      '  unaligned EINVAL, unmapped EFAULT, zero length EINVAL, overlapping FIXED EINVAL, unknown flag EINVAL',
      '  growing against a neighbour without MAYMOVE ENOMEM',
      'MADV_DONTNEED private: range zero yes, neighbours kept yes',
      '  written again: yes',
      '  in a child after fork: child reads zeros yes, parent keeps its bytes yes',
      'MADV_DONTNEED shared: bytes kept yes',
      'MADV_REMOVE shared: hole zero yes, rest kept yes',
      '  MADV_REMOVE on private anonymous memory: EINVAL',
      'MADV_FREE: 0',
      'MADV_DONTFORK: child touching the range: killed by SEGV; parent still reads it yes',
      'MADV_DOFORK: child touching the range: exit 0',
      'hints accepted: 8 of 8, bytes kept yes',
      'madvise errors: unknown advice EINVAL, unaligned EINVAL, unmapped ENOMEM, zero length 0',
      'mincore of a fresh mapping: 0 resident',
      'after touching page 0: page 0 1, page 31 0',
      'after MADV_DONTNEED: 0 resident',
      'mincore errors: unaligned EINVAL, unmapped ENOMEM, bad vector EFAULT',
      'mlock of 8 pages: 0, resident 8, VmLck 32 kB',
      'mlock of 8 more: 0, 1 more past the limit: ENOMEM',
      'relocking a locked range: 0, VmLck 64 kB',
      'munlock of 4: 0, VmLck 48 kB, mlock2 ONFAULT of 4: 0, bad flags EINVAL, VmLck 64 kB',
      'MADV_DONTNEED on locked pages: EINVAL',
      'mlockall(MCL_CURRENT) past the limit: ENOMEM, munlockall: 0, VmLck 0 kB',
      'mlockall(MCL_FUTURE): 0; a later 4-page mmap: VmLck 16 kB, resident 4; a 32-page one: EAGAIN; munlockall 0, then: mapped, VmLck 0 kB',
      'mlock of an unmapped page: ENOMEM',
      "a fork's child inherits no locks: yes",
      'with RLIMIT_MEMLOCK 0: mlock EPERM, mlockall EPERM',
      'mlock child: exit 0',
      'done',
    ]);
  },
});
