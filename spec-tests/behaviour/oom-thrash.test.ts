/**
 * Reclaim does not chase refaults forever: under a 64 MiB memory limit a child reads a
 * mapped file (MAP_SHARED, and MAP_PRIVATE; and two children the same file) while it
 * touches 128 MiB of private memory, one page of each per step. Once the file's reclaimable pages cannot hold both the
 * loop's code and the page it reads, Linux's memory cgroup OOM-kills the child; tvisor
 * took each of the two chunks to fill the other, forever, at full CPU (the run timed out),
 * and now leaves the latest fills alone so that its OOM killer runs. Compared with runc
 * (natively there is no limit: the child lives).
 */
import { runUnder, runtimeSkipReason, SCRATCH, type RunOptions } from './runner';

const options: RunOptions = {
  timeoutMs: 120_000,
  scratchMount: '/thrash',
  editSpec: (spec) => {
    spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: 64 * 1024 * 1024 } };
  },
};

describe('a mapped file read while private memory grows past the limit', () => {
  for (const [kind, children] of [['shared', 1], ['private', 1], ['shared', 2]] as const) {
    test(`MAP_${kind.toUpperCase()}, ${children} ${children > 1 ? 'children reading the same file' : 'child'}: OOM-killed under tvisor as under runc`, () => {
      for (const rt of ['runc', 'tvisor'] as const) expect(runtimeSkipReason(rt)).toBeUndefined();
      const args = [SCRATCH, '48', '128', kind, String(children)];
      const runc = runUnder('runc', 'oom-thrash', args, options);
      expect({ stdout: runc.stdout, status: runc.status }).toEqual({ stdout: `${'child killed by signal 9\n'.repeat(children)}done\n`, status: 0 });
      const tvisor = runUnder('tvisor', 'oom-thrash', args, options);
      expect({ stdout: tvisor.stdout, status: tvisor.status, timedOut: tvisor.timedOut }).toEqual({ stdout: runc.stdout, status: runc.status, timedOut: false });
    }, 300_000);
  }
});
