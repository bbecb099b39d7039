/**
 * The CPU list and bitmap formats of /proc/<pid>/status and the cpuset files, as Linux's
 * %*pbl and %*pb print them, and parseCpuList reading the list form back.
 */
import { formatBitmap, formatCpuList, parseCpuList } from './cpus';

describe('CPU lists and masks', () => {
  test('a list joins runs with dashes and parses back', () => {
    expect(formatCpuList([0, 1, 2, 3, 8, 10, 11])).toBe('0-3,8,10-11');
    expect(formatCpuList([5])).toBe('5');
    expect(parseCpuList(formatCpuList([0, 2, 3, 4, 63]))).toEqual([0, 2, 3, 4, 63]);
  });

  test('a mask is 32-bit hex words, most significant first, the first as wide as its bits need', () => {
    expect(formatBitmap([0, 1], 2)).toBe('3');
    expect(formatBitmap([0], 2)).toBe('1');
    expect(formatBitmap([0, 7], 8)).toBe('81');
    expect(formatBitmap([0], 32)).toBe('00000001');
    expect(formatBitmap([31, 32], 36)).toBe('1,80000000');
    expect(formatBitmap([0, 63], 64)).toBe('80000000,00000001');
    const mems = formatBitmap([0], 1024);
    expect(mems.split(',')).toHaveLength(32);
    expect(mems).toBe(`${'00000000,'.repeat(31)}00000001`);
  });
});
