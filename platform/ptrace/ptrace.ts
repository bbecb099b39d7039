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
 * - Released address spaces give their stub to a pool (stub-pool.ts) that the next fork or
 *   exec takes it from, emptied by one munmap: no process made or ended once warm.
 * - interrupt() sends SIGUSR2 to the running stub thread; the signal-delivery stop ends
 *   the switch with `interrupted` and is suppressed on the next resume.
 */
import type { MemoryFile } from '../memfile/memory-file';
import { registerPlatform } from '../platform';
import { idleStubReset, killIdleStub, PtraceAddressSpace, type AddressSpaceTicket } from './address-space';
import { StubPool } from './stub-pool';
import { PtraceContext } from './context';
import { StubPlatform } from './stub-platform';

export { PtraceAddressSpace, type AddressSpaceTicket } from './address-space';
export { PtraceContext, interruptVia, type InterruptHandle } from './context';

/** PtracePlatform is the ptrace backend over one memory file. */
export class PtracePlatform extends StubPlatform<PtraceAddressSpace, PtraceContext> {
  readonly name = 'ptrace';

  constructor(memoryFile: MemoryFile) {
    super(memoryFile);
  }

  protected readonly stubName = 'tvisor-stub';

  /** pool keeps the stubs of released address spaces for reuse (stub-pool.ts). */
  private readonly pool = new StubPool();

  protected spawnSpace(started?: number): PtraceAddressSpace {
    const as = PtraceAddressSpace.spawn(this.memoryFile, 'tvisor-stub', started);
    as.pool = this.pool;
    as.pinControl = true;
    return as;
  }

  protected override reuseSpace(endedOnly: boolean): PtraceAddressSpace | undefined {
    for (;;) {
      const idle = endedOnly ? this.pool.take(idleStubReset) : this.pool.takeOldest();
      if (!idle) return undefined;
      try {
        return PtraceAddressSpace.reuse(this.memoryFile, idle, this.pool, this.initialFp);
      } catch {
        killIdleStub(idle); // its reset failed: the next one
      }
    }
  }

  /** idleStubs is the number of stubs the pool keeps now (tests). */
  get idleStubs(): number {
    return this.pool.size;
  }

  protected override get keptStubs(): number {
    return this.pool.size;
  }

  /** idleStubsReady is the number of idle stubs whose reset has ended, looking without waiting (tests). */
  get idleStubsReady(): number {
    return this.pool.count(idleStubReset);
  }

  override release(): void {
    for (const idle of this.pool.close()) killIdleStub(idle);
    super.release();
  }

  protected controlTid(as: PtraceAddressSpace): number {
    return as.controlThread.tid;
  }

  newContext(): PtraceContext {
    return new PtraceContext();
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
