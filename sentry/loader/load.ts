/**
 * load maps a validated ELF image into a LoaderMemory: after Linux's load_elf_binary.
 * A segment's pages holding file bytes are mapped from the file copy-on-write when the
 * memory can (LoaderMemory.mapFile; every process running a program shares them until
 * written), and written (copied) otherwise, or when the segment shares a page with
 * another (each segment's bytes must land there, as below).
 *
 * - Each PT_LOAD covers pages [pageDown(vaddr), pageUp(vaddr+memsz)) with its own prot.
 *   A page shared by two segments takes the later segment's prot, as Linux's successive
 *   MAP_FIXED mappings give it. Gaps between segments stay unmapped.
 * - File bytes [offset, offset+filesz) go to vaddr; the rest up to memsz (the bss,
 *   including the partial page after filesz) is zero: mapAnonymous zero-fills, and the
 *   loader writes zeros over [vaddr+filesz, pageUp) explicitly so that this holds even for
 *   a page that an earlier segment already wrote (to the page's end for a segment mapped
 *   from the file, as Linux's padzero).
 * - ET_EXEC loads at its link addresses (bias 0). ET_DYN (PIE, static-PIE, ld.so) gets
 *   a bias from findFree(span, hint): hint is opts.hint, else DEFAULT_PIE_BASE (Linux's
 *   ELF_ET_DYN_BASE with ASLR off), moved up by a page-granular random offset when
 *   opts.random is given; the bias honours the largest power-of-two p_align.
 *
 * An executable with PT_INTERP: loadExecutable loads it, opens the interpreter through a
 * callback, loads that at a findFree address (DEFAULT_INTERP_BASE), and returns the
 * interpreter's entry with AT_BASE = the interpreter's bias (auxvFor builds the entries).
 */
import { parseElf, ET_DYN, type ElfInfo } from './elf';
import { ELIBBAD, Errno, LoaderError, loaderFail, pageDown, pageUp, PAGE_SIZE, TASK_SIZE, type ExecFile, type LoaderMemory } from './types';

/** DEFAULT_PIE_BASE is where a PIE loads without randomization (Linux's 2/3 of TASK_SIZE, page aligned). */
export const DEFAULT_PIE_BASE = 0x555555554000n;
/** DEFAULT_INTERP_BASE is the hint for the interpreter (below Linux's mmap base with ASLR off). */
export const DEFAULT_INTERP_BASE = 0x7ffff7a00000n;
/** MIN_MAP_ADDRESS is the lowest address an image may use (Linux's default vm.mmap_min_addr). */
export const MIN_MAP_ADDRESS = 0x10000n;
/** RANDOM_BITS is how many bits of page offset randomize a PIE's base (Linux's mmap_rnd_bits default). */
export const RANDOM_BITS = 28;

/** LoadOptions tunes loadElf. */
export interface LoadOptions {
  /** hint is where an ET_DYN image should go (default DEFAULT_PIE_BASE). */
  hint?: bigint;
  /** random returns n random bytes; when set, an ET_DYN base is randomized. */
  random?: (n: number) => Buffer;
  /**
   * interpHint is where the interpreter goes (default DEFAULT_INTERP_BASE, moved by
   * `random`); given, it is used as is: exec passes the mmap base, so that the interpreter
   * goes top-down below it as Linux maps it (randomized with the base).
   */
  interpHint?: bigint;
}

/** LoadedElf is one image in memory. */
export interface LoadedElf {
  info: ElfInfo;
  /** bias is added to every p_vaddr (0 for ET_EXEC). */
  bias: bigint;
  entry: bigint;
  /** phdr is the program headers' address in memory (AT_PHDR), 0 if no segment maps them. */
  phdr: bigint;
  phent: number;
  phnum: number;
  /** brkStart is the page-aligned end of the highest segment (the initial program break). */
  brkStart: bigint;
  /** interp is the PT_INTERP path, or null. */
  interp: string | null;
  /** layout is where its code and data went, as Linux records them for /proc (codeLayout). */
  layout: CodeLayout;
}

