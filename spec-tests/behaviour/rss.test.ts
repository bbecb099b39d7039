/**
 * Resident memory as /proc/<pid>/status and statm count it: a 64 MiB file mapped
 * MAP_SHARED and read counts in RssFile (statm's shared pages too), shared anonymous
 * memory in RssShmem, private memory in RssAnon, VmRSS is their sum; a forked child counts
 * the private pages it shares copy-on-write, and the shared pages once it has read them;
 * unmapping gives it all back; /proc/<pid>/smaps_rollup's Rss agrees with VmRSS and its
 * Pss halves the pages a fork shares. The file is on a bind mount (a gofer file, its page cache
 * in the memory file under tvisor). Compared between a native run and runc, runsc and
 * tvisor; the figures are printed as relations.
 */
import { SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'rss',
  title: 'RSS counts shared file and shmem pages, and a fork\'s copy-on-write pages',
  args: [SCRATCH],
  options: { timeoutMs: 120_000, scratchMount: '/rss' },
  runscUnsupported: 'gVisor 2022\'s /proc/<pid>/status has no RssAnon, RssFile or RssShmem line, which ends the program',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'VmRSS is RssAnon + RssFile + RssShmem: yes',
      'file mapping touched: RssFile grew by at least 64 MiB: yes',
      'file mapping touched: VmRSS grew by at least 64 MiB: yes',
      'file mapping touched: statm shared grew by at least 64 MiB: yes',
      'shared anonymous memory touched: RssShmem grew by at least 32 MiB: yes',
      'private memory touched: RssAnon grew by at least 32 MiB: yes',
      'VmRSS is RssAnon + RssFile + RssShmem: yes',
      'smaps_rollup Rss within 1 MiB of VmRSS: yes',
      'child, before touching anything: RssAnon at least the parent\'s 32 MiB of private memory: yes',
      'child: Pss_Anon at most RssAnon - 16 MiB (shared copy-on-write with the parent): yes',
      'child, after reading the shared mappings: RssFile at least 64 MiB: yes, RssShmem at least 32 MiB: yes',
      'child: VmRSS at least 128 MiB: yes',
      'all unmapped: RssFile back to within 1 MiB: yes, RssShmem: yes, RssAnon: yes',
      'done',
    ]);
  },
});
