/**
 * elf parses and validates an x86-64 ELF64 executable's headers (elf(5), the System V
 * x86-64 psABI) before anything is mapped. The file is untrusted: every field that the
 * loader later uses as an offset, a length or an address is checked here, with the errno
 * Linux's binfmt_elf returns for it (ENOEXEC: not an executable we can run; EINVAL: a
 * segment the kernel refuses; EACCES: no loadable segment... see each check).
 *
 * The ELF header (64 bytes), fields used:
 *   0 e_ident[16] (7f 'E' 'L' 'F', class 2, data 1, version 1)  16 e_type u16  18 e_machine u16
 *   20 e_version u32  24 e_entry u64  32 e_phoff u64  54 e_phentsize u16  56 e_phnum u16
 * A program header (56 bytes):
 *   0 p_type u32  4 p_flags u32  8 p_offset u64  16 p_vaddr u64  24 p_paddr u64
 *   32 p_filesz u64  40 p_memsz u64  48 p_align u64
 */
import { Errno, loaderFail, PAGE_SIZE, TASK_SIZE, type ExecFile } from './types';

export const ET_EXEC = 2, ET_DYN = 3;
export const PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;
export const PF_X = 1, PF_W = 2, PF_R = 4;
const EM_X86_64 = 62;
const EHDR_SIZE = 64, PHDR_SIZE = 56;
/** Linux reads at most 64 KiB of program headers (elf_read_phdrs). */
const MAX_PHDRS_BYTES = 65536;
const PATH_MAX = 4096;

/** LoadSegment is one PT_LOAD program header. */
export interface LoadSegment {
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: number;
  /** prot is PROT_READ/WRITE/EXEC derived from p_flags. */
  prot: number;
  align: bigint;
}

/** ElfInfo is what parseElf found: everything the loader needs, validated. */
export interface ElfInfo {
  type: typeof ET_EXEC | typeof ET_DYN;
  entry: bigint;
  phoff: number;
  phentsize: number;
  phnum: number;
  /** loads are the PT_LOAD segments, sorted by vaddr and non-overlapping. */
  loads: LoadSegment[];
  /** interp is the PT_INTERP path, or null for a static executable. */
  interp: string | null;
  /** stackFlags are PT_GNU_STACK's p_flags (PF_R|PF_W when absent, as Linux assumes non-exec). */
  stackFlags: number;
  /** phdrVaddr is the unbiased address of the program headers in the image, or null when no segment maps them. */
  phdrVaddr: bigint | null;
}

function protOf(flags: number): number {
  return (flags & PF_R ? 1 : 0) | (flags & PF_W ? 2 : 0) | (flags & PF_X ? 4 : 0);
}

function u64(b: Buffer, off: number, what: string): number {
  const v = b.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) loaderFail(Errno.ENOEXEC, `elf: ${what} 0x${v.toString(16)} is absurdly large`);
  return Number(v);
}

