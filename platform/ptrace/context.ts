/**
 * context is the ptrace Context: for each address space it has run in, one stub thread
 * traced by the JavaScript thread that owns the context. switch() is one addon call
 * (pin, load FP if needed, set registers, PTRACE_SYSEMU, wait, get registers).
 *
 * interrupt() may come from any JavaScript thread through an InterruptHandle: a shared
 * [pid, tid] of the stub thread currently (or next) running, written by the owner when
 * it changes, read by the interrupter, which sends INTERRUPT_SIGNAL with tgkill.
 */
import * as native from '../../native/ptrace/ptrace-native';
import { HostError } from '../../native/libc';
import type { FpState } from '../fpstate';
import type { AddressSpace, Context, SwitchResult } from '../platform';
import { Registers } from '../registers';
import { PtraceAddressSpace } from './address-space';
import { decodeStatus } from './decode';
import { tgkill } from './host';
import { INTERRUPT_SIGNAL, STUB_BASE, STUB_SIZE } from './stub-layout';
import type { StubThread } from './stub-thread';

const ESRCH = 3;
const SIGSEGV = 11, SEGV_MAPERR = 1;

/**
 * inStub tells whether an instruction pointer lies in the stub's region. The application's
 * view has nothing mapped there (its addresses end at STUB_BASE), but the host runs the
 * stub's code if the application jumps to it: whatever stop comes from there is reported
 * as the fault an unmapped address gives, never as a syscall or a trap of the stub's.
 */
function inStub(rip: bigint): boolean {
  return rip >= BigInt(STUB_BASE) && rip < BigInt(STUB_BASE + STUB_SIZE);
}

/** InterruptHandle is a transferable reference to a context's running stub thread. */
export type InterruptHandle = Int32Array;

/** interruptVia interrupts the context behind `handle` from any JavaScript thread. */
export function interruptVia(handle: InterruptHandle): boolean {
  const pid = Atomics.load(handle, 0), tid = Atomics.load(handle, 1);
  return pid > 0 && tgkill(pid, tid, INTERRUPT_SIGNAL);
}

/** PtraceContext runs tasks on stub threads traced by the calling JavaScript thread. */
export class PtraceContext implements Context {
  private readonly threads = new Map<PtraceAddressSpace, StubThread>();
  private readonly siginfo = Buffer.alloc(native.SIGINFO_SIZE);
  /** cpuUnflushedNs is the CPU time (ns) credited to this context by its spaces' samples. */
  cpuUnflushedNs = 0;

  /**
   * cpuNs is the host CPU time (ns) the stubs spent running this context's task. A stub
   * process's clock is sampled only when another context's thread is about to run there,
   * or when this is read: a single-threaded process costs no sample per switch.
   */
  get cpuNs(): number {
    for (const as of this.threads.keys()) if (as.cpuRunner === this && !as.dead) as.flushCpu();
    return this.cpuUnflushedNs;
  }
  private current: StubThread | undefined;
  /** handle is the shared [pid, tid] that interruptVia reads. */
  readonly handle: InterruptHandle = new Int32Array(new SharedArrayBuffer(8));
  private released = false;

  /** pinning: when true (default) each stub thread follows the tracer's CPU. */
  constructor(private readonly pinning = true) {}

  switch(as: AddressSpace, regs: Registers, fp?: FpState): SwitchResult {
    if (this.released) throw new Error('ptrace context: released');
    if (!(as instanceof PtraceAddressSpace)) throw new TypeError('ptrace context: not a ptrace address space');
    if (!(regs instanceof Registers)) throw new TypeError('ptrace context: registers must be a Registers');
    if (as.dead) return { kind: 'exited', signal: 9 };
    // A reused stub (stub-pool.ts) is emptied of its previous user's memory before any of its threads runs.
    if (as.needsReset) {
      try {
        as.flushReset();
      } catch {
        return { kind: 'exited', signal: 9 }; // it could not be emptied: killed (flushReset)
      }
    }
    const t = this.threadFor(as);
    const fpBuf = fp ? t.fpToLoad(fp) : t.takeFreshFp();
    // What the stub ran since its last sample is the last runner's (its thread, and the
    // sentry's injected calls made meanwhile): sample before another context runs there.
    if (as.cpuRunner !== this) {
      if (as.cpuRunner) as.flushCpu();
      as.cpuRunner = this;
    }
    let status = native.switchThread(t.tid, regs.buffer, this.siginfo, t.state, fpBuf);
    if (status === -ESRCH) {
      // The thread died while stopped (its process was killed): collect its status.
      status = native.waitThread(t.tid, false) ?? 0x9; // a reaped thread reads as SIGKILL
    } else if (status < 0) {
      throw new HostError(`ptrace context: switch to thread ${t.tid}`, -status);
    }
    let r = decodeStatus(status, this.siginfo, regs);
    if (r.kind !== 'exited' && inStub(regs.rip)) {
      r = { kind: 'fault', signal: SIGSEGV, code: SEGV_MAPERR, address: regs.rip, access: 'execute' };
    }
    if (r.kind === 'exited') {
      t.dead = true;
      this.threads.delete(as);
      as.forgetThread(t);
      // A thread only exits on its own through exitThread: anything else killed the process.
      as.dead = true;
    } else if (fp) {
      fp.holder = t;
      t.loadedFp = fp;
    }
    return r;
  }

  interrupt(): void {
    interruptVia(this.handle);
  }

  /**
   * nameThread names the stub thread this context runs in `as` (Context.nameThread); a
   * thread not made yet is cloned from the control thread when first needed, with the
   * process's name.
   */
  nameThread(as: AddressSpace, comm: string): void {
    if (!(as instanceof PtraceAddressSpace)) return;
    const t = this.threads.get(as);
    if (t && !t.dead) as.setThreadName(t, comm);
  }

  /** threadOf returns the stub thread this context uses in `as`, if it has one (tests). */
  threadOf(as: PtraceAddressSpace): StubThread | undefined {
    return this.threads.get(as);
  }

  /** forget disposes of this context's thread in `as` (e.g. the task left it by execve). */
  forget(as: PtraceAddressSpace): void {
    const t = this.threads.get(as);
    if (!t) return;
    if (as.cpuRunner === this && !as.dead) as.flushCpu();
    this.threads.delete(as);
    if (as.closingSoon && !as.isReleased && as.owner) {
      // Its process is killed by the release that follows, which ends and reaps this
      // thread with the others: no injected exit of its own (or keeps it, stub-pool.ts).
      if (this.current === t) this.current = undefined;
      as.leaveThread(t);
      return;
    }
    as.forgetThread(t);
    if (!as.isReleased) t.dispose();
  }

  release(): void {
    if (this.released) return;
    for (const as of [...this.threads.keys()]) this.forget(as);
    Atomics.store(this.handle, 0, 0);
    this.released = true;
  }

  private threadFor(as: PtraceAddressSpace): StubThread {
    let t = this.threads.get(as);
    if (!t) {
      t = as.newThread();
      if (!this.pinning) t.state[1] = 1;
      native.checkSwitchArgs(t.tid, Buffer.alloc(native.REGS_SIZE), this.siginfo, t.state);
      this.threads.set(as, t);
    }
    if (t !== this.current) {
      this.current = t;
      Atomics.store(this.handle, 0, t.pid);
      Atomics.store(this.handle, 1, t.tid);
    }
    return t;
  }
}
