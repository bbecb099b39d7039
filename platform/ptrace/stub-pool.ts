/**
 * stub-pool keeps the stub processes of released ptrace address spaces for reuse, so that
 * a fork or an exec takes a live stub instead of starting a process and killing another.
 *
 * Why: on these machines a process is dear to make and to end (a tiny static program's
 * fork 260 us, its exit and reaping 550 us, measured natively at load 4-5), and a stub
 * costs more (clone, exec, its prologue: about 1 ms; started ahead as a spare, its start
 * still competes with the sentry for the two CPUs: the first injected call into a stub
 * just finished took 460 us instead of 40). A fork+wait loop under tvisor made and ended
 * one stub per iteration; with the pool it makes none once warm.
 *
 * What a stub keeps between two users, and why none of it reaches the next one:
 * - its mappings of the memory file in [MIN_USER_ADDRESS, STUB_BASE): all unmapped by one
 *   munmap started as it enters the pool, whose end the next user waits for before its
 *   first injected call or the first run of any of its threads (PtraceAddressSpace's
 *   resetPending, checked by every injection and every switch); the memory file's pages
 *   themselves are the sentry's to free or reuse meanwhile, and no application code runs
 *   in an idle stub;
 * - its threads: the control thread, and the threads the exiting contexts left to it
 *   (AddressSpace.closing), each stopped under ptrace; a switch sets every general
 *   register, and the FP state the last task left there is saved into that task's image
 *   and replaced by the next task's (or the initial one) before the thread runs again;
 * - its title page and names (host-visible only: the next user sets its own);
 * - its CPU clock, which the next user's accounting starts from (cpuSeenNs).
 * A stub seen dead, shared with a worker, or holding threads no context left is not
 * kept: it is killed as before.
 *
 * Order (StubPlatform.newAddressSpace): the oldest idle stub whose reset has ended, else a
 * spare past its exec, else the oldest idle stub (its reset waited for), else a spare,
 * else a new stub.
 *
 * Bound and eviction: at most IDLE_MAX idle stubs per platform (a burst of exits beyond
 * that kills the excess, as release always did); the platform's release kills them all.
 * Owned by the JavaScript thread that traces the stubs (the platform's).
 */
import type { StubThread } from './stub-thread';

/** IDLE_MAX bounds the idle stubs a pool keeps. */
export const IDLE_MAX = 4;

/** IdleStub is a released address space's stub process, stopped, kept for reuse. */
export interface IdleStub {
  pid: number;
  /** control is its control thread (the process's leader). */
  control: StubThread;
  /** threads are the other threads the exiting contexts left, each stopped and reusable. */
  threads: StubThread[];
  /** titled says whether its title page is mapped (title.ts). */
  titled: boolean;
  /** resetResult is the result of its reset (the munmap started as it entered the pool), once seen ended. */
  resetResult?: number;
}

/**
 * StubPool holds idle stubs. take() gives the oldest whose reset has ended (`ended` looks
 * without waiting), so that the one released last, whose munmap likely runs still, has
 * the most time left; with none ended, the oldest (takeOldest).
 */
export class StubPool {
  private readonly idle: IdleStub[] = [];
  private closed = false;

  /** hasRoom says whether put would keep a stub now. */
  get hasRoom(): boolean {
    return !this.closed && this.idle.length < IDLE_MAX;
  }

  /** put keeps `stub` and returns true, or returns false when the pool is full or closed (the caller kills it). */
  put(stub: IdleStub): boolean {
    if (this.closed || this.idle.length >= IDLE_MAX) return false;
    this.idle.push(stub);
    return true;
  }

  /** take returns the oldest idle stub for which `ended` says its reset has ended, if any. */
  take(ended: (stub: IdleStub) => boolean): IdleStub | undefined {
    const i = this.idle.findIndex(ended);
    return i < 0 ? undefined : this.idle.splice(i, 1)[0];
  }

  /** takeOldest returns the oldest idle stub, if any, its reset ended or not. */
  takeOldest(): IdleStub | undefined {
    return this.idle.shift();
  }

  /** count is the number of idle stubs for which `pred` holds. */
  count(pred: (stub: IdleStub) => boolean): number {
    return this.idle.filter(pred).length;
  }

  /** size is the number of idle stubs. */
  get size(): number {
    return this.idle.length;
  }

  /** close empties the pool for good and returns what it held (to be killed and reaped). */
  close(): IdleStub[] {
    this.closed = true;
    return this.idle.splice(0);
  }
}
