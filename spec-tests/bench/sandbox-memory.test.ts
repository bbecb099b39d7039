import * as fs from 'node:fs';
import { CATEGORIES, kbField, pageSharing, pagesOf, smapsBreakdown } from './sandbox-memory';

// smapsBreakdown on this very process (a Node process, as the sentry and the gofer are):
// every resident page lands in exactly one part, and the parts a Node process must have
// are found where the heuristics look for them.
describe('smapsBreakdown', () => {
  test('splits all of a Node process\'s resident memory, each part as smaps counts it', () => {
    // Something on V8's heap and in malloc, so that both parts hold pages.
    const keep = Array.from({ length: 20000 }, (_, i) => ({ i, s: `x${i}` }));
    const parts = smapsBreakdown(process.pid);
    const rollup = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
    const sum = [...parts.values()].reduce((a, k) => a + k.rss, 0);
    // Both reads see the same process a moment apart (jest's own threads allocate
    // meanwhile): within a tenth of each other.
    const rss = kbField(rollup, 'Rss')!;
    expect(Math.abs(sum - rss)).toBeLessThan(rss / 10);
    for (const c of parts.keys()) expect(Object.keys(CATEGORIES)).toContain(c);
    for (const c of ['executable text+data', 'shared libraries', 'malloc main heap', 'V8 heap pages', 'thread stacks'] as const) {
      expect(parts.get(c)?.rss ?? 0).toBeGreaterThan(0);
    }
    // node's text is mapped from its file: PSS and USS never exceed RSS.
    for (const kb of parts.values()) {
      expect(kb.pss).toBeLessThanOrEqual(kb.rss);
      expect(kb.uss).toBeLessThanOrEqual(kb.rss);
    }
    expect(keep.length).toBe(20000);
  });

  test('a process that is gone has no parts', () => {
    expect(smapsBreakdown(2 ** 22 + 1).size).toBe(0);
  });
});

describe('pageSharing', () => {
  test('a page mapped by one group is that group\'s own, one mapped by several is shared, each counted once', () => {
    const kb = 4096 / 1024;
    const r = pageSharing([new Set([1n, 2n, 3n]), new Set([3n, 4n]), new Set([3n, 5n, 6n, 7n]), new Set()]);
    expect(r.own).toEqual([2 * kb, 1 * kb, 3 * kb, 0]);
    expect(r.shared).toBe(1 * kb);
  });

  test('this process\'s pages: all its own alone, and some shared with its parent (the C library\'s text at least)', () => {
    const mine = pagesOf([process.pid]);
    if (!mine) throw new Error('/proc/self/pagemap hides PFNs: this test needs root');
    expect(pageSharing([mine]).own[0]).toBe((mine.size * 4096) / 1024);
    const both = pageSharing([mine, pagesOf([process.ppid])!]);
    expect(both.shared).toBeGreaterThan(0); // libc's text, mapped by both
    expect(both.own[0] + both.shared).toBe((mine.size * 4096) / 1024);
  });
});