/**
 * CodeLayout is Linux's start_code, end_code, start_data and end_data of an image, in
 * memory: the lowest p_vaddr of an executable segment and the highest p_vaddr + p_filesz
 * of one; the highest p_vaddr of any segment and the highest p_vaddr + p_filesz of any
 * (load_elf_binary's loop; not page-aligned). Without an executable segment start_code
 * stays ~0 plus the bias, as Linux's does.
 */
export interface CodeLayout {
  startCode: bigint;
  endCode: bigint;
  startData: bigint;
  endData: bigint;
}

/** codeLayout computes an image's CodeLayout at `bias`. */
export function codeLayout(info: ElfInfo, bias: bigint): CodeLayout {
  let startCode = (1n << 64n) - 1n, endCode = 0n, startData = 0n, endData = 0n;
  for (const s of info.loads) {
    const end = s.vaddr + BigInt(s.filesz);
    if (s.prot & PROT_EXEC_BIT && s.vaddr < startCode) startCode = s.vaddr;
    if (s.prot & PROT_EXEC_BIT && end > endCode) endCode = end;
    if (s.vaddr > startData) startData = s.vaddr;
    if (end > endData) endData = end;
  }
  const at = (a: bigint) => BigInt.asUintN(64, a + bias);
  return { startCode: at(startCode), endCode: at(endCode), startData: at(startData), endData: at(endData) };
}

/** PROT_EXEC_BIT is PROT_EXEC, as ElfInfo's prot carries PF_X. */
const PROT_EXEC_BIT = 4;

