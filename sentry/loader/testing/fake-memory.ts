/**
 * fake-memory is a LoaderMemory over a sparse page map, for the loader's tests: it checks
 * what a real memory manager would (alignment, writes only to mapped pages) and lets a
 * test read back bytes and protections.
 */
import { PAGE_SIZE, type LoaderMemory } from '../types';

const PAGE = BigInt(PAGE_SIZE);

/** FakeMemory records mappings page by page. */
export class FakeMemory implements LoaderMemory {
  readonly pages = new Map<bigint, { data: Buffer; prot: number }>();
  readonly maps: Array<{ addr: bigint; length: number; prot: number }> = [];

  mapAnonymous(addr: bigint, length: number, prot: number): void {
    if (addr % PAGE !== 0n || length % PAGE_SIZE !== 0 || length <= 0) throw new Error(`fake memory: unaligned map 0x${addr.toString(16)}+${length}`);
    this.maps.push({ addr, length, prot });
    for (let a = addr; a < addr + BigInt(length); a += PAGE) this.pages.set(a / PAGE, { data: Buffer.alloc(PAGE_SIZE), prot });
  }

  write(addr: bigint, data: Buffer): void {
    for (let i = 0; i < data.length;) {
      const a = addr + BigInt(i);
      const page = this.pages.get(a / PAGE);
      if (!page) throw new Error(`fake memory: write to unmapped 0x${a.toString(16)}`);
      const off = Number(a % PAGE);
      const n = Math.min(PAGE_SIZE - off, data.length - i);
      data.copy(page.data, off, i, i + n);
      i += n;
    }
  }

  read(addr: bigint, length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length;) {
      const a = addr + BigInt(i);
      const page = this.pages.get(a / PAGE);
      if (!page) throw new Error(`fake memory: read of unmapped 0x${a.toString(16)}`);
      const off = Number(a % PAGE);
      const n = Math.min(PAGE_SIZE - off, length - i);
      page.data.copy(out, i, off, off + n);
      i += n;
    }
    return out;
  }

  readCString(addr: bigint): string {
    let s = '';
    for (let a = addr; ; a++) {
      const c = this.read(a, 1)[0];
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
  }

  protAt(addr: bigint): number | undefined {
    return this.pages.get(addr / PAGE)?.prot;
  }

  findFree(length: number, hint: bigint): bigint {
    const n = BigInt(Math.ceil(length / PAGE_SIZE));
    for (let start = (hint + PAGE - 1n) / PAGE; ; start++) {
      let free = true;
      for (let p = start; p < start + n; p++) if (this.pages.has(p)) { free = false; start = p; break; }
      if (free) return start * PAGE;
    }
  }
}

/** fileOf wraps a Buffer as an ExecFile. */
export function fileOf(b: Buffer): { size: number; readAt(offset: number, length: number): Buffer } {
  return {
    size: b.length,
    readAt: (offset, length) => {
      if (offset < 0 || offset + length > b.length) throw new RangeError(`read ${offset}+${length} past ${b.length}`);
      return b.subarray(offset, offset + length);
    },
  };
}

/** MappingMemory is a FakeMemory that maps file pages (LoaderMemory.mapFile) by copying them, as a copy-on-write mapping reads. */
export class MappingMemory extends FakeMemory {
  readonly fileMaps: Array<{ addr: bigint; length: number; fileOffset: number }> = [];

  mapFile(addr: bigint, length: number, prot: number, file: { size: number; readAt(offset: number, length: number): Buffer }, fileOffset: number): boolean {
    this.mapAnonymous(addr, length, prot);
    this.fileMaps.push({ addr, length, fileOffset });
    const n = Math.max(0, Math.min(length, file.size - fileOffset));
    this.write(addr, file.readAt(fileOffset, n));
    return true;
  }
}
