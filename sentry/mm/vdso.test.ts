/**
 * mapVdso on a real memory file: [vvar] and [vdso] show as Linux's in the maps, hold the
 * image and the clock page, are one copy for every address space, can never be made
 * writable, and fork keeps them with the layout (mmapTop).
 */
import { MemoryFile, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpace, type FileRange, type Platform, type Prot } from '../../platform';
import { MappingTable } from '../../platform/memfile/mappings';
import { MemoryFault } from '../../platform';
import { Errno } from '../kernel/errors';
import { vdsoClock } from '../kernel/timekeeper';
import { vdsoImage } from '../loader/vdso';
import { MemoryManager } from './mm';
import { mapVdso, vdsoSize } from './vdso';

class TableSpace implements AddressSpace {
  readonly table = new MappingTable();
  mapFile(addr: number, range: FileRange, prot: Prot): void { this.table.map(addr, range, prot); }
  unmap(addr: number, length: number): void { this.table.unmap(addr, length); }
  protect(addr: number, length: number, prot: Prot): void { this.table.protect(addr, length, prot); }
  translate(addr: number, length: number, want: Prot): FileRange[] {
    const r = this.table.translate(addr, length, want);
    if ('faultAt' in r) throw new MemoryFault(r.faultAt, want);
    return r;
  }
  isMapped(addr: number, length: number): boolean { return Array.isArray(this.table.translate(addr, length, 0)); }
  release(): void {}
}

function platformOver(mf: MemoryFile): Platform {
  return {
    name: 'table', minUserAddress: 0x10000, maxUserAddress: 2 ** 47 - 4096, memoryFile: mf,
    newAddressSpace: () => new TableSpace(),
    newContext: () => { throw new Error('no contexts'); },
    newFpState: () => { throw new Error('no fp state'); },
    release() {},
  };
}

describe('mapVdso', () => {
  const mf = MemoryFile.create({ maxSize: 1 << 26 });
  const p = platformOver(mf);
  afterAll(() => {
    vdsoClock.stop();
    mf.close();
  });

  test('[vvar] then [vdso], private-looking, read-only, the image\'s bytes, one copy for all', () => {
    const a = MemoryManager.create(p), b = MemoryManager.create(p);
    const size = vdsoSize(mf);
    const ea = mapVdso(a, a.findFree(size)), eb = mapVdso(b, b.findFree(size) - 0x100000);
    const lines = a.describe().split('\n').filter((l) => /\[(vvar|vdso)\]/.test(l));
    expect(lines.map((l) => l.split(/\s+/)[1] + ' ' + l.split(/\s+/).pop())).toEqual(['r--p [vvar]', 'r-xp [vdso]']);
    expect(a.read(ea, vdsoImage().text.length)).toEqual(vdsoImage().text);
    // The same memory-file pages behind both address spaces.
    a.populate(ea - 4096, size);
    b.populate(eb - 4096, size);
    expect(a.translate(ea, 4096, PROT_READ)[0].offset).toBe(b.translate(eb, 4096, PROT_READ)[0].offset);
    expect(a.translate(ea - 4096, 4096, PROT_READ)[0].offset).toBe(b.translate(eb - 4096, 4096, PROT_READ)[0].offset);
    for (const [addr, len] of [[ea - 4096, 4096], [ea, size - 4096]]) {
      expect(() => a.protect(addr, len, PROT_READ | PROT_WRITE)).toThrow(expect.objectContaining({ errno: Errno.EACCES }));
      expect(() => a.write(addr, Buffer.from([1]))).toThrow(expect.objectContaining({ errno: Errno.EFAULT }));
    }
    a.protect(ea, size - 4096, PROT_READ); // dropping exec is allowed
    expect(a.findVma(ea)?.prot).toBe(PROT_READ);
    expect(b.findVma(eb)?.prot).toBe(PROT_READ | PROT_EXEC);
    a.release();
    b.release();
  });

  test('fork keeps the vDSO and the mmap base', () => {
    const a = MemoryManager.create(p);
    a.mmapTop = 0x7f0000000000;
    const e = mapVdso(a, a.findFree(vdsoSize(mf)));
    const c = a.fork();
    expect(c.mmapTop).toBe(0x7f0000000000);
    expect(c.findVma(e)?.name).toBe('[vdso]');
    expect(c.read(e, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(() => c.protect(e, 4096, PROT_WRITE)).toThrow(expect.objectContaining({ errno: Errno.EACCES }));
    a.release();
    c.release();
  });
});
