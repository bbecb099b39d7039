import { PROT_READ, PROT_WRITE, type FileRange } from '../platform';
import { copyIn, copyOut, MemoryFault, type Translator } from './copy';
import { MappingTable } from './mappings';
import { MemoryFile } from './memory-file';

/** A translator over a MappingTable (the platform tests' kind: testing/translate.ts). */
function translator(t: MappingTable): Translator {
  return {
    translate(addr, length, want): FileRange[] {
      const r = t.translate(addr, length, want);
      if ('faultAt' in r) throw new MemoryFault(r.faultAt, want);
      return r;
    },
  };
}

describe('MemoryFile', () => {
  let mf: MemoryFile;
  beforeEach(() => {
    mf = MemoryFile.create({ chunkSize: 64 * 1024, maxSize: 1 << 24 });
  });
  afterEach(() => mf.close());

  test('grows on allocation, reads and writes across chunks, frees to zeros', () => {
    const r = mf.allocate(200 * 1024);
    expect(mf.size).toBeGreaterThanOrEqual(200 * 1024);
    const data = Buffer.alloc(10000, 7);
    mf.writeBytes(r.offset + 60000, data); // spans the first 64 KiB chunk boundary
    expect(mf.readBytes(r.offset + 60000, 10000)).toEqual(data);
    expect(() => mf.view(r.offset + 60000, 10000)).toThrow(/spans two chunks/);
    mf.free(r);
    expect(mf.readBytes(r.offset + 60000, 16)).toEqual(Buffer.alloc(16));
    expect(() => mf.readBytes(mf.size, 1)).toThrow(/outside the file/);
  });

  test('is a real memfd: host writes to the fd show through the mapping', () => {
    const r = mf.allocate(4096);
    const fs = require('node:fs') as typeof import('node:fs');
    fs.writeSync(mf.fd, Buffer.from('through the fd'), 0, 14, r.offset);
    expect(mf.readBytes(r.offset, 14).toString()).toBe('through the fd');
  });

  test('copy helpers follow the mappings and honour protections', () => {
    const t = new MappingTable();
    const a = mf.allocate(4096), b = mf.allocate(4096);
    t.map(0x20000, b, PROT_READ | PROT_WRITE); // deliberately out of file order
    t.map(0x21000, a, PROT_READ);
    const tr = translator(t);
    copyOut(mf, tr, 0x20ffc, Buffer.from('abcd'));
    mf.writeBytes(a.offset, Buffer.from('efgh\0rest'));
    expect(copyIn(mf, tr, 0x20ffc, 8).toString()).toBe('abcdefgh');
    expect(() => copyOut(mf, tr, 0x20ffe, Buffer.from('xxxx'))).toThrow(MemoryFault);
    expect(() => copyIn(mf, tr, 0x21ffe, 4)).toThrow(/0x22000 is not readable/);
  });
  test('freeAll gives back ranges in any order, punching each run of neighbours once', () => {
    const rs = [0, 1, 2, 3, 4].map(() => mf.allocate(8192));
    for (const r of rs) mf.writeBytes(r.offset, Buffer.alloc(8192, 9));
    const fallocate = jest.spyOn(mf as unknown as { punch(r: FileRange): void }, 'punch');
    mf.freeAll([rs[3], rs[0], rs[1], rs[4]]); // rs[2] stays: two runs, [0,1] and [3,4]
    expect(fallocate.mock.calls.map(([r]) => r)).toEqual([
      { offset: rs[0].offset, length: 16384 }, { offset: rs[3].offset, length: 16384 },
    ]);
    expect(mf.usedBytes).toBe(8192);
    expect(mf.readBytes(rs[0].offset, 16384)).toEqual(Buffer.alloc(16384));
    expect(mf.readBytes(rs[2].offset, 8192)).toEqual(Buffer.alloc(8192, 9));
    expect(() => mf.freeAll([rs[0]])).toThrow(/double free/);
  });

  test('populate makes fresh pages resident without changing what they read', () => {
    const r = mf.allocate(3 * 64 * 1024); // spans three of the sentry's mapping chunks
    mf.populate(r);
    expect(mf.readBytes(r.offset, r.length)).toEqual(Buffer.alloc(r.length));
    mf.writeBytes(r.offset + 70000, Buffer.from('kept'));
    mf.populate(r);
    expect(mf.readBytes(r.offset + 70000, 4).toString()).toBe('kept');
    expect(() => mf.populate({ offset: mf.size, length: 4096 })).toThrow(/outside the file/);
  });
});
