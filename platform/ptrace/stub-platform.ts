/**
 * stub-platform.ts is what the two backends whose application threads live in stub
 * processes started and set up under ptrace (ptrace, systrap) share: the address range
 * below the stub, the set of live address spaces released with the platform, the initial
 * FP state read once from a control thread that never ran application code, and the
 * tracer's CPU clock. A backend says how it makes an address space and a context.
 */
import { FpState } from '../fpstate';
import type { MemoryFile } from '../memfile/memory-file';
import type { AddressSpace, Context, Platform } from '../platform';
import * as native from '../../native/ptrace/ptrace-native';
import { reapAllStubs } from './address-space';
import { phaseCount } from '../../native/phases';
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
  private initialFp: Buffer | undefined;

  constructor(readonly memoryFile: MemoryFile) {}

  /** spawnSpace starts a new address space (its stub process). */
  protected abstract spawnSpace(): AS;
  /** controlTid is the traced thread of `as` that never runs application code. */
  protected abstract controlTid(as: AS): number;
  abstract newContext(): C;

  newAddressSpace(): AS {
    const as = this.spawnSpace();
    phaseCount('stubs:spawned');
    if (!this.initialFp) {
      // The control thread never ran application code: its FP state is the initial one.
      const probe = Buffer.alloc(XSTATE_PROBE_SIZE);
      const n = native.getFpState(this.controlTid(as), probe);
      this.initialFp = Buffer.from(probe.subarray(0, n));
    }
    this.spaces.add(as);
    as.onRelease = () => this.spaces.delete(as);
    return as;
  }

  tracerCpuNs(): number {
    return native.threadCpuNs();
  }

  newFpState(): FpState {
    if (!this.initialFp) this.newAddressSpace().release();
    return new FpState(Buffer.from(this.initialFp!));
  }

  release(): void {
    for (const as of [...this.spaces]) as.release();
    reapAllStubs();
  }
}
