/**
 * context is the KVM Context: one vCPU, created on the first switch on the JavaScript thread
 * that runs the context. switch() is one addon call (native/kvm/vm.c kvm_vcpu_switch): load
 * the registers, KVM_RUN until the next exit, read them back; the vCPU is also the holder
 * of the FP state it last loaded (KVM_GET/SET_XSAVE, lazily as platform/fpstate.ts says).
 *
 * interrupt(): `handle` is [pid, tid, flag]. interrupt() on the owning thread sets the flag
 * (seen when the next switch starts); interruptVia(handle) from another thread sends the
 * vCPU thread SIGUSR2, whose handler sets the running vCPU's immediate_exit (KVM_RUN
 * leaves the guest). The time slice is SIGVTALRM from a timer on the thread's CPU clock.
 */
import { loadKvmAddon, KvmEvent, EVENT_SIZE, type KvmAddon } from '../../native/kvm/kvm-native';
import { makeRoomFor, type FpHolder, type FpState } from '../fpstate';
import type { AccessType, AddressSpace, Context, SwitchResult } from '../platform';
import { Registers } from '../registers';
import { KvmAddressSpace } from './address-space';

const SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9, SIGSEGV = 11, SIGILL = 4;
const SI_KERNEL = 0x80, SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, BUS_ADRALN = 1, TRAP_TRACE = 2;
const SYSCALL: SwitchResult = Object.freeze({ kind: 'syscall' });

/** faultOf turns an x86 exception (vector, error code, CR2) at rip into the signal Linux would send. */
export function faultOf(vector: number, errorCode: bigint, cr2: bigint, rip: bigint): SwitchResult {
  const fault = (signal: number, code: number, address: bigint, access: AccessType = 'unknown'): SwitchResult => ({ kind: 'fault', signal, code, address, access });
  switch (vector) {
    case 14: {
      const access: AccessType = errorCode & 16n ? 'execute' : errorCode & 2n ? 'write' : 'read';
      return fault(SIGSEGV, errorCode & 1n ? SEGV_ACCERR : SEGV_MAPERR, cr2, access);
    }
    case 0: return fault(SIGFPE, FPE_INTDIV, rip);
    case 16: case 19: return fault(SIGFPE, 0, rip);
    case 1: return fault(SIGTRAP, TRAP_TRACE, rip);
    case 3: return fault(SIGTRAP, SI_KERNEL, 0n);
    case 6: return fault(SIGILL, ILL_ILLOPN, rip);
    case 17: return fault(SIGBUS, BUS_ADRALN, 0n);
    case 11: case 12: return fault(SIGBUS, SI_KERNEL, 0n);
    // #GP (privileged instructions, int $n without a user gate), #OF, #BR, #TS, #NM.
    default: return fault(SIGSEGV, SI_KERNEL, 0n);
  }
}

/** FATAL_VECTORS are exceptions after which the vCPU cannot go on (NMI, #DF, #MC). */
const FATAL_VECTORS = new Set([2, 8, 18]);

/** KvmContext runs tasks on one vCPU of the platform's VM. */
export class KvmContext implements Context, FpHolder {
  private readonly addon: KvmAddon = loadKvmAddon();
  private readonly event = Buffer.alloc(EVENT_SIZE);
  private vcpu: bigint | undefined;
  private released = false;
  /** loadedFp is the FpState last loaded into (or saved from) this vCPU. */
  private loadedFp: FpState | null = null;
  /** handle is the shared [pid, tid, interrupt flag] that interrupt() and interruptVia use. */
  readonly handle: Int32Array = new Int32Array(new SharedArrayBuffer(12));
  /** exitReason says why the last `exited` came (the host's error text). */
  exitReason = '';
  /** releasedNs is cpuNs at release. */
  private releasedNs = 0;

  /** cpuNs is the CPU time (ns) of this context's switches: the guest's, plus the exits' handling in the kernel. */
  get cpuNs(): number {
    return this.vcpu === undefined ? this.releasedNs : this.addon.vcpuCpuNs(this.vcpu);
  }

  constructor(private readonly vm: bigint) {}

  switch(as: AddressSpace, regs: Registers, fp?: FpState): SwitchResult {
    if (this.released) throw new Error('kvm context: released');
    if (!(as instanceof KvmAddressSpace)) throw new TypeError('kvm context: not a kvm address space');
    if (!(regs instanceof Registers)) throw new TypeError('kvm context: registers must be a Registers');
    if (as.dead) return { kind: 'exited', signal: SIGKILL };
    const vcpu = this.vcpu ?? this.start();
    if (fp) this.loadFp(fp);
    const kind = this.addon.switchVcpu(vcpu, as.cr3, regs.buffer, this.event);
    switch (kind) {
      case KvmEvent.Syscall:
        return SYSCALL;
      case KvmEvent.Fault: {
        const vector = this.event.readInt32LE(0);
        if (FATAL_VECTORS.has(vector)) return this.lost(`exception ${vector}`);
        return faultOf(vector, this.event.readBigUInt64LE(8), this.event.readBigUInt64LE(16), regs.rip);
      }
      case KvmEvent.Interrupted:
        return { kind: 'interrupted', signal: this.event.readInt32LE(4) };
      default:
        return this.lost(this.addon.lastError());
    }
  }

  interrupt(): void {
    Atomics.store(this.handle, 2, 1);
  }

  saveFp(fp: FpState): void {
    if (this.vcpu === undefined) return;
    const r = this.addon.getXsave(this.vcpu, fp.data);
    if (r < 0) throw new Error(`kvm context: KVM_GET_XSAVE failed (${-r})`);
  }

  forgetFp(fp: FpState): void {
    if (this.loadedFp === fp) this.loadedFp = null;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.loadedFp?.holder === this) {
      this.saveFp(this.loadedFp);
      this.loadedFp.holder = null;
    }
    Atomics.store(this.handle, 0, 0);
    this.releasedNs = this.cpuNs;
    if (this.vcpu !== undefined) {
      this.addon.vcpuFree(this.vcpu);
      this.addon.threadSignalsDone();
    }
    this.vcpu = undefined;
  }

  private loadFp(fp: FpState): void {
    if (this.loadedFp === fp && fp.holder === this) return;
    makeRoomFor(this, this.loadedFp, fp);
    const r = this.addon.setXsave(this.vcpu!, fp.data);
    if (r < 0) throw new Error(`kvm context: KVM_SET_XSAVE failed (${-r})`);
    fp.holder = this;
    this.loadedFp = fp;
  }

  private start(): bigint {
    const r = this.addon.threadSignals();
    if (r < 0) throw new Error(`kvm context: installing the interrupt and time-slice signals failed (${-r})`);
    this.vcpu = this.addon.vcpuNew(this.vm, this.handle, 2);
    Atomics.store(this.handle, 0, process.pid);
    Atomics.store(this.handle, 1, this.addon.gettid());
    return this.vcpu;
  }

  private lost(why: string): SwitchResult {
    this.exitReason = why;
    return { kind: 'exited', signal: SIGKILL };
  }
}
