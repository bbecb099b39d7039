import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_INTERP_BASE, DEFAULT_PIE_BASE, ET_DYN, ET_EXEC, loadElf, loadExecutable, LoaderError, pageUp, parseElf,
  type ElfInfo,
} from './index';
import { FakeMemory, fileOf, MappingMemory } from './testing/fake-memory';

const BUSYBOX = '/bin/busybox', LS = '/bin/ls';
const hasReadelf = spawnSync('readelf', ['--version']).status === 0;

/** readelfLoads parses `readelf -lW` PT_LOAD lines as an independent check of parseElf. */
function readelfLoads(path: string): Array<{ offset: number; vaddr: bigint; filesz: number; memsz: number }> {
  const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  return [...out.matchAll(/^\s+LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)/gm)]
    .map((m) => ({ offset: Number(m[1]), vaddr: BigInt(m[2]), filesz: Number(m[3]), memsz: Number(m[4]) }));
}

function checkImage(mem: FakeMemory, elf: Buffer, info: ElfInfo, bias: bigint): void {
  for (const s of info.loads) {
    const at = s.vaddr + bias;
    expect(mem.read(at, s.filesz).equals(elf.subarray(s.offset, s.offset + s.filesz))).toBe(true);
    const bss = mem.read(at + BigInt(s.filesz), Number(pageUp(at + BigInt(s.filesz)) - at) - s.filesz);
    expect(bss.every((b) => b === 0)).toBe(true);
    // The segment's last page carries its protection unless a later segment shares it.
    expect(mem.protAt(at + BigInt(s.memsz) - 1n)).toBeDefined();
  }
}

