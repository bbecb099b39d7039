/**
 * The page cache of a gofer file past its bound: a 48 MiB file mapped MAP_SHARED in a
 * container limited to 128 MiB (tvisor keeps at most a quarter of that in clean cached
 * chunks: the rest are evicted and read from the host again when touched), read through
 * twice while a writable mapping changes a page (dirty: kept), with read() and a reopen
 * agreeing. Compared between a native run and runc, runsc and tvisor.
 */
import { SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'cache-evict',
  title: 'a mapped file larger than the page cache may keep',
  args: [SCRATCH],
  options: {
    timeoutMs: 120_000,
    scratch: '/', // the rootfs: a gofer file (its /tmp is a tmpfs under tvisor)
    editSpec: (spec) => {
      spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: 128 * 1024 * 1024 } };
    },
  },
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'first pass through the read-only mapping: 0 bytes differ',
      'second pass: 0 bytes differ',
      'the changed page through the read-only mapping: changed',
      'read() of the changed page: changed',
      'read() of page 3 matches the mapping: yes',
      'after munmap and reopen, the changed page: changed',
      'done',
    ]);
  },
});
