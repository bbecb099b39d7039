import { BRK_RND_BYTES, chooseLayout, MMAP_RND_BITS, SP_RND_BYTES, STACK_RND_PAGES } from './aslr';
import { checkVdsoImage, vdsoImage } from './vdso';
import { LoaderError, PAGE_SIZE } from './types';
import { randomBytes } from 'node:crypto';

const TOP = 0x7fffff000000;
const MIB = 1024 * 1024;

describe('chooseLayout', () => {
  test('without randomization: the top, the top less 128 MiB (or the stack limit and guard), no brk offset', () => {
    expect(chooseLayout(TOP, 8 * MIB, null)).toEqual({ stackTop: TOP, mmapBase: TOP - 128 * MIB, brkOffset: 0, spOffset: 0 });
    expect(chooseLayout(TOP, 512 * MIB, null)).toEqual({ stackTop: TOP, mmapBase: TOP - 512 * MIB - MIB, brkOffset: 0, spOffset: 0 });
    // Unlimited: the gap stops at 5/6 of the space.
    const base = TOP - Math.floor(TOP / 6) * 5;
    expect(chooseLayout(TOP, Infinity, null).mmapBase).toBe(base - (base % PAGE_SIZE));
  });

  test('randomized: within Linux\'s ranges, page aligned, the stack above the mmap area', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const l = chooseLayout(TOP, 8 * MIB, (n) => randomBytes(n));
      for (const v of [l.stackTop, l.mmapBase, l.brkOffset]) expect(v % PAGE_SIZE).toBe(0);
      expect(l.stackTop).toBeGreaterThan(TOP - STACK_RND_PAGES * PAGE_SIZE);
      expect(l.stackTop).toBeLessThanOrEqual(TOP);
      const gap = 8 * MIB + MIB + STACK_RND_PAGES * PAGE_SIZE;
      expect(l.mmapBase).toBeLessThanOrEqual(TOP - gap);
      expect(l.mmapBase).toBeGreaterThan(TOP - gap - 2 ** MMAP_RND_BITS * PAGE_SIZE - PAGE_SIZE);
      // The largest stack mapped at exec (128 MiB) stays above the mmap area.
      expect(l.stackTop - 128 * MIB).toBeGreaterThan(l.mmapBase);
      expect(l.brkOffset).toBeLessThan(BRK_RND_BYTES);
      expect(l.spOffset).toBeLessThan(SP_RND_BYTES);
      seen.add(l.mmapBase);
    }
    expect(seen.size).toBeGreaterThan(190);
  });
});

describe('vdso image', () => {
  test('the built image is one read+execute page-padded segment', () => {
    const img = vdsoImage();
    expect(img.text.length % PAGE_SIZE).toBe(0);
    expect(img.text.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  });

  test('a malformed image is refused', () => {
    expect(() => checkVdsoImage(Buffer.from('not an elf'))).toThrow(LoaderError);
    const bad = Buffer.from(vdsoImage().text);
    bad.writeUInt16LE(2, 16); // ET_EXEC
    expect(() => checkVdsoImage(bad)).toThrow(/one PT_LOAD at address 0/);
  });
});
