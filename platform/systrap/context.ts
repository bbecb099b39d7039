/**
 * context is the systrap Context: for each address space it has run in, one application
 * thread of that stub process. switch() is one addon call: write the registers into the
 * thread's signal frame, resume it, wait for its next event, read the frame back.
 *
 * interrupt() works as the ptrace backend's (the same InterruptHandle, read by
 * interruptVia): SIGUSR2 to the running stub thread, whose handler reports it.
 */
import { SwitchKind, checkSwitchArgs, switchThread, awaitEvent, INFO_SIZE } from '../../native/systrap/systrap-native';
import type { FpState } from '../fpstate';
import type { AddressSpace, Context, SwitchResult } from '../platform';
import { Registers } from '../registers';
import { interruptVia, type InterruptHandle } from '../ptrace/context';
import { STUB_BASE } from '../ptrace/stub-layout';
import { STUB_TOP } from './layout';
import { SystrapAddressSpace } from './address-space';
import type { SystrapThread } from './thread';

const SIGKILL = 9, SIGSEGV = 11, SEGV_MAPERR = 1;
const ACCESS_EXECUTE = 3;
const SYSCALL: SwitchResult = Object.freeze({ kind: 'syscall' });

/** RIP_OFFSET is rip's byte offset in struct user_regs_struct (Registers' buffer). */
const RIP_OFFSET = 16 * 8;

/**
 * inStub tells whether the instruction pointer lies in the stub's range (code and blocks),
 * which the application cannot map: whatever an application thread does there is
 * reported as the fault an unmapped address gives (as the ptrace backend does). It reads
 * rip as a number from the buffer (user addresses are below 2^47: exact), so that the
 * hot path makes no bigint.
 */
function inStub(regs: Registers): boolean {
  const rip = regs.buffer.readUInt32LE(RIP_OFFSET + 4) * 2 ** 32 + regs.buffer.readUInt32LE(RIP_OFFSET);
  return rip >= STUB_BASE && rip < STUB_TOP;
}

/** SystrapContext runs tasks on application threads of systrap stub processes. */
export class SystrapContext implements Context {
  private readonly threads = new Map<SystrapAddressSpace, SystrapThread>();
  private readonly info = Buffer.alloc(INFO_SIZE);
  private current: SystrapThread | undefined;
  private released = false;
  /** handle is the shared [pid, tid] that interruptVia reads. */
  readonly handle: InterruptHandle = new Int32Array(new SharedArrayBuffer(8));
  /** cpuUnflushedNs is the CPU time (ns) credited to this context by its spaces' samples. */
  cpuUnflushedNs = 0;

  /**
   * cpuNs is the host CPU time (ns) the stubs spent running this context's task, sampled
   * as the ptrace backend does: a stub process's clock only when another context is about
   * to run there, or when this is read.
   */
  get cpuNs(): number {
    for (const as of this.threads.keys()) if (as.cpuRunner === this && !as.dead) as.flushCpu();
    return this.cpuUnflushedNs;
  }

  switch(as: AddressSpace, regs: Registers, fp?: FpState): SwitchResult {
    if (this.released) throw new Error('systrap context: released');
    if (!(as instanceof SystrapAddressSpace)) throw new TypeError('systrap context: not a systrap address space');
    if (!(regs instanceof Registers)) throw new TypeError('systrap context: registers must be a Registers');
    if (as.dead) return { kind: 'exited', signal: SIGKILL };
    const t = this.threadFor(as, regs);
    if (!t) return this.lost(as);
    if (fp) t.loadFp(fp);
    if (as.cpuRunner !== this) {
      if (as.cpuRunner) as.flushCpu();
      as.cpuRunner = this;
    }
    const kind = switchThread(t.view, t.stubAddress, regs.buffer, this.info, t.pid, t.tid, t.pin);
    switch (kind) {
      case SwitchKind.Syscall:
        return inStub(regs) ? stubFault(regs.rip) : SYSCALL;
      case SwitchKind.Fault:
        if (inStub(regs)) return stubFault(regs.rip);
        return {
          kind: 'fault',
          signal: this.info.readInt32LE(0),
          code: this.info.readInt32LE(4),
          address: this.info.readBigUInt64LE(16),
          access: this.info.readInt32LE(8) === ACCESS_EXECUTE ? 'execute' : 'unknown',
        };
      case SwitchKind.Interrupted:
        return { kind: 'interrupted', signal: this.info.readInt32LE(0) };
      default:
        // The thread is gone, or its block is corrupted or it does not answer: either way
        // its process cannot run on (and only that process is affected).
        return this.lost(as);
    }
  }

  interrupt(): void {
    interruptVia(this.handle);
  }

  /** threadOf returns the stub thread this context uses in `as`, if it has one (tests). */
  threadOf(as: SystrapAddressSpace): SystrapThread | undefined {
    return this.threads.get(as);
  }

  /** forget ends this context's thread in `as` (e.g. the task left it by execve). */
  forget(as: SystrapAddressSpace): void {
    const t = this.threads.get(as);
    if (!t) return;
    if (as.cpuRunner === this && !as.dead) as.flushCpu();
    this.threads.delete(as);
    if (this.current === t) this.current = undefined;
    as.endThread(t);
  }

  release(): void {
    if (this.released) return;
    for (const as of [...this.threads.keys()]) this.forget(as);
    Atomics.store(this.handle, 0, 0);
    this.released = true;
  }

  private lost(as: SystrapAddressSpace): SwitchResult {
    as.kill();
    this.threads.delete(as);
    return { kind: 'exited', signal: SIGKILL };
  }

  private threadFor(as: SystrapAddressSpace, regs: Registers): SystrapThread | undefined {
    let t = this.threads.get(as);
    if (!t) {
      t = as.newThread();
      checkSwitchArgs(t.view, t.stubAddress, regs.buffer, this.info, t.pid, t.tid);
      this.threads.set(as, t);
    }
    if (t !== this.current) {
      this.current = t;
      Atomics.store(this.handle, 0, t.pid);
      Atomics.store(this.handle, 1, t.tid);
    }
    if (!t.born) {
      if (awaitEvent(t.view, t.stubAddress, t.pid, t.tid) !== SwitchKind.Event) return undefined;
      t.born = true;
    }
    return t;
  }
}

function stubFault(rip: bigint): SwitchResult {
  return { kind: 'fault', signal: SIGSEGV, code: SEGV_MAPERR, address: rip, access: 'execute' };
}
