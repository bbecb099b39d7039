import {
  AT_ENTRY, AT_EXECFN, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PLATFORM, AT_RANDOM, buildInitialStack, checkArgLimits,
  LoaderError, MAX_ARG_STRLEN,
} from './index';
import { FakeMemory } from './testing/fake-memory';

const TOP = 0x7ffffffde000n;
const random = Buffer.from('0123456789abcdef');

function stackMem(): FakeMemory {
  const m = new FakeMemory();
  m.mapAnonymous(TOP - 0x40000n, 0x40000, 3);
  return m;
}

function errnoOf(f: () => unknown): number | string {
  try { f(); return 'no error'; } catch (e) { return e instanceof LoaderError ? e.errno : String(e); }
}

describe('buildInitialStack', () => {
  test('layout: argc, argv, envp, auxv with fixed-up pointers, 16-byte aligned rsp', () => {
    const mem = stackMem();
    const argv = ['/bin/prog', 'a b', 'ü'], envp = ['PATH=/bin', 'HOME=/'];
    const r = buildInitialStack(mem, TOP, {
      argv, envp, execfn: '/bin/prog', random, platform: 'x86_64',
      auxv: [[AT_PHDR, 0x400040n], [AT_PAGESZ, 4096n], [AT_ENTRY, 0x401000n], [AT_RANDOM, 0n]],
    });
    expect(r.sp % 16n).toBe(0n);
    const word = (i: number): bigint => mem.read(r.sp + BigInt(8 * i), 8).readBigUInt64LE(0);
    expect(word(0)).toBe(3n);
    const strs = (start: number, n: number) => Array.from({ length: n }, (_, i) => Buffer.from(mem.readCString(word(start + i)), 'latin1').toString('utf8'));
    expect(strs(1, 3)).toEqual(argv);
    expect(word(4)).toBe(0n);
    expect(strs(5, 2)).toEqual(envp);
    expect(word(7)).toBe(0n);
    const aux = new Map<number, bigint>();
    let i = 8;
    for (; word(i) !== BigInt(AT_NULL); i += 2) aux.set(Number(word(i)), word(i + 1));
    expect(r.auxv).toBe(r.sp + 64n);
    expect(aux.get(AT_PHDR)).toBe(0x400040n);
    expect(aux.get(AT_ENTRY)).toBe(0x401000n);
    expect(mem.read(aux.get(AT_RANDOM)!, 16).equals(random)).toBe(true);
    expect(mem.readCString(aux.get(AT_PLATFORM)!)).toBe('x86_64');
    expect(mem.readCString(aux.get(AT_EXECFN)!)).toBe('/bin/prog');
    expect([aux.get(AT_RANDOM), aux.get(AT_PLATFORM), aux.get(AT_EXECFN)]).toEqual([r.random, r.platform, r.execfn]);
    // Strings are contiguous: /proc/self/cmdline and environ read argStart..argEnd, envStart..envEnd.
    expect(mem.read(r.argStart, Number(r.argEnd - r.argStart)).toString('utf8')).toBe(`${argv.join('\0')}\0`);
    expect(mem.read(r.envStart, Number(r.envEnd - r.envStart)).toString()).toBe(`${envp.join('\0')}\0`);
    expect(r.argEnd).toBe(r.envStart);
    expect(r.envEnd).toBe(r.execfn);
    expect(r.execfn + BigInt('/bin/prog'.length + 1)).toBe(TOP - 8n);
    expect(r.random % 16n).toBe(0n);
    expect(r.random + 16n).toBeLessThanOrEqual(r.platform);
  });

  test('alignment holds for every argc parity', () => {
    for (let n = 0; n < 6; n++) {
      const r = buildInitialStack(stackMem(), TOP, { argv: Array(n).fill('x'), envp: [], execfn: 'x', random, platform: 'x86_64', auxv: [] });
      expect(r.sp % 16n).toBe(0n);
    }
  });

  test('E2BIG for a string over MAX_ARG_STRLEN and for argv+envp over a quarter of the stack limit', () => {
    expect(errnoOf(() => checkArgLimits(['x'.repeat(MAX_ARG_STRLEN - 1)], []))).toBe('no error');
    expect(errnoOf(() => checkArgLimits(['x'.repeat(MAX_ARG_STRLEN)], []))).toBe(7);
    const env = Array(20).fill('y'.repeat(120 * 1024));
    expect(errnoOf(() => checkArgLimits(['p'], env))).toBe(7); // 2.4 MB > 2 MiB (8 MiB / 4)
    expect(errnoOf(() => checkArgLimits(['p'], env, 64 * 1024 * 1024))).toBe('no error');
    expect(errnoOf(() => checkArgLimits(['p'], Array(1000).fill('z'), 4096))).toBe(7);
  });

  test('bad inputs', () => {
    const base = { argv: ['p'], envp: [], execfn: 'p', platform: 'x86_64' as const, auxv: [] as Array<[number, bigint]> };
    expect(errnoOf(() => buildInitialStack(stackMem(), TOP, { ...base, random: Buffer.alloc(8) }))).toBe(22);
    expect(errnoOf(() => buildInitialStack(stackMem(), TOP + 8n, { ...base, random }))).toBe(22);
    expect(errnoOf(() => buildInitialStack(stackMem(), TOP, { ...base, random, auxv: [[AT_NULL, 0n]] }))).toBe(22);
    expect(errnoOf(() => buildInitialStack(stackMem(), TOP, { ...base, random, argv: ['a\0b'] }))).toBe(22);
  });
});

describe('buildInitialStack spOffset', () => {
  test('moves the table below the strings by the offset (then 16-byte aligned), the strings stay', () => {
    const spec = { argv: ['/bin/prog'], envp: ['A=1'], execfn: '/bin/prog', random, platform: 'x86_64' as const, auxv: [] };
    const a = buildInitialStack(stackMem(), TOP, spec);
    const b = buildInitialStack(stackMem(), TOP, { ...spec, spOffset: 5000 });
    expect(b.argStart).toBe(a.argStart);
    expect(b.sp % 16n).toBe(0n);
    expect(a.sp - b.sp).toBeGreaterThanOrEqual(4992n);
    expect(a.sp - b.sp).toBeLessThanOrEqual(5008n);
  });
});
