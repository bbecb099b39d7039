/**
 * kvm-native loads tvisor_kvm.node (native/kvm/addon.cc over vm.c) and types its calls.
 * Loading never happens at import time. Handles (bigint) point at native objects that
 * platform/kvm frees exactly once, after their last use.
 */
import { loadAddonFile } from '../ptrace/ptrace-native';

/** KvmAddon is the raw contract of tvisor_kvm.node. */
export interface KvmAddon {
  /** open creates a VM over memfd (guest memory [0, memSize)); throws an Error saying why not. */
  open(dev: string, memfd: number, memSize: number): bigint;
  close(vm: bigint): void;
  /** xsaveSize is the length of the guest's XSAVE image. */
  xsaveSize(vm: bigint): number;
  /** asNew returns a new address space's page-table root (its CR3), or -errno. */
  asNew(vm: bigint): number;
  asFree(vm: bigint, cr3: number): void;
  asMap(vm: bigint, cr3: number, addr: number, offset: number, length: number, prot: number): number;
  asUnmap(vm: bigint, cr3: number, addr: number, length: number): number;
  asProtect(vm: bigint, cr3: number, addr: number, length: number, prot: number): number;
  /** vcpuNew creates a vCPU; flag[index] set to non-zero from any thread interrupts its switch. */
  vcpuNew(vm: bigint, flag: Int32Array, index: number): bigint;
  vcpuFree(vcpu: bigint): void;
  /** switchVcpu runs regs (user_regs_struct) in cr3 until the next event; returns its KvmEvent kind and fills event. */
  switchVcpu(vcpu: bigint, cr3: number, regs: Buffer, event: Buffer): number;
  /** vcpuCpuNs is the thread CPU time (ns) the vCPU's switches took since it was created or taken from the pool. */
  vcpuCpuNs(vcpu: bigint): number;
  getXsave(vcpu: bigint, buf: Buffer): number;
  setXsave(vcpu: bigint, buf: Buffer): number;
  initXsave(buf: Buffer): void;
  /** threadSignals installs the interrupt and time-slice handlers and arms this thread's slice timer; 0 or -errno. */
  threadSignals(): number;
  /** threadSignalsDone ends a context started with threadSignals on this thread: the last one disarms the slice timer. */
  threadSignalsDone(): void;
  gettid(): number;
  /** lastError is this thread's last error text. */
  lastError(): string;
  regsSize: number;
  eventSize: number;
}

/** KvmEvent mirrors vm.h's EV_* kinds. */
export const enum KvmEvent {
  Syscall = 0,
  Fault = 1,
  Interrupted = 2,
  Exited = 3,
}

/** EVENT_SIZE is sizeof(struct kvm_event): vector i32, signal i32, error code, cr2, rip (u64). */
export const EVENT_SIZE = 32;

let addon: KvmAddon | undefined;

/** loadKvmAddon returns the loaded addon, loading it on first use. */
export function loadKvmAddon(): KvmAddon {
  if (addon) return addon;
  const { exports: loaded, file } = loadAddonFile<KvmAddon>('tvisor_kvm.node');
  const mod = { exports: loaded };
  if (mod.exports.regsSize !== 27 * 8 || mod.exports.eventSize !== EVENT_SIZE) {
    throw new Error(`tvisor_kvm.node: ${file}: layout mismatch (regs ${mod.exports.regsSize}, event ${mod.exports.eventSize})`);
  }
  addon = mod.exports;
  return addon;
}
