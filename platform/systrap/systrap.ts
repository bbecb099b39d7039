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
import type { MemoryFile } from '../memfile/memory-file';
import { registerPlatform } from '../platform';
import { setStamps, stamps, systrapUnavailable } from '../../native/systrap/systrap-native';
import { StubPlatform } from '../ptrace/stub-platform';
import { SystrapAddressSpace } from './address-space';
import { SystrapContext } from './context';

export { SystrapAddressSpace } from './address-space';
export { SystrapContext } from './context';

/** SystrapPlatform is the systrap backend over one memory file. */
export class SystrapPlatform extends StubPlatform<SystrapAddressSpace, SystrapContext> {
  readonly name = 'systrap';

  constructor(memoryFile: MemoryFile) {
    super(memoryFile);
  }

  protected readonly stubName = 'tvisor-systrap-stub';

  protected spawnSpace(started?: number): SystrapAddressSpace {
    return new SystrapAddressSpace(this.memoryFile, started);
  }

  protected controlTid(as: SystrapAddressSpace): number {
    return as.controlTid;
  }

  newContext(): SystrapContext {
    return new SystrapContext();
  }

  /** debugStamps turns the addon's round-trip stamps on or off (then returns their sums). */
  debugStamps(on: boolean): Record<string, number> | undefined {
    if (on) {
      setStamps(true);
      return undefined;
    }
    const s = stamps();
    setStamps(false);
    return { ...s };
  }
}

registerPlatform('systrap', (mf) => {
  const why = systrapUnavailable();
  if (why) throw new Error(`platform "systrap" cannot run on this host: ${why}`);
  return new SystrapPlatform(mf);
});
