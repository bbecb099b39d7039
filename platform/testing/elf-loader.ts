/**
 * elf-loader is the tiny static-ELF loader of the platform tests: it copies a static,
 * non-PIE x86-64 executable's PT_LOAD segments into one memory-file range, maps each
 * page with the union of the protections of the segments covering it, and maps a stack.
 * No auxv, no argv: test programs are freestanding (see programs/sys.h).
 */
import { readFileSync } from 'node:fs';
import { PAGE_SIZE, type AddressSpace, type FileRange } from '../platform';
import type { MemoryFile } from '../memfile/memory-file';

const PT_LOAD = 1;
const PF_X = 1, PF_W = 2, PF_R = 4;

/** LoadedImage is what loadStaticElf mapped. */
export interface LoadedImage {
  entry: bigint;
  /** ranges of the memory file this image uses (free them when done). */
  ranges: FileRange[];
  /** symbols maps the executable's symbol names to addresses (from .symtab, if any). */
  symbols: Map<string, number>;
}

/** loadStaticElf maps the executable at `path` into `as`. */
export function loadStaticElf(mf: MemoryFile, as: AddressSpace, path: string): LoadedImage {
  const elf = readFileSync(path);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf.readUInt16LE(18) !== 62 || elf.readUInt16LE(16) !== 2) {
    throw new Error(`${path}: not a static x86-64 ELF executable`);
  }
  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54), phnum = elf.readUInt16LE(56);
  const segs: { vaddr: number; memsz: number; off: number; filesz: number; prot: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (elf.readUInt32LE(p) !== PT_LOAD) continue;
    const flags = elf.readUInt32LE(p + 4);
    segs.push({
      off: Number(elf.readBigUInt64LE(p + 8)),
      vaddr: Number(elf.readBigUInt64LE(p + 16)),
      filesz: Number(elf.readBigUInt64LE(p + 32)),
      memsz: Number(elf.readBigUInt64LE(p + 40)),
      prot: (flags & PF_R ? 1 : 0) | (flags & PF_W ? 2 : 0) | (flags & PF_X ? 4 : 0),
    });
  }
  if (segs.length === 0) throw new Error(`${path}: no PT_LOAD segment`);
  const lo = Math.floor(Math.min(...segs.map((s) => s.vaddr)) / PAGE_SIZE) * PAGE_SIZE;
  const hi = Math.ceil(Math.max(...segs.map((s) => s.vaddr + s.memsz)) / PAGE_SIZE) * PAGE_SIZE;
  const range = mf.allocate(hi - lo);
  const prots = new Array<number>((hi - lo) / PAGE_SIZE).fill(0);
  for (const s of segs) {
    mf.writeBytes(range.offset + (s.vaddr - lo), elf.subarray(s.off, s.off + s.filesz));
    for (let a = Math.floor(s.vaddr / PAGE_SIZE) * PAGE_SIZE; a < s.vaddr + s.memsz; a += PAGE_SIZE) prots[(a - lo) / PAGE_SIZE] |= s.prot;
  }
  // Map runs of pages with equal protection; pages no segment covers stay unmapped.
  for (let i = 0; i < prots.length;) {
    let j = i;
    while (j < prots.length && prots[j] === prots[i]) j++;
    if (prots[i] !== 0) as.mapFile(lo + i * PAGE_SIZE, { offset: range.offset + i * PAGE_SIZE, length: (j - i) * PAGE_SIZE }, prots[i]);
    i = j;
  }
  return { entry: elf.readBigUInt64LE(24), ranges: [range], symbols: readSymbols(elf) };
}

/** mapStack maps a read-write stack of `size` bytes ending at `top`; returns its memory-file range. */
export function mapStack(mf: MemoryFile, as: AddressSpace, top: number, size = 64 * 1024): FileRange {
  const range = mf.allocate(size);
  as.mapFile(top - size, range, 3);
  return range;
}

function readSymbols(elf: Buffer): Map<string, number> {
  const out = new Map<string, number>();
  const shoff = Number(elf.readBigUInt64LE(40));
  const shentsize = elf.readUInt16LE(58), shnum = elf.readUInt16LE(60);
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    if (elf.readUInt32LE(s + 4) !== 2) continue; // SHT_SYMTAB
    const off = Number(elf.readBigUInt64LE(s + 24)), size = Number(elf.readBigUInt64LE(s + 32));
    const strtab = shoff + elf.readUInt32LE(s + 40) * shentsize;
    const stroff = Number(elf.readBigUInt64LE(strtab + 24));
    for (let p = off; p + 24 <= off + size; p += 24) {
      const nameOff = elf.readUInt32LE(p);
      if (!nameOff) continue;
      const end = elf.indexOf(0, stroff + nameOff);
      out.set(elf.toString('latin1', stroff + nameOff, end), Number(elf.readBigUInt64LE(p + 8)));
    }
  }
  return out;
}
