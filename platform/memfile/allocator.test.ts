import { RangeAllocator, roundUp } from './allocator';

describe('RangeAllocator', () => {
  test('allocates page-rounded ranges from the end, then reuses freed ones first fit', () => {
    const a = new RangeAllocator();
    const x = a.allocate(1);
    const y = a.allocate(8192);
    const z = a.allocate(4096);
    expect([x, y, z]).toEqual([{ offset: 0, length: 4096 }, { offset: 4096, length: 8192 }, { offset: 12288, length: 4096 }]);
    expect(a.end).toBe(16384);
    a.free(y);
    expect(a.allocate(4096)).toEqual({ offset: 4096, length: 4096 });
    expect(a.allocate(8192)).toEqual({ offset: 16384, length: 8192 }); // the 4 KiB hole left is too small
    expect(a.used).toBe(4096 * 5);
  });

  test('merges neighbours on free and rejects double and unaligned frees', () => {
    const a = new RangeAllocator();
    const rs = [a.allocate(4096), a.allocate(4096), a.allocate(4096)];
    a.free(rs[0]);
    a.free(rs[2]);
    a.free(rs[1]);
    expect(a.freeRanges()).toEqual([{ offset: 0, length: 12288 }]);
    expect(a.used).toBe(0);
    expect(() => a.free(rs[1])).toThrow(/double free/);
    expect(() => a.free({ offset: 100, length: 4096 })).toThrow(/cannot free/);
    expect(() => a.allocate(0)).toThrow(/cannot allocate 0 bytes/);
  });

  test('roundUp rounds to pages', () => {
    expect([roundUp(0), roundUp(1), roundUp(4096), roundUp(4097)]).toEqual([0, 4096, 4096, 8192]);
  });
});
