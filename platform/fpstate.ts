/**
 * fpstate holds a task's floating-point and extended register state (x87, SSE, AVX...:
 * the XSAVE image, as PTRACE_GETREGSET NT_X86_XSTATE exchanges it), saved and restored
 * lazily.
 *
 * Invariant: at any moment a task's FP state lives either in `data` or, while `holder` is
 * set, in the host thread that last ran the task (then `data` may be stale). A platform
 * loads `data` into a thread only when a different state was last loaded there or `data`
 * was modified, and fetches it back only when someone reads it or the thread is needed
 * for another task. So a task that runs alone on its stub thread never copies FP state.
 */

/** FpHolder is a platform thread that may hold an FpState's live contents. */
export interface FpHolder {
  /** saveFp copies the live state of `fp` from the thread into fp.data. */
  saveFp(fp: FpState): void;
  /** forgetFp drops the thread's claim on `fp` (its contents changed in data). */
  forgetFp(fp: FpState): void;
}

/** FpState is one task's FP/extended state; create it with Platform.newFpState(). */
export class FpState {
  /** holder is the thread holding the live state, if any (platform use only). */
  holder: FpHolder | null = null;

  /** data must be a valid XSAVE image (start from Platform.newFpState, not zeros). */
  constructor(readonly data: Buffer) {}

  /** read returns the current image, fetching it from the thread that holds it. */
  read(): Buffer {
    this.holder?.saveFp(this);
    return this.data;
  }

  /** write replaces the image (e.g. from a signal frame on rt_sigreturn). */
  write(image: Uint8Array): void {
    if (image.length !== this.data.length) throw new RangeError(`fp state: image of ${image.length} bytes, want ${this.data.length}`);
    this.data.set(image);
    this.holder?.forgetFp(this);
    this.holder = null;
  }

  /** clone returns an independent copy (fork). */
  clone(): FpState {
    return new FpState(Buffer.from(this.read()));
  }
}

/**
 * makeRoomFor prepares thread `to`, which last loaded `loaded`, to load `fp`: the state
 * the load will overwrite is saved into its image first, and `fp`'s live contents are
 * fetched from another thread that holds them. The caller then loads fp.data.
 */
export function makeRoomFor(to: FpHolder, loaded: FpState | null, fp: FpState): void {
  if (loaded && loaded.holder === to) {
    to.saveFp(loaded);
    loaded.holder = null;
  }
  if (fp.holder && fp.holder !== to) {
    fp.holder.saveFp(fp);
    fp.holder = null;
  }
}
