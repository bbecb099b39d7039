/**
 * aslr chooses a new image's address-space layout at exec, as Linux's x86-64 does with
 * randomize_va_space=2 (the default), unless the persona has ADDR_NO_RANDOMIZE
 * (personality(2), `setarch -R`):
 *
 * - stack top: the top of the address space less a random page count below 16 GiB
 *   (randomize_stack_top, STACK_RND_MASK 0x3fffff pages);
 * - mmap base: below the top by the gap (RLIMIT_STACK, plus the stack guard gap and the
 *   stack's largest random offset, within [128 MiB, 5/6 of the space]; mmap_base()) and
 *   by a random page count of mmap_rnd_bits = 28 bits (arch_mmap_rnd): up to 1 TiB. The
 *   interpreter, the vDSO and every mmap without a hint go top-down from there;
 * - brk start: the end of the executable plus a random page count below 32 MiB
 *   (arch_randomize_brk);
 * - the initial stack pointer: a random byte count below 8 KiB under the argument and
 *   environment strings (arch_align_stack);
 * - a PIE's base: ELF_ET_DYN_BASE plus 28 random bits of pages (load.ts).
 *
 * Without randomization the stack top is the top, the mmap base the top less the gap,
 * brk the end of the binary and a PIE loads at DEFAULT_PIE_BASE: every run alike.
 */
import { PAGE_SIZE } from './types';

/** ADDR_NO_RANDOMIZE is personality(2)'s flag that turns address randomization off. */
export const ADDR_NO_RANDOMIZE = 0x0040000;
/** STACK_RND_PAGES bounds the stack top's random offset (16 GiB of pages). */
export const STACK_RND_PAGES = 0x400000;
/** MMAP_RND_BITS is Linux's default mmap_rnd_bits on x86-64. */
export const MMAP_RND_BITS = 28;
/** SP_RND_BYTES bounds the initial stack pointer's random offset below the strings (arch_align_stack). */
export const SP_RND_BYTES = 8192;
/** BRK_RND_BYTES bounds the random offset of the program break (32 MiB). */
export const BRK_RND_BYTES = 0x2000000;
const MIN_GAP = 128 * 1024 * 1024;
const STACK_GUARD_GAP = 256 * PAGE_SIZE;

/** Layout is where a new image's stack, mmap area and break go. */
export interface Layout {
  /** stackTop is the initial stack's top (page aligned). */
  stackTop: number;
  /** mmapBase is the top of the mmap area (page aligned). */
  mmapBase: number;
  /** brkOffset is added to the end of the executable to make the initial break (a page multiple). */
  brkOffset: number;
  /** spOffset moves the initial stack pointer down below the strings (bytes, < SP_RND_BYTES). */
  spOffset: number;
}

function randomPages(random: (n: number) => Buffer, pages: number): number {
  return Number(random(8).readBigUInt64LE(0) % BigInt(pages));
}

/**
 * chooseLayout returns the layout below `top` (one past the highest user address) for a
 * stack limit `stackLimit` (bytes; Infinity when unlimited); `random` is null when
 * randomization is off.
 */
export function chooseLayout(top: number, stackLimit: number, random: ((n: number) => Buffer) | null): Layout {
  const stackRnd = random ? randomPages(random, STACK_RND_PAGES) * PAGE_SIZE : 0;
  const pad = STACK_GUARD_GAP + (random ? STACK_RND_PAGES * PAGE_SIZE : 0);
  const maxGap = Math.floor(top / 6) * 5;
  const gap = Math.min(Math.max(Math.min(stackLimit, maxGap) + pad, MIN_GAP), maxGap);
  const mmapRnd = random ? randomPages(random, 2 ** MMAP_RND_BITS) * PAGE_SIZE : 0;
  const pageDown = (n: number) => n - (n % PAGE_SIZE);
  return {
    stackTop: pageDown(top) - stackRnd,
    mmapBase: pageDown(top - gap - mmapRnd),
    brkOffset: random ? randomPages(random, BRK_RND_BYTES / PAGE_SIZE) * PAGE_SIZE : 0,
    spOffset: random ? Number(random(4).readUInt32LE(0) % SP_RND_BYTES) : 0,
  };
}
