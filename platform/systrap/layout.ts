/**
 * layout mirrors native/systrap/layout.h: where the systrap stub keeps its per-thread
 * blocks and what a block's header holds (the stub's code region is the ptrace stub's,
 * platform/ptrace/stub-layout.ts).
 */
import { STUB_BASE } from '../ptrace/stub-layout';

/** BLOCKS is the stub address of block slot 0; slot i is at BLOCKS + i * BLOCK_SIZE. */
export const BLOCKS = STUB_BASE + 0x100000;
/** BLOCK_SIZE is one thread's block: header, then its alternate signal stack. */
export const BLOCK_SIZE = 0x8000;
/** STUB_TOP is the end of the stub's range (x86-64 TASK_SIZE with 4-level paging). */
export const STUB_TOP = 0x7ffffffff000;
/** BLOCK_SLOTS is how many threads one stub process can hold. */
export const BLOCK_SLOTS = Math.floor((STUB_TOP - BLOCKS) / BLOCK_SIZE);
/** FPROG_B is the stub address of the per-thread filter's struct sock_fprog. */
export const FPROG_B = STUB_BASE + 0x700 - 16;
/** Header offsets: the ucontext pointer and the sigaltstack argument. */
export const BLK_UCONTEXT = 16, BLK_SIGALTSTACK = 64, BLK_ALTSTACK = 0x1000;
/** BLK_STUB_SPIN: the u64 TSC ticks the stub spins for an answer, which the sentry sets at each resume (addon.cc). */
export const BLK_STUB_SPIN = 48;
/**
 * Hosts without FSGSBASE: BLK_NO_FSGSBASE (u32) tells the stub to keep the thread's fs
 * and gs bases in BLK_FS_LOADED and BLK_GS_LOADED (u64 each) and load a changed one with
 * arch_prctl instead of rdfsbase/wrfsbase (native/systrap/stub.S).
 */
export const BLK_FS_LOADED = 96, BLK_GS_LOADED = 104, BLK_NO_FSGSBASE = 112;
/** Offsets in the kernel's struct ucontext: uc_mcontext.fpstate, and the size of it all. */
export const UC_FPSTATE = 40 + 184, UC_SIZE = 304;