/** loadElf parses `file` and maps its PT_LOAD segments into `mem`. */
export function loadElf(file: ExecFile, mem: LoaderMemory, opts: LoadOptions = {}): LoadedElf {
  const info = parseElf(file);
  const first = info.loads[0], last = info.loads[info.loads.length - 1];
  const lo = pageDown(first.vaddr);
  const hi = pageUp(last.vaddr + BigInt(last.memsz));
  let bias = 0n;
  if (info.type === ET_DYN) bias = chooseBias(mem, lo, hi, info, opts);
  if (lo + bias < MIN_MAP_ADDRESS) loaderFail(Errno.EPERM, `elf: segment at 0x${(lo + bias).toString(16)} is below the minimum map address`);
  if (hi + bias > TASK_SIZE) loaderFail(Errno.ENOMEM, 'elf: image does not fit below the top of the address space');

  // Page runs per segment, trimmed where a later segment takes over a shared page.
  const runs = info.loads.map((s) => ({ start: pageDown(s.vaddr), end: pageUp(s.vaddr + BigInt(s.memsz)), prot: s.prot, offset: s.offset - (s.offset % PAGE_SIZE) }));
  for (let i = 1; i < runs.length; i++) if (runs[i].start < runs[i - 1].end) runs[i - 1].end = runs[i].start;
  const mapped = info.loads.map((s, i) => {
    const r = runs[i];
    if (r.end <= r.start) return false;
    // Mapped from the file: its pages with file bytes, when no other segment shares a page of it.
    const fileEnd = pageUp(s.vaddr + BigInt(s.filesz));
    const alone = r.end === pageUp(s.vaddr + BigInt(s.memsz)) && (i === 0 || pageUp(info.loads[i - 1].vaddr + BigInt(info.loads[i - 1].memsz)) <= r.start);
    if (s.filesz > 0 && alone && mem.mapFile?.(r.start + bias, Number(fileEnd - r.start), r.prot, file, r.offset)) {
      if (r.end > fileEnd) mem.mapAnonymous(fileEnd + bias, Number(r.end - fileEnd), r.prot, file.path, r.offset + Number(fileEnd - r.start));
      return true;
    }
    mem.mapAnonymous(r.start + bias, Number(r.end - r.start), r.prot, file.path, r.offset);
    return false;
  });

  for (const [i, s] of info.loads.entries()) {
    const at = s.vaddr + bias;
    if (s.filesz > 0 && !mapped[i]) mem.write(at, file.readAt(s.offset, s.filesz));
    const bssStart = at + BigInt(s.filesz);
    // A segment mapped from the file with a bss gets the rest of its last file page zeroed,
    // as Linux's padzero does (ld.so's early malloc takes that rest as zeroed memory); a
    // copied segment's pages are zero there already but where another segment shares them.
    const zeroEnd = mapped[i] && s.memsz > s.filesz ? pageUp(bssStart) : minBig(pageUp(bssStart), at + BigInt(s.memsz));
    if (zeroEnd > bssStart) mem.write(bssStart, Buffer.alloc(Number(zeroEnd - bssStart)));
  }
  return {
    info,
    bias,
    entry: info.entry + bias,
    phdr: info.phdrVaddr === null ? 0n : info.phdrVaddr + bias,
    phent: info.phentsize,
    phnum: info.phnum,
    brkStart: hi + bias,
    interp: info.interp,
    layout: codeLayout(info, bias),
  };
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function chooseBias(mem: LoaderMemory, lo: bigint, hi: bigint, info: ElfInfo, opts: LoadOptions): bigint {
  let hint = opts.hint ?? DEFAULT_PIE_BASE;
  if (opts.random) {
    const r = opts.random(8);
    if (r.length < 8) loaderFail(Errno.EINVAL, 'elf: random source returned too few bytes');
    hint += BigInt.asUintN(RANDOM_BITS, r.readBigUInt64LE(0)) * BigInt(PAGE_SIZE);
  }
  // Honour the largest segment alignment (a power of two, checked by parseElf), at most 1 GiB.
  let align = BigInt(PAGE_SIZE);
  for (const s of info.loads) if (s.align > align && s.align <= 1n << 30n) align = s.align;
  const span = hi - lo;
  if (span > TASK_SIZE) loaderFail(Errno.ENOMEM, 'elf: image span too large');
  const extra = align - BigInt(PAGE_SIZE);
  const base = mem.findFree(Number(span + extra), (hint + align - 1n) & ~(align - 1n));
  const aligned = (base + align - 1n) & ~(align - 1n);
  if (aligned % BigInt(PAGE_SIZE) !== 0n) loaderFail(Errno.ENOMEM, 'elf: findFree returned an unaligned address');
  return aligned - lo;
}

/** LoadedExecutable is an executable and its interpreter in memory, ready for the initial stack. */
export interface LoadedExecutable {
  /** entry is where the task starts: the interpreter's entry, or the executable's. */
  entry: bigint;
  /** execEntry is the executable's own entry (AT_ENTRY). */
  execEntry: bigint;
  phdr: bigint;
  phent: number;
  phnum: number;
  /** base is the interpreter's load bias (AT_BASE), 0 without one. */
  base: bigint;
  brkStart: bigint;
  /** stackExecutable is true when PT_GNU_STACK asks for an executable stack. */
  stackExecutable: boolean;
  interp: string | null;
  /** layout is the executable's (not its interpreter's) code and data, for /proc. */
  layout: CodeLayout;
}

/**
 * loadExecutable loads `file` and, if it names an interpreter, the interpreter that
 * `openInterpreter(path)` returns (an ET_DYN or ET_EXEC file; its own PT_INTERP is ignored,
 * as Linux does). Errors opening the interpreter propagate unchanged.
 */
export function loadExecutable(
  file: ExecFile, mem: LoaderMemory, openInterpreter: (path: string) => ExecFile, opts: LoadOptions = {},
): LoadedExecutable {
  const exe = loadElf(file, mem, opts);
  const out: LoadedExecutable = {
    entry: exe.entry, execEntry: exe.entry, phdr: exe.phdr, phent: exe.phent, phnum: exe.phnum, base: 0n,
    brkStart: exe.brkStart, stackExecutable: (exe.info.stackFlags & 1) !== 0, interp: exe.interp, layout: exe.layout,
  };
  if (exe.interp === null) return out;
  let interp: LoadedElf;
  try {
    interp = loadElf(openInterpreter(exe.interp), mem, opts.interpHint !== undefined ? { hint: opts.interpHint } : { hint: DEFAULT_INTERP_BASE, random: opts.random });
  } catch (e) {
    if (e instanceof LoaderError && e.errno === Errno.ENOEXEC) throw new LoaderError(ELIBBAD, `interpreter "${exe.interp}": ${e.message}`, { cause: e });
    throw e;
  }
  out.entry = interp.entry;
  out.base = interp.bias;
  return out;
}
