import { MappingTable } from './mappings';

const P = 4096;

describe('MappingTable', () => {
  test('translates across adjacent mappings and merges contiguous file ranges', () => {
    const t = new MappingTable();
    t.map(0x10000, { offset: 0, length: 2 * P }, 3);
    t.map(0x12000, { offset: 2 * P, length: P }, 1);
    expect(t.translate(0x10800, 2 * P, 1)).toEqual([{ offset: 0x800, length: 2 * P }]);
    expect(t.translate(0x10800, 2 * P, 2)).toEqual({ faultAt: 0x12000 });
    expect(t.translate(0x12800, P, 1)).toEqual({ faultAt: 0x13000 });
  });

  test('unmap and protect split mappings at their edges', () => {
    const t = new MappingTable();
    t.map(0x10000, { offset: 0x5000, length: 4 * P }, 3);
    t.unmap(0x11000, P);
    t.protect(0x12000, P, 1);
    expect(t.list()).toEqual([
      { start: 0x10000, end: 0x11000, offset: 0x5000, prot: 3 },
      { start: 0x12000, end: 0x13000, offset: 0x7000, prot: 1 },
      { start: 0x13000, end: 0x14000, offset: 0x8000, prot: 3 },
    ]);
    expect(t.translate(0x10000, 2 * P, 1)).toEqual({ faultAt: 0x11000 });
  });

  test('mappedRuns clips to the range, merges adjacent mappings and skips holes', () => {
    const t = new MappingTable();
    t.map(0x10000, { offset: 0, length: 2 * P }, 3);
    t.map(0x12000, { offset: 0x9000, length: P }, 1);
    t.map(0x15000, { offset: 0x3000, length: P }, 3);
    expect(t.mappedRuns(0x11000, 0x5000)).toEqual([{ start: 0x11000, end: 0x13000 }, { start: 0x15000, end: 0x16000 }]);
    expect(t.mappedRuns(0x13000, 2 * P)).toEqual([]);
  });

  test('a new mapping replaces what was there and unaligned ranges are refused', () => {
    const t = new MappingTable();
    t.map(0x10000, { offset: 0, length: 3 * P }, 3);
    t.map(0x11000, { offset: 0x9000, length: P }, 5);
    expect(t.list().map((m) => [m.start, m.offset, m.prot])).toEqual([[0x10000, 0, 3], [0x11000, 0x9000, 5], [0x12000, 0x2000, 3]]);
    expect(() => t.map(0x10001, { offset: 0, length: P }, 3)).toThrow(/not page-aligned/);
  });
});
