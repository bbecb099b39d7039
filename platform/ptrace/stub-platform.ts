/**
 * stub-platform.ts is what the two backends whose application threads live in stub
 * processes started and set up under ptrace (ptrace, systrap) share: the address range
 * below the stub, the set of live address spaces released with the platform, the initial
 * FP state read once from a control thread that never ran application code, and the
 * tracer's CPU clock, and the spare stub. A backend says how it makes an address space
 * and a context.
 *
 * The spare stub: a new address space (fork, exec) used to wait for its stub's whole
 * start (clone, the child's set-up and exec, two stops to STUB_READY: 265-312 us of a
 * fork at load 5-6). Once a sandbox has made its second address space (it forks or execs
 * again: more are likely), every address space made starts the next stub's child at once
 * (a clone, without waiting: PtraceAddressSpace.start), which sets itself up and execs on
 * another CPU while the sentry goes on; the next newAddressSpace finishes that one instead
 * of starting from nothing. Its two stops (the exec stop, then STUB_READY after its own
 * start-up) were most of a spawn's time even so (exec 3 us, ready 339 us, medians at load
 * 4.3), so the first is taken early where that costs a look (a waitpid with WNOHANG):
 * after each stop of a task while the spare is not past it (the scheduler asks,
 * Platform.pendingWork: the forked child's first faults, typically), when an address
 * space is released (an exit, an exec), and at the event loop's next turn. A platform holds at most one spare, and none is started for an address space made over a stub
 * its backend kept (reuseSpace: the ptrace pool); release()
 * kills and reaps it. The sentry's scheduler runs tasks back to back while any is runnable
 * (a fork+wait loop never leaves it idle), so the start is not put off to an idle turn of
 * the event loop: it is one clone, the exec it used to wait for is what moves off the path.
 */
import { FpState } from '../fpstate';
import type { MemoryFile } from '../memfile/memory-file';
import type { AddressSpace, Context, Platform } from '../platform';
import * as native from '../../native/ptrace/ptrace-native';
import { PtraceAddressSpace, reapAllStubs } from './address-space';
import { PHASES, phaseAdd, phaseCount } from '../../native/phases';
import { MIN_USER_ADDRESS, STUB_BASE } from './stub-layout';

/** XSTATE_PROBE_SIZE bounds the xsave image (AMX tiles included). */
const XSTATE_PROBE_SIZE = 16384;

/** StubAddressSpace is an address space a stub platform tracks until its release. */
export interface StubAddressSpace extends AddressSpace {
  /** onRelease is called once by release() (the platform forgets the address space). */
  onRelease: (() => void) | undefined;
}

/** StubPlatform is the shared part of the ptrace and systrap backends. */
export abstract class StubPlatform<AS extends StubAddressSpace, C extends Context> implements Platform {
  abstract readonly name: string;
  readonly minUserAddress = MIN_USER_ADDRESS;
  readonly maxUserAddress = STUB_BASE;
  private readonly spaces = new Set<AS>();
  protected initialFp: Buffer | undefined;
  /** spare is a stub started ahead of need (its pid), not finished yet. */
  private spare: number | undefined;
  private spareAdvanced: number | undefined;
  private made = 0;
  private released = false;

  constructor(readonly memoryFile: MemoryFile) {}

  /** stubName is the binary the backend's stubs run. */
  protected abstract readonly stubName: native.StubName;
  /** spawnSpace starts a new address space (its stub process), finishing stub `started` (a spare) when given. */
  protected abstract spawnSpace(started?: number): AS;
  /**
   * reuseSpace returns an address space over a stub a released one left, where the
   * backend keeps them (ptrace: stub-pool.ts); with `endedOnly`, only one whose reset
   * has ended (no wait).
   */
  protected reuseSpace(endedOnly: boolean): AS | undefined {
    void endedOnly;
    return undefined;
  }
  /** keptStubs is the number of stubs the backend keeps for reuseSpace (none but ptrace's pool). */
  protected get keptStubs(): number {
    return 0;
  }
  /** controlTid is the traced thread of `as` that never runs application code. */
  protected abstract controlTid(as: AS): number;
  abstract newContext(): C;