/** parseElf validates `file`'s ELF and program headers and returns the loadable layout. */
export function parseElf(file: ExecFile): ElfInfo {
  if (file.size < EHDR_SIZE) loaderFail(Errno.ENOEXEC, `elf: file of ${file.size} bytes is shorter than an ELF header`);
  const eh = file.readAt(0, EHDR_SIZE);
  if (eh.readUInt32BE(0) !== 0x7f454c46) loaderFail(Errno.ENOEXEC, 'elf: bad magic');
  if (eh[4] !== 2) loaderFail(Errno.ENOEXEC, `elf: class ${eh[4]} is not ELFCLASS64`);
  if (eh[5] !== 1) loaderFail(Errno.ENOEXEC, `elf: data encoding ${eh[5]} is not little-endian`);
  if (eh[6] !== 1 || eh.readUInt32LE(20) !== 1) loaderFail(Errno.ENOEXEC, 'elf: version is not EV_CURRENT');
  const type = eh.readUInt16LE(16);
  if (type !== ET_EXEC && type !== ET_DYN) loaderFail(Errno.ENOEXEC, `elf: e_type ${type} is neither ET_EXEC nor ET_DYN`);
  const machine = eh.readUInt16LE(18);
  if (machine !== EM_X86_64) loaderFail(Errno.ENOEXEC, `elf: e_machine ${machine} is not x86-64`);
  const entry = eh.readBigUInt64LE(24);
  const phoff = u64(eh, 32, 'e_phoff');
  const phentsize = eh.readUInt16LE(54);
  const phnum = eh.readUInt16LE(56);
  if (phentsize !== PHDR_SIZE) loaderFail(Errno.ENOEXEC, `elf: e_phentsize ${phentsize} is not ${PHDR_SIZE}`);
  if (phnum === 0 || phnum * PHDR_SIZE > MAX_PHDRS_BYTES) loaderFail(Errno.ENOEXEC, `elf: e_phnum ${phnum} out of range`);
  if (phoff % 8 !== 0) loaderFail(Errno.ENOEXEC, `elf: e_phoff ${phoff} is not 8-byte aligned`);
  if (phoff + phnum * PHDR_SIZE > file.size) loaderFail(Errno.ENOEXEC, `elf: program headers at ${phoff} run past the end of the file`);
  const ph = file.readAt(phoff, phnum * PHDR_SIZE);

  const loads: LoadSegment[] = [];
  let interp: string | null = null;
  let stackFlags = PF_R | PF_W;
  for (let i = 0; i < phnum; i++) {
    const p = i * PHDR_SIZE;
    const ptype = ph.readUInt32LE(p);
    const flags = ph.readUInt32LE(p + 4);
    if (ptype === PT_GNU_STACK) stackFlags = flags;
    if (ptype === PT_INTERP && interp === null) interp = readInterp(file, ph, p, i);
    if (ptype !== PT_LOAD) continue;
    const seg: LoadSegment = {
      offset: u64(ph, p + 8, `phdr ${i}: p_offset`),
      vaddr: ph.readBigUInt64LE(p + 16),
      filesz: u64(ph, p + 32, `phdr ${i}: p_filesz`),
      memsz: u64(ph, p + 40, `phdr ${i}: p_memsz`),
      prot: protOf(flags),
      align: ph.readBigUInt64LE(p + 48),
    };
    checkLoad(file, seg, i);
    loads.push(seg);
  }
  if (loads.length === 0) loaderFail(Errno.ENOEXEC, 'elf: no PT_LOAD segment');
  for (let i = 1; i < loads.length; i++) {
    const prev = loads[i - 1], cur = loads[i];
    if (cur.vaddr < prev.vaddr) loaderFail(Errno.ENOEXEC, `elf: PT_LOAD segments not sorted by address (0x${cur.vaddr.toString(16)} after 0x${prev.vaddr.toString(16)})`);
    if (cur.vaddr < prev.vaddr + BigInt(prev.memsz)) loaderFail(Errno.ENOEXEC, `elf: PT_LOAD segments overlap at 0x${cur.vaddr.toString(16)}`);
  }
  const last = loads[loads.length - 1];
  if (type === ET_DYN && last.vaddr + BigInt(last.memsz) - loads[0].vaddr > TASK_SIZE / 2n) {
    loaderFail(Errno.ENOMEM, 'elf: image span exceeds half the address space');
  }
  const entryInImage = entry >= loads[0].vaddr && entry < last.vaddr + BigInt(last.memsz);
  if (!entryInImage) loaderFail(Errno.ENOEXEC, `elf: entry point 0x${entry.toString(16)} is outside every PT_LOAD segment`);

  let phdrVaddr: bigint | null = null;
  const home = loads.find((s) => s.offset <= phoff && phoff + phnum * PHDR_SIZE <= s.offset + s.filesz);
  if (home) phdrVaddr = home.vaddr + BigInt(phoff - home.offset);
  return { type, entry, phoff, phentsize, phnum, loads, interp, stackFlags, phdrVaddr };
}

function checkLoad(file: ExecFile, s: LoadSegment, i: number): void {
  const what = `elf: PT_LOAD ${i} at 0x${s.vaddr.toString(16)}`;
  if (s.filesz > s.memsz) loaderFail(Errno.EINVAL, `${what}: p_filesz ${s.filesz} exceeds p_memsz ${s.memsz}`);
  if (s.offset + s.filesz > file.size) loaderFail(Errno.ENOEXEC, `${what}: file bytes run past the end of the file`);
  if (s.vaddr % BigInt(PAGE_SIZE) !== BigInt(s.offset % PAGE_SIZE)) {
    loaderFail(Errno.EINVAL, `${what}: p_vaddr and p_offset differ modulo the page size`);
  }
  if (s.align > 1n && (s.align & (s.align - 1n)) !== 0n) loaderFail(Errno.ENOEXEC, `${what}: p_align ${s.align} is not a power of two`);
  if (BigInt(s.memsz) > TASK_SIZE || s.vaddr >= TASK_SIZE || TASK_SIZE - BigInt(s.memsz) < s.vaddr) {
    loaderFail(Errno.EINVAL, `${what}: p_memsz ${s.memsz} reaches beyond the user address space`);
  }
}

function readInterp(file: ExecFile, ph: Buffer, p: number, i: number): string {
  const off = u64(ph, p + 8, `phdr ${i}: p_offset`);
  const size = u64(ph, p + 32, `phdr ${i}: p_filesz`);
  if (size < 2 || size > PATH_MAX) loaderFail(Errno.ENOEXEC, `elf: PT_INTERP of ${size} bytes`);
  if (off + size > file.size) loaderFail(Errno.ENOEXEC, 'elf: PT_INTERP runs past the end of the file');
  const b = file.readAt(off, size);
  if (b[size - 1] !== 0) loaderFail(Errno.ENOEXEC, 'elf: PT_INTERP is not NUL-terminated');
  const path = b.subarray(0, size - 1).toString('latin1');
  if (path.includes('\0') || path === '') loaderFail(Errno.ENOEXEC, 'elf: PT_INTERP contains a NUL byte or is empty');
  return path;
}
