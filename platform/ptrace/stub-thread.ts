/**
 * stub-thread is one host thread of a stub process, traced by the JavaScript thread that
 * holds this object. It runs one application thread at a time and may hold the live FP
 * state of the task it last ran (see ../fpstate.ts).
 */
import * as native from '../../native/ptrace/ptrace-native';
import { makeRoomFor, type FpHolder, type FpState } from '../fpstate';

/** StubThread is a traced thread of a stub process. */
export class StubThread implements FpHolder {
  /** state is [last pinned CPU, pinning disabled] for the addon's switch. */
  readonly state = new Int32Array([-1, 0]);
  /** loadedFp is the FpState last loaded into (or saved from) this thread. */
  loadedFp: FpState | null = null;
  /** dead is set once the thread has been seen to exit (it is then reaped). */
  dead = false;
  /** name is the name the sentry last gave this thread (title.ts), when it knows it. */
  name: string | undefined;
  /** freshFp, set on a thread reused from another process (stub-pool.ts), is the image it must load before it runs unless a task's FP state is loaded instead. */
  private freshFp: Buffer | null = null;

  constructor(readonly pid: number, readonly tid: number) {}

  /** saveFp copies the thread's live FP state into fp.data. */
  saveFp(fp: FpState): void {
    if (this.dead) throw new Error(`stub thread ${this.tid}: exited, its fp state is lost`);
    native.getFpState(this.tid, fp.data);
  }

  /** forgetFp drops fp if it is the one loaded here. */
  forgetFp(fp: FpState): void {
    if (this.loadedFp === fp) this.loadedFp = null;
  }

  /**
   * fpToLoad returns the image to load before running `fp` here, or null when this
   * thread already holds it. It first saves whatever state the switch will overwrite.
   */
  fpToLoad(fp: FpState): Buffer | null {
    this.freshFp = null;
    if (this.loadedFp === fp && fp.holder === this) return null;
    makeRoomFor(this, this.loadedFp, fp);
    return fp.data;
  }

  /** takeFreshFp returns the image a reused thread must load when a switch brings no FP state (once), else null. */
  takeFreshFp(): Buffer | null {
    const fp = this.freshFp;
    this.freshFp = null;
    return fp;
  }

  /**
   * detachFp saves the live FP state this thread holds into its task's image, so that the
   * thread can go to another process (stub-pool.ts) without taking that state along.
   */
  detachFp(): void {
    const fp = this.loadedFp;
    if (fp?.holder === this) {
      this.saveFp(fp);
      fp.holder = null;
    }
    this.loadedFp = null;
  }

  /**
   * reuse readies a thread kept from an earlier process for a new one's tasks: it loads
   * `initialFp` before it runs unless a task's FP state is loaded, its pinning is on
   * again (a context may turn it off) and its name is unknown.
   */
  reuse(initialFp: Buffer | undefined): void {
    this.detachFp();
    this.freshFp = initialFp ?? null;
    this.state[1] = 0;
    this.name = undefined;
  }

  /** dispose ends and reaps the thread (only this thread, not its process). */
  dispose(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.loadedFp?.holder === this) this.loadedFp.holder = null;
    try {
      native.exitThread(this.tid);
    } catch {
      // Already gone (the process was killed): reap it below.
    }
    try {
      native.waitThread(this.tid, true);
    } catch {
      // ECHILD: exitThread reaped it already.
    }
  }
}