  newAddressSpace(): AS {
    const t0 = PHASES.on ? performance.now() : 0;
    // A kept stub ready now, else a spare past its exec, else a kept stub still being
    // emptied (waited for), else a spare, else a new stub.
    let as: AS | undefined = this.reuseSpace(true);
    if (!as && !(this.spare !== undefined && this.spareAdvanced === this.spare)) as = this.reuseSpace(false);
    const reused = as !== undefined;
    if (reused) phaseCount('stubs:reused');
    const spare = reused ? undefined : this.spare;
    if (!reused) this.spare = undefined;
    if (spare !== undefined) {
      try {
        as = this.spawnSpace(spare);
        phaseCount('stubs:spare');
      } catch {
        // The spare failed (killed from outside, say): a fresh stub reports its own failure.
      }
    }
    as ??= this.spawnSpace();
    if (!reused) phaseCount('stubs:spawned');
    const t1 = PHASES.on ? performance.now() : 0;
    // A reused stub, or one kept for the next, means exits keep the pool fed: no spare is
    // started then (a spare taken joins the stubs going round, two in a fork+wait loop).
    if (++this.made >= 2 && !reused && this.keptStubs === 0) this.startSpare();
    if (PHASES.on) {
      phaseAdd('stubs:spawn', t1 - t0);
      phaseAdd('stubs:start-spare', performance.now() - t1);
    }
    if (!this.initialFp) {
      // The control thread never ran application code: its FP state is the initial one.
      const probe = Buffer.alloc(XSTATE_PROBE_SIZE);
      const n = native.getFpState(this.controlTid(as), probe);
      this.initialFp = Buffer.from(probe.subarray(0, n));
    }
    this.spaces.add(as);
    as.onRelease = () => {
      this.spaces.delete(as);
      this.advanceSpare(); // an exit or an exec: the spare's child has likely exec'd by now
    };
    return as;
  }

  tracerCpuNs(): number {
    return native.threadCpuNs();
  }

  newFpState(): FpState {
    if (!this.initialFp) this.newAddressSpace().release();
    return new FpState(Buffer.from(this.initialFp!));
  }

  /** hasSpare says whether a stub is started ahead of need (tests). */
  get hasSpare(): boolean {
    return this.spare !== undefined;
  }

  private startSpare(): void {
    if (this.spare !== undefined || this.released) return;
    try {
      this.spare = PtraceAddressSpace.start(this.memoryFile, this.stubName);
    } catch {
      // None this time: the next address space starts its own stub.
      return;
    }
    setImmediate(() => this.advanceSpare()); // an idle sandbox's: at the loop's next turn
  }

  /**
   * advanceSpare takes the spare past its exec stop if its child is there (a look without
   * waiting), so that it runs its own start-up (prologue, seccomp) while the sentry goes
   * on; the next newAddressSpace then only waits for its ready stop.
   */
  /** pendingWork: a spare is started and not yet past its exec stop (Platform.pendingWork). */
  get pendingWork(): boolean {
    return this.spare !== undefined && this.spareAdvanced !== this.spare && !this.released;
  }

  /** afterStop looks whether the spare reached its exec stop and takes it on (Platform.afterStop). */
  afterStop(): void {
    this.advanceSpare();
  }

  private advanceSpare(): void {
    if (this.spare === undefined || this.released || this.spareAdvanced === this.spare) return;
    if (native.advanceStub(this.spare)) {
      this.spareAdvanced = this.spare;
      phaseCount('stubs:spare-advanced');
    }
  }

  release(): void {
    this.released = true;
    if (this.spare !== undefined) native.abandonStub(this.spare);
    this.spare = undefined;
    for (const as of [...this.spaces]) as.release();
    reapAllStubs();
  }
}
