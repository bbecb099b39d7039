/**
 * limits: the sandbox's bounds derived from the memory limit, the sentry's heap flag and
 * the tmpfs mount options.
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import { INODE_HEAP_BYTES, limitsFor, MAX_HEAP, memoryLimitOf, MIN_HEAP, parseSize, SENTRY_BASE_HEAP, sentryNodeFlags, sentryNodeFlagSets, tmpfsOptions } from './limits';

const MiB = 2 ** 20, GiB = 2 ** 30;

describe('limits', () => {
  test('the memory limit comes from the spec, else the host RAM; never above the RAM', () => {
    expect(memoryLimitOf({ linux: { resources: { memory: { limit: 512 * MiB } } } }, 8 * GiB)).toBe(512 * MiB);
    expect(memoryLimitOf({ linux: { resources: { memory: { limit: -1 } } } }, 8 * GiB)).toBe(8 * GiB);
    expect(memoryLimitOf({}, 8 * GiB)).toBe(8 * GiB);
    expect(memoryLimitOf({ linux: { resources: { memory: { limit: 64 * GiB } } } }, 8 * GiB)).toBe(8 * GiB);
  });

  test('the heap flag takes one of six values, so that each has its own code cache', () => {
    const seen = new Set<number>();
    for (let mem = 16 * MiB; mem <= 64 * GiB; mem = Math.floor(mem * 1.37)) seen.add(limitsFor(mem).heapBytes / MiB);
    expect([...seen].sort((a, b) => a - b)).toEqual([192, 256, 512, 1024, 2048, 4096]);
    expect(limitsFor(3 * GiB).heapBytes).toBe(512 * MiB);
  });

  test('the inode budget fits in the heap beside the sentry own share, at every memory size', () => {
    for (const mem of [16 * MiB, 256 * MiB, GiB, 8 * GiB, 64 * GiB, 1024 * GiB]) {
      const l = limitsFor(mem);
      expect(l.heapBytes).toBeGreaterThanOrEqual(MIN_HEAP);
      expect(l.heapBytes).toBeLessThanOrEqual(MAX_HEAP);
      expect(l.inodeBudget * INODE_HEAP_BYTES + l.ipcBytes + SENTRY_BASE_HEAP).toBeLessThan(l.heapBytes);
      expect(l.tmpfsInodes).toBeLessThanOrEqual(l.inodeBudget);
      expect(l.tmpfsBytes).toBe(mem / 2);
    }
    // Linux's defaults: half the RAM's pages as nr_inodes, RAM / 256 KiB queued signals.
    expect(limitsFor(256 * MiB).tmpfsInodes).toBe(32768);
    expect(limitsFor(256 * MiB).sigpending).toBe(1024);
  });

  test('the sentry heap flag is a whole number of MiB', () => {
    expect(sentryNodeFlags({ linux: { resources: { memory: { limit: 2 * GiB } } } })).toEqual(['--max-old-space-size=512']);
    expect(sentryNodeFlags({ linux: { resources: { memory: { limit: 64 * MiB } } } })).toEqual(['--max-old-space-size=192']);
  });

  test('without a memory limit the sentry gets no heap flag (nor with -1, "unlimited")', () => {
    expect(sentryNodeFlags({})).toEqual([]);
    expect(sentryNodeFlags(undefined)).toEqual([]);
    expect(sentryNodeFlags({ linux: { resources: { memory: { limit: -1 } } } })).toEqual([]);
  });

  test("without a heap flag V8's limit is at least the one limitsFor derives from the host's RAM", () => {
    // V8's default depends on the memory Node sees: this checks it on this host, for the
    // node running the tests (the one bin/tvisor starts).
    const heapLimit = (flags: string[]): number =>
      Number(execFileSync(process.execPath, [...flags, '-p', 'require("v8").getHeapStatistics().heap_size_limit'], { encoding: 'utf8' }).trim());
    const flagged = heapLimit([`--max-old-space-size=${limitsFor(os.totalmem()).heapBytes / MiB}`]);
    expect(heapLimit([])).toBeGreaterThanOrEqual(flagged);
  });

  test('every heap flag the sentry can get has a start-up snapshot built (sentryNodeFlagSets)', () => {
    const sets = sentryNodeFlagSets().map((f) => f.join(' '));
    expect(sets).toEqual(['', ...['192', '256', '512', '1024', '2048', '4096'].map((m) => `--max-old-space-size=${m}`)]);
    // Limits that are not powers of two, tiny and huge ones, and none (the host's RAM).
    for (let limit = MiB; limit < 64 * MAX_HEAP; limit = Math.ceil(limit * 1.37) + 12345) {
      expect(sets).toContain(sentryNodeFlags({ linux: { resources: { memory: { limit } } } }).join(' '));
    }
    expect(sets).toContain(sentryNodeFlags({}).join(' '));
  });

  test('tmpfs size= and nr_inodes= as mount(8) reads them', () => {
    const l = limitsFor(GiB);
    expect(parseSize('1m')).toBe(MiB);
    expect(parseSize('10k')).toBe(10240);
    expect(parseSize('2G')).toBe(2 * GiB);
    expect(parseSize('25%', GiB)).toBe(GiB / 4);
    expect(parseSize('x1')).toBeUndefined();
    expect(tmpfsOptions(['rw', 'size=1m', 'nr_inodes=200', 'mode=1777'], l)).toEqual({ maxBytes: MiB, maxInodes: 200 });
    expect(tmpfsOptions(['size=1000'], l)).toEqual({ maxBytes: 4096, maxInodes: l.tmpfsInodes });
    expect(tmpfsOptions([], l)).toEqual({ maxBytes: l.tmpfsBytes, maxInodes: l.tmpfsInodes });
    expect(tmpfsOptions(['nr_inodes=0'], l).maxInodes).toBe(0);
  });
});
