/**
 * ptrace is tvisor's first platform backend: application code runs in stub processes
 * under PTRACE_SYSEMU, so every syscall stops in the sentry before the host sees it.
 *
 * Design (the hazards and figures behind it are in ARCHITECTURE.md and platform/README.md):
 *
 * - One stub process per address space, started from native/ (a static program without
 *   libc, clone(CLONE_VFORK)+execve from the addon, never child_process, whose waitpid
 *   would swallow ptrace stops). The stub unmaps everything but itself, installs a
 *   seccomp filter that kills the process on any host syscall except mmap/munmap/mprotect/
 *   clone/exit from its own inject gadget (and pause from its park gadget), and stops.
 *   PR_SET_PDEATHSIG and PTRACE_O_EXITKILL make stubs die with their tracer.
 * - The address space is built by injecting mmap(MAP_SHARED|MAP_FIXED) of memory-file
 *   ranges into the stub's control thread; the sentry reads and writes the same pages
 *   through its own mapping of the memory file.
 * - One stub thread per (context, address space), traced by the JavaScript thread that
 *   owns the context. ptrace requests are accepted only from the tracing thread, and an
 *   isolate runs on one OS thread, so ownership is simply object ownership.
 * - Round trip: a SYSEMU stop costs 9.7 us when the stub and its tracer share a CPU and
 *   about 50 us when they do not (cross-CPU wake-ups in a nested VM). Before each resume
 *   the addon pins the stub thread to the CPU its tracer is running on (sched_getcpu,
 *   re-pinned only when the tracer moved), and holds the tracer on that CPU too: on an
 *   idle machine the wake-up at the stub's stop otherwise lands the tracer on the idle
 *   CPU (18 us per round trip instead of 9.5). The tracer's hold is dropped every 1000
 *   round trips so the scheduler can move it (its stub follows at the next switch).
 *   One crossing does pin + SETREGS + SYSEMU + waitpid + GETREGS.
 * - Parallelism: application threads run in parallel by running their contexts on
 *   several JavaScript threads (worker_threads), each tracing its own stub threads, each
 *   pair tracer+stub sharing one CPU. The owner of an address space hands a worker a
 *   parked stub thread (share() -> ticket -> adoptAddressSpace on the worker); the worker
 *   clones its further threads from that one.
 * - interrupt() sends SIGUSR2 to the running stub thread; the signal-delivery stop ends
 *   the switch with `interrupted` and is suppressed on the next resume.
 */
import { FpState } from '../fpstate';
import type { MemoryFile } from '../memfile/memory-file';
import { registerPlatform, type Platform } from '../platform';
import * as native from '../../native/ptrace/ptrace-native';
import { PtraceAddressSpace, reapAllStubs, type AddressSpaceTicket } from './address-space';
import { PtraceContext } from './context';
import { MIN_USER_ADDRESS, STUB_BASE } from './stub-layout';

export { PtraceAddressSpace, type AddressSpaceTicket } from './address-space';
export { PtraceContext, interruptVia, type InterruptHandle } from './context';

/** XSTATE_PROBE_SIZE bounds the xsave image (AMX tiles included). */
const XSTATE_PROBE_SIZE = 16384;

/** PtracePlatform is the ptrace backend over one memory file. */
export class PtracePlatform implements Platform {
  readonly name = 'ptrace';
  readonly minUserAddress = MIN_USER_ADDRESS;
  readonly maxUserAddress = STUB_BASE;
  private readonly spaces = new Set<PtraceAddressSpace>();
  private initialFp: Buffer | undefined;

  constructor(readonly memoryFile: MemoryFile) {}

  newAddressSpace(): PtraceAddressSpace {
    const as = PtraceAddressSpace.spawn(this.memoryFile);
    if (!this.initialFp) this.captureInitialFp(as);
    this.spaces.add(as);
    as.onRelease = () => this.spaces.delete(as);
    return as;
  }

  newContext(): PtraceContext {
    return new PtraceContext();
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

  /** The control thread never ran application code: its FP state is the initial one. */
  private captureInitialFp(as: PtraceAddressSpace): void {
    const probe = Buffer.alloc(XSTATE_PROBE_SIZE);
    const n = native.getFpState(as.controlThread.tid, probe);
    this.initialFp = Buffer.from(probe.subarray(0, n));
  }
}

/** adoptAddressSpace takes over a shared address space on this (worker) thread. */
export function adoptAddressSpace(ticket: AddressSpaceTicket): PtraceAddressSpace {
  if (!Number.isInteger(ticket?.pid) || !Number.isInteger(ticket?.tid)) throw new TypeError('adoptAddressSpace: not a ticket');
  return PtraceAddressSpace.adopt(ticket);
}

/** newPtraceContext creates a context on this thread without a platform object (workers). */
export function newPtraceContext(pinning = true): PtraceContext {
  return new PtraceContext(pinning);
}

registerPlatform('ptrace', (mf) => new PtracePlatform(mf));