describe('loadElf on real executables', () => {
  test('static busybox (ET_EXEC)', () => {
    if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} missing (busybox-static, installed by make setup)`);
    const elf = readFileSync(BUSYBOX);
    const info = parseElf(fileOf(elf));
    expect(info.type).toBe(ET_EXEC);
    expect(info.interp).toBeNull();
    expect(info.entry).toBe(elf.readBigUInt64LE(24));
    if (hasReadelf) expect(info.loads.map(({ offset, vaddr, filesz, memsz }) => ({ offset, vaddr, filesz, memsz }))).toEqual(readelfLoads(BUSYBOX));
    const mem = new FakeMemory();
    const r = loadElf(fileOf(elf), mem);
    expect(r.bias).toBe(0n);
    expect(r.entry).toBe(info.entry);
    expect(r.phnum).toBe(info.phnum);
    expect(r.phent).toBe(56);
    const last = info.loads[info.loads.length - 1];
    expect(r.brkStart).toBe(pageUp(last.vaddr + BigInt(last.memsz)));
    checkImage(mem, elf, info, 0n);
    // Text is R-X, data RW-, and the phdrs live in the first (read-only) segment.
    expect(mem.protAt(info.entry)).toBe(5);
    expect(mem.protAt(last.vaddr + BigInt(last.memsz) - 1n)).toBe(3);
    expect(mem.read(r.phdr, 56).equals(elf.subarray(info.phoff, info.phoff + 56))).toBe(true);
  });

  test('dynamic /bin/ls with its interpreter', () => {
    if (!existsSync(LS)) throw new Error(`${LS} missing`);
    const elf = readFileSync(LS);
    const info = parseElf(fileOf(elf));
    expect(info.type).toBe(ET_DYN);
    expect(info.interp).toMatch(/^\/lib.*ld-linux-x86-64\.so\.2$/);
    const mem = new FakeMemory();
    const opened: string[] = [];
    const r = loadExecutable(fileOf(elf), mem, (p) => { opened.push(p); return fileOf(readFileSync(p)); });
    expect(opened).toEqual([info.interp]);
    expect(r.execEntry).toBe(DEFAULT_PIE_BASE + info.entry);
    expect(r.phdr).toBe(DEFAULT_PIE_BASE + info.phdrVaddr!);
    expect(r.base).toBeGreaterThanOrEqual(DEFAULT_INTERP_BASE);
    expect(r.base % 4096n).toBe(0n);
    const ld = parseElf(fileOf(readFileSync(info.interp!)));
    expect(r.entry).toBe(r.base + ld.entry);
    expect(r.brkStart).toBe(pageUp(DEFAULT_PIE_BASE + info.loads.at(-1)!.vaddr + BigInt(info.loads.at(-1)!.memsz)));
    checkImage(mem, elf, info, DEFAULT_PIE_BASE);
    checkImage(mem, readFileSync(info.interp!), ld, r.base);
    expect(r.stackExecutable).toBe(false);
  });

  describe('static-PIE built with gcc -static-pie', () => {
    let dir = '';
    let exe = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'tvisor-loader-'));
      writeFileSync(join(dir, 'p.c'), 'int x = 7; int y[4096]; int main(void) { return x + y[5]; }\n');
      const r = spawnSync('gcc', ['-static-pie', '-O1', '-o', join(dir, 'p'), join(dir, 'p.c')]);
      if (r.status === 0) exe = join(dir, 'p');
      else throw new Error(`gcc -static-pie failed: ${r.error ?? r.stderr}`);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('loads at the default PIE base, deterministically', () => {
      const elf = readFileSync(exe);
      const info = parseElf(fileOf(elf));
      expect(info.type).toBe(ET_DYN);
      expect(info.interp).toBeNull();
      const a = new FakeMemory(), b = new FakeMemory();
      const ra = loadElf(fileOf(elf), a), rb = loadElf(fileOf(elf), b);
      expect(ra.bias).toBe(DEFAULT_PIE_BASE - (info.loads[0].vaddr & ~0xfffn));
      expect(rb.bias).toBe(ra.bias);
      expect(ra.entry).toBe(ra.bias + info.entry);
      checkImage(a, elf, info, ra.bias);
    });

    test('a random source moves the base by whole pages; findFree avoids taken ranges', () => {
      const elf = readFileSync(exe);
      const mem = new FakeMemory();
      mem.mapAnonymous(DEFAULT_PIE_BASE, 4096, 1); // occupy the default base
      const r = loadElf(fileOf(elf), mem);
      expect(r.bias).toBeGreaterThan(DEFAULT_PIE_BASE);
      const rnd = loadElf(fileOf(elf), new FakeMemory(), { random: () => Buffer.from('0123456789abcdef') });
      expect(rnd.bias).not.toBe(DEFAULT_PIE_BASE);
      expect(rnd.bias % 4096n).toBe(0n);
      expect(rnd.bias - DEFAULT_PIE_BASE).toBeLessThan(1n << 40n);
    });
  });
});

/** A minimal valid ELF: one PT_LOAD of the whole file at 0x400000, entry inside it. */
function tinyElf(): Buffer {
  const b = Buffer.alloc(0x1000 + 0x100);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2; b[5] = 1; b[6] = 1;
  b.writeUInt16LE(ET_EXEC, 16);
  b.writeUInt16LE(62, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(0x401000n, 24);
  b.writeBigUInt64LE(64n, 32);
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  setPhdr(b, 0, { type: 1, flags: 5, offset: 0n, vaddr: 0x400000n, filesz: BigInt(b.length), memsz: 0x3000n, align: 0x1000n });
  return b;
}

function setPhdr(b: Buffer, i: number, p: { type: number; flags: number; offset: bigint; vaddr: bigint; filesz: bigint; memsz: bigint; align: bigint }): void {
  const o = 64 + i * 56;
  b.writeUInt32LE(p.type, o); b.writeUInt32LE(p.flags, o + 4);
  b.writeBigUInt64LE(p.offset, o + 8); b.writeBigUInt64LE(p.vaddr, o + 16); b.writeBigUInt64LE(p.vaddr, o + 24);
  b.writeBigUInt64LE(p.filesz, o + 32); b.writeBigUInt64LE(p.memsz, o + 40); b.writeBigUInt64LE(p.align, o + 48);
}

function errnoOf(f: () => unknown): number | string {
  try { f(); return 'no error'; } catch (e) { return e instanceof LoaderError ? e.errno : String(e); }
}

describe('parseElf rejects corrupted headers', () => {
  test('the tiny ELF itself loads, with bss zeroed past filesz', () => {
    const mem = new FakeMemory();
    const r = loadElf(fileOf(tinyElf()), mem);
    expect(r.entry).toBe(0x401000n);
    expect(mem.maps).toEqual([{ addr: 0x400000n, length: 0x3000, prot: 5 }]);
    expect(mem.read(0x401100n, 0x1f00).every((x) => x === 0)).toBe(true);
    expect(r.phdr).toBe(0x400040n);
  });

  const cases: Array<[string, (b: Buffer) => Buffer, number]> = [
    ['short file', (b) => b.subarray(0, 40), 8],
    ['bad magic', (b) => { b[1] = 0x45 + 1; return b; }, 8],
    ['32-bit class', (b) => { b[4] = 1; return b; }, 8],
    ['big endian', (b) => { b[5] = 2; return b; }, 8],
    ['ET_REL', (b) => { b.writeUInt16LE(1, 16); return b; }, 8],
    ['aarch64', (b) => { b.writeUInt16LE(183, 18); return b; }, 8],
    ['phentsize 32', (b) => { b.writeUInt16LE(32, 54); return b; }, 8],
    ['no phdrs', (b) => { b.writeUInt16LE(0, 56); return b; }, 8],
    ['too many phdrs', (b) => { b.writeUInt16LE(2000, 56); return b; }, 8],
    ['phdrs past EOF', (b) => { b.writeBigUInt64LE(BigInt(b.length - 10), 32); return b; }, 8],
    ['huge phoff', (b) => { b.writeBigUInt64LE(1n << 62n, 32); return b; }, 8],
    ['filesz > memsz', (b) => { b.writeBigUInt64LE(0x100n, 64 + 40); return b; }, 22],
    ['segment past EOF', (b) => { b.writeBigUInt64LE(0x100000n, 64 + 32); b.writeBigUInt64LE(0x100000n, 64 + 40); return b; }, 8],
    ['misaligned offset', (b) => { b.writeBigUInt64LE(0x10n, 64 + 8); b.writeBigUInt64LE(0x100n, 64 + 32); return b; }, 22],
    ['memsz beyond user space', (b) => { b.writeBigUInt64LE(0x7fffffff0000n, 64 + 40); return b; }, 22],
    ['entry outside the image', (b) => { b.writeBigUInt64LE(0x900000n, 24); return b; }, 8],
    ['no PT_LOAD', (b) => { b.writeUInt32LE(4, 64); return b; }, 8],
  ];
  test.each(cases)('%s', (_name, corrupt, errno) => {
    expect(errnoOf(() => loadElf(fileOf(corrupt(tinyElf())), new FakeMemory()))).toBe(errno);
  });

  test('unsorted and overlapping segments; a page below mmap_min_addr', () => {
    const two = (second: bigint): Buffer => {
      const b = tinyElf();
      b.writeUInt16LE(2, 56);
      setPhdr(b, 0, { type: 1, flags: 5, offset: 0n, vaddr: 0x400000n, filesz: 0x200n, memsz: 0x2000n, align: 0x1000n });
      setPhdr(b, 1, { type: 1, flags: 6, offset: 0x1000n, vaddr: second, filesz: 0x100n, memsz: 0x100n, align: 0x1000n });
      return b;
    };
    expect(errnoOf(() => parseElf(fileOf(two(0x402000n))))).toBe('no error');
    expect(errnoOf(() => parseElf(fileOf(two(0x3ff000n))))).toBe(8); // unsorted
    expect(errnoOf(() => parseElf(fileOf(two(0x401000n))))).toBe(8); // overlaps the first's bss
    const low = tinyElf();
    low.writeBigUInt64LE(0x1000n, 64 + 16);
    low.writeBigUInt64LE(0x1100n, 24);
    expect(errnoOf(() => loadElf(fileOf(low), new FakeMemory()))).toBe(1);
  });

  test('a page shared by two segments takes the later prot and keeps both contents', () => {
    const b = tinyElf();
    b.writeUInt16LE(2, 56);
    b.fill(0xaa, 0x10a0, 0x10e0);
    setPhdr(b, 0, { type: 1, flags: 5, offset: 0n, vaddr: 0x400000n, filesz: 0x800n, memsz: 0x1080n, align: 0x1000n });
    setPhdr(b, 1, { type: 1, flags: 6, offset: 0x10a0n, vaddr: 0x4010a0n, filesz: 0x40n, memsz: 0x100n, align: 0x1000n });
    const mem = new FakeMemory();
    loadElf(fileOf(b), mem);
    expect(mem.maps).toEqual([{ addr: 0x400000n, length: 0x1000, prot: 5 }, { addr: 0x401000n, length: 0x1000, prot: 3 }]);
    expect(mem.read(0x400800n, 0x880).every((x) => x === 0)).toBe(true);
    expect(mem.read(0x4010a0n, 0x40).every((x) => x === 0xaa)).toBe(true);
    expect(mem.read(0x4010e0n, 0xc0).every((x) => x === 0)).toBe(true);
  });

  test('segments mapped from the file (mapFile) read as the copies do; a bss page is zeroed to its end; shared pages are copied', () => {
    for (const p of [BUSYBOX, LS, parseElf(fileOf(readFileSync(LS))).interp!]) {
      const elf = readFileSync(p);
      const info = parseElf(fileOf(elf));
      const copied = new FakeMemory(), mapped = new MappingMemory();
      const a = loadElf(fileOf(elf), copied), b = loadElf(fileOf(elf), mapped);
      expect(b.bias).toBe(a.bias);
      expect(mapped.fileMaps.length).toBe(info.loads.filter((s) => s.filesz > 0).length);
      for (const s of info.loads) {
        const at = s.vaddr + a.bias;
        expect(mapped.read(at, s.memsz).equals(copied.read(at, s.memsz))).toBe(true);
        expect(mapped.protAt(at)).toBe(copied.protAt(at));
        // Past the file bytes of a segment with a bss: zeros to the page's end (ld.so's first malloc takes them).
        const end = at + BigInt(s.filesz);
        if (s.memsz > s.filesz) expect(mapped.read(end, Number(pageUp(end) - end)).every((x) => x === 0)).toBe(true);
      }
    }
    // Two segments sharing a page are copied, as before: both contents land there.
    const t = tinyElf();
    t.writeUInt16LE(2, 56);
    t.fill(0xaa, 0x10a0, 0x10e0);
    setPhdr(t, 0, { type: 1, flags: 5, offset: 0n, vaddr: 0x400000n, filesz: 0x800n, memsz: 0x1080n, align: 0x1000n });
    setPhdr(t, 1, { type: 1, flags: 6, offset: 0x10a0n, vaddr: 0x4010a0n, filesz: 0x40n, memsz: 0x100n, align: 0x1000n });
    const mem = new MappingMemory();
    loadElf(fileOf(t), mem);
    expect(mem.fileMaps).toEqual([]);
    expect(mem.read(0x4010a0n, 0x40).every((x) => x === 0xaa)).toBe(true);
  });

  test('PT_INTERP must be NUL-terminated and sane; PT_GNU_STACK is read', () => {
    const withInterp = (s: Buffer): Buffer => {
      const b = tinyElf();
      b.writeUInt16LE(3, 56);
      s.copy(b, 0x800);
      setPhdr(b, 1, { type: 3, flags: 4, offset: 0x800n, vaddr: 0x400800n, filesz: BigInt(s.length), memsz: BigInt(s.length), align: 1n });
      setPhdr(b, 2, { type: 0x6474e551, flags: 7, offset: 0n, vaddr: 0n, filesz: 0n, memsz: 0n, align: 16n });
      return b;
    };
    const ok = parseElf(fileOf(withInterp(Buffer.from('/lib/ld.so\0'))));
    expect(ok.interp).toBe('/lib/ld.so');
    expect(ok.stackFlags).toBe(7);
    expect(errnoOf(() => parseElf(fileOf(withInterp(Buffer.from('/lib/ld.so')))))).toBe(8);
    expect(errnoOf(() => parseElf(fileOf(withInterp(Buffer.from('/li\0b\0')))))).toBe(8);
    expect(errnoOf(() => parseElf(fileOf(withInterp(Buffer.from('\0')))))).toBe(8);
  });

  test('an interpreter that is not ELF is ELIBBAD', () => {
    const b = tinyElf();
    b.writeUInt16LE(2, 56);
    Buffer.from('/lib/ld.so\0').copy(b, 0x800);
    setPhdr(b, 1, { type: 3, flags: 4, offset: 0x800n, vaddr: 0x400800n, filesz: 11n, memsz: 11n, align: 1n });
    expect(errnoOf(() => loadExecutable(fileOf(b), new FakeMemory(), () => fileOf(Buffer.from('#!/bin/sh\n'.padEnd(100)))))).toBe(80);
  });
});
