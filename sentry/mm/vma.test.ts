import { mergeable, type Vma } from './vma';

const anon = (start: number, end: number, extra: Partial<Vma> = {}): Vma =>
  ({ start, end, prot: 3, shared: null, name: '', fileOffset: 0, ...extra });

describe('mergeable', () => {
  it('joins adjacent anonymous VMAs alike in every attribute, undefined and false alike', () => {
    expect(mergeable(anon(0, 4096), anon(4096, 8192))).toBe(true);
    expect(mergeable(anon(0, 4096, { noExec: false }), anon(4096, 8192))).toBe(true);
    expect(mergeable(anon(0, 4096), anon(8192, 12288))).toBe(false);
    expect(mergeable(anon(0, 4096), anon(4096, 8192, { prot: 1 }))).toBe(false);
    expect(mergeable(anon(0, 4096), anon(4096, 8192, { locked: true }))).toBe(false);
    expect(mergeable(anon(0, 4096, { name: '[heap]' }), anon(4096, 8192))).toBe(false);
  });

  it('keeps VMAs apart on a field it does not know (objects by identity)', () => {
    const a = anon(0, 4096) as Vma & { tag?: object };
    const b = anon(4096, 8192) as Vma & { tag?: object };
    a.tag = {};
    b.tag = {};
    expect(mergeable(a, b)).toBe(false);
    b.tag = a.tag;
    expect(mergeable(a, b)).toBe(true);
  });

  it('needs the same object at contiguous offsets, and a file\'s offsets to follow on', () => {
    const mem = {} as never;
    expect(mergeable(anon(0, 4096, { shared: { mem, offset: 0 } }), anon(4096, 8192, { shared: { mem, offset: 4096 } }))).toBe(true);
    expect(mergeable(anon(0, 4096, { shared: { mem, offset: 0 } }), anon(4096, 8192, { shared: { mem, offset: 0 } }))).toBe(false);
    expect(mergeable(anon(0, 4096, { shared: { mem, offset: 0 } }), anon(4096, 8192, { shared: { mem: {} as never, offset: 4096 } }))).toBe(false);
    expect(mergeable(anon(0, 4096, { shared: { mem, offset: 0 } }), anon(4096, 8192))).toBe(false);
    expect(mergeable(anon(0, 4096, { name: '/lib/x.so' }), anon(4096, 8192, { name: '/lib/x.so', fileOffset: 4096 }))).toBe(true);
    expect(mergeable(anon(0, 4096, { name: '/lib/x.so' }), anon(4096, 8192, { name: '/lib/x.so' }))).toBe(false);
  });
});
