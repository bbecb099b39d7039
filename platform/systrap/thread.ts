/**
 * thread is one application thread of a systrap stub process: a host thread that runs
 * application code untraced, and its block (header + alternate signal stack) shared
 * with the sentry. Between two switches the thread waits in its signal handler and the
 * block holds its signal frame: general registers (read and written by the addon) and
 * the XSAVE image the kernel saved, which is the task's live FP state (see ../fpstate.ts).
 *
 * The frame is writable by the application's other threads: every offset read from the
 * block is checked against the block before use, and a bad one leaves the state alone
 * (the next switch finds the frame broken and ends the process).
 */
import type { FileRange } from '../platform';
import { makeRoomFor, type FpHolder, type FpState } from '../fpstate';
import { BLK_ALTSTACK, BLK_UCONTEXT, BLOCK_SIZE, UC_FPSTATE, UC_SIZE } from './layout';

/** SW_RESERVED is the XSAVE image's software area (bytes 464..511), the kernel's own in a frame. */
const SW_RESERVED_START = 464, SW_RESERVED_END = 512;

/** SystrapThread is a stub thread running one application thread at a time. */
export class SystrapThread implements FpHolder {
  /** born is set once the thread's first event (its birth int3) has been seen. */
  born = false;
  /** dead is set once the thread exited or its process was killed. */
  dead = false;
  /** loadedFp is the FpState last loaded into (or saved from) this thread. */
  loadedFp: FpState | null = null;
  /** pin is the addon's placement state of the host thread: [the CPU it was last pinned to, or -1]. */
  readonly pin = Int32Array.of(-1);

  constructor(
    readonly pid: number,
    readonly tid: number,
    readonly slot: number,
    readonly range: FileRange,
    /** view is the sentry's mapping of the block (part of the memory file's). */
    readonly view: Buffer,
    /** stubAddress is the block's address in the stub process. */
    readonly stubAddress: number,
  ) {}

  /** saveFp copies the XSAVE image of the thread's frame into fp.data. */
  saveFp(fp: FpState): void {
    const at = this.fpOffset(fp.data.length);
    if (at !== undefined) this.view.copy(fp.data, 0, at, at + fp.data.length);
  }

  /** forgetFp drops fp if it is the one loaded here. */
  forgetFp(fp: FpState): void {
    if (this.loadedFp === fp) this.loadedFp = null;
  }

  /** loadFp makes `fp` the thread's FP state (saving what it held first); no-op when it holds fp. */
  loadFp(fp: FpState): void {
    if (this.loadedFp === fp && fp.holder === this) return;
    makeRoomFor(this, this.loadedFp, fp);
    const at = this.fpOffset(fp.data.length);
    if (at !== undefined) {
      // The software area stays the frame's: rt_sigreturn reads the image's layout from it.
      fp.data.copy(this.view, at, 0, SW_RESERVED_START);
      fp.data.copy(this.view, at + SW_RESERVED_END, SW_RESERVED_END);
    }
    fp.holder = this;
    this.loadedFp = fp;
  }

  /** fpOffset is the block offset of the frame's XSAVE image of `length` bytes, if the frame is sound. */
  private fpOffset(length: number): number | undefined {
    const uc = Number(this.view.readBigUInt64LE(BLK_UCONTEXT)) - this.stubAddress;
    if (!(uc >= BLK_ALTSTACK && uc + UC_SIZE <= BLOCK_SIZE)) return undefined;
    const fp = Number(this.view.readBigUInt64LE(uc + UC_FPSTATE)) - this.stubAddress;
    if (!(fp >= BLK_ALTSTACK && fp + length <= BLOCK_SIZE)) return undefined;
    return fp;
  }
}
