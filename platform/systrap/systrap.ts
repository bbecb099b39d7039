/**
 * systrap is the seccomp-trap platform (after gVisor's systrap, from its public design):
 * application threads run untraced in stub processes; their syscalls trap through the
 * stub's seccomp filter (SECCOMP_RET_TRAP) and, with their faults, become signals whose
 * handler hands the registers to the sentry through shared memory.
 *
 * Design (details and figures in platform/README.md):
 *
 * - One stub process per address space (native/systrap/stub.S), started and mapped as
 *   the ptrace backend's: its first thread is the control thread, traced by the sentry,
 *   which never runs application code and receives the injected mmap/munmap/mprotect of
 *   memory-file ranges and the clone of each new thread. Memory changes therefore stay
 *   out of the application's reach: no application thread can run mmap (filter B).
 * - One application thread per (context, address space): cloned from the control
 *   thread, given a block (a page-aligned memory-file range mapped at its slot in the
 *   stub and viewed by the sentry), an alternate signal stack in that block and filter B,
 *   then detached. A stub thread is never traced while it runs application code.
 * - Round trip: the thread's syscall traps (SIGSYS) or faults; the stub's handler runs on
 *   the alternate stack, so the kernel's signal frame (registers and XSAVE image) is in
 *   the block; it sets the block's state to EVENT and spins, then sleeps on the futex. The
 *   sentry (native/systrap/addon.cc) reads the frame, and answers by writing it and
 *   setting RESUME; rt_sigreturn (from the stub's restorer) loads the answer.
 * - Preemption: the stub arms ITIMER_VIRTUAL as the ptrace stub does (SIGVTALRM every
 *   10 ms of CPU), interrupt() sends SIGUSR2 to the running thread, and a thread that
 *   does not answer within 50 ms of wall time is sent SIGVTALRM: each is reported as
 *   `interrupted`. One that still does not answer after 5 s (the application parked it,
 *   or corrupted its block) has its process killed: switch reports `exited`.
 * - Untrusted block: the application can write every block of its process. The sentry
 *   reads registers from it as it reads them from ptrace (values the application chose
 *   anyway), checks every address it follows, and never lets it change its own control
 *   flow beyond that thread's result.
 */
import { FpState } from '../fpstate';
import type { MemoryFile } from '../memfile/memory-file';
import { registerPlatform, type Platform } from '../platform';
import * as ptraceNative from '../../native/ptrace/ptrace-native';
import { systrapUnavailable } from '../../native/systrap/systrap-native';
import { reapAllStubs } from '../ptrace/address-space';
import { MIN_USER_ADDRESS, STUB_BASE } from '../ptrace/stub-layout';
import { SystrapAddressSpace } from './address-space';
import { SystrapContext } from './context';

export { SystrapAddressSpace } from './address-space';
export { SystrapContext } from './context';

/** XSTATE_PROBE_SIZE bounds the xsave image (AMX tiles included). */
const XSTATE_PROBE_SIZE = 16384;

/** SystrapPlatform is the systrap backend over one memory file. */
export class SystrapPlatform implements Platform {
  readonly name = 'systrap';
  readonly minUserAddress = MIN_USER_ADDRESS;
  readonly maxUserAddress = STUB_BASE;
  private readonly spaces = new Set<SystrapAddressSpace>();
  private initialFp: Buffer | undefined;

  constructor(readonly memoryFile: MemoryFile) {}

  newAddressSpace(): SystrapAddressSpace {
    const as = new SystrapAddressSpace(this.memoryFile);
    if (!this.initialFp) {
      // The control thread never ran application code: its FP state is the initial one.
      const probe = Buffer.alloc(XSTATE_PROBE_SIZE);
      const n = ptraceNative.getFpState(as.controlTid, probe);
      this.initialFp = Buffer.from(probe.subarray(0, n));
    }
    this.spaces.add(as);
    as.onRelease = () => this.spaces.delete(as);
    return as;
  }

  newContext(): SystrapContext {
    return new SystrapContext();
  }

  tracerCpuNs(): number {
    return ptraceNative.threadCpuNs();
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

registerPlatform('systrap', (mf) => {
  const why = systrapUnavailable();
  if (why) throw new Error(`platform "systrap" cannot run on this host: ${why}`);
  return new SystrapPlatform(mf);
});
