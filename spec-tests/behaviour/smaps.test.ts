/**
 * /proc/<pid>/smaps: each entry's header is the maps line of its VMA, in order; the VMAs'
 * Rss add up to smaps_rollup's; a touched 4 MiB private mapping shows 4096 kB of Rss and
 * Anonymous, half of it as Pss in a child sharing it copy-on-write (all Shared_Dirty), all
 * private again once the parent writes it; an mlocked mapping shows Locked and `lo` in
 * VmFlags. Compared between a native run and runc, runsc and tvisor (which had no smaps).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'smaps',
  title: '/proc/<pid>/smaps per VMA, summing to smaps_rollup',
  runscUnsupported: 'gVisor 2022 has no /proc/<pid>/smaps_rollup, which ends the program',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'smaps headers are the maps lines, in order: yes',
      'the VMAs\' Rss add up to smaps_rollup\'s Rss: yes',
      '4 MiB touched: Size 4096 kB, Rss 4096 kB, Anonymous 4096 kB, Pss 4096 kB, lo no',
      '64 KiB mlocked: Size 64 kB, Rss 64 kB, Locked 64 kB, lo yes',
      'child: 4 MiB shared copy-on-write: Rss 4096 kB, Pss 2048 kB, Shared_Dirty 4096 kB, Private_Dirty 0 kB',
      'parent after writing it: Pss 4096 kB, Private_Dirty 4096 kB',
    ]);
  },
});
