/**
 * kvm is the KVM platform: application code runs at CPL 3 of a virtual machine whose
 * guest-physical memory is the sandbox's memory file and whose page tables the sentry
 * builds; the sentry stays outside the guest, and every syscall and exception leaves the
 * VM to it (native/kvm/vm.h has the machine's layout, vm.c the mechanism).
 *
 * - Memory: one memslot over the host's MAP_SHARED mapping of the memfd (guest-physical
 *   address = file offset), a second one for the system region (GDT, IDT, trampoline,
 *   per-vCPU TSS and exception stack, page-table pages) that no application page table
 *   ever points into.
 * - Syscall: LSTAR is a user-executable page whose one instruction stores to a guest-physical
 *   address in no memslot: KVM_EXIT_MMIO, at CPL 3 on kvm_pvm (where `syscall` does not
 *   change privilege) and at CPL 0 on VT-x/SVM. Exceptions: one `out %al, $vector` per IDT
 *   gate (IST stack), the host reads the frame and CR2. Resume: registers set directly at
 *   CPL 3, through the trampoline's `iretq` at CPL 0.
 * - TLB: removing or downgrading a mapping makes KVM drop every cached translation
 *   (kvm_pvm's shadow paging does not see the host's page-table writes otherwise).
 * - Availability: `getPlatform('kvm')` throws one line naming why /dev/kvm (or
 *   TVISOR_KVM_DEVICE) cannot be used and suggesting ptrace or systrap.
 */
import type { MemoryFile } from '../memfile/memory-file';
import { FpState } from '../fpstate';
import { registerPlatform, type Platform } from '../platform';
import { loadKvmAddon, type KvmAddon } from '../../native/kvm/kvm-native';
import { KvmAddressSpace, MAX_USER_ADDRESS, MIN_USER_ADDRESS, type KvmTicket } from './address-space';
import { KvmContext } from './context';

export { KvmAddressSpace, type KvmTicket } from './address-space';
export { KvmContext, faultOf } from './context';

/** KVM_DEVICE is the device the platform opens: TVISOR_KVM_DEVICE, else /dev/kvm. */
export function kvmDevice(): string {
  return process.env.TVISOR_KVM_DEVICE || '/dev/kvm';
}

/** KvmPlatform is the KVM backend: one VM over one memory file. */
export class KvmPlatform implements Platform {
  readonly name = 'kvm';
  readonly minUserAddress = MIN_USER_ADDRESS;
  readonly maxUserAddress = MAX_USER_ADDRESS;
  private readonly spaces = new Set<KvmAddressSpace>();
  private readonly contexts = new Set<KvmContext>();
  private released = false;

  private constructor(readonly memoryFile: MemoryFile, private readonly addon: KvmAddon, private readonly vm: bigint) {}

  /** KvmPlatform.open creates the VM on `device`; it throws one line saying why it cannot. */
  static open(memoryFile: MemoryFile, device = kvmDevice()): KvmPlatform {
    let addon: KvmAddon;
    let vm: bigint;
    try {
      addon = loadKvmAddon();
      vm = addon.open(device, memoryFile.fd, memoryFile.maxSize);
    } catch (err) {
      throw new Error(`platform "kvm" cannot run on this host: ${(err as Error).message}; use --platform ptrace or --platform systrap`);
    }
    return new KvmPlatform(memoryFile, addon, vm);
  }

  newAddressSpace(): KvmAddressSpace {
    this.checkLive();
    const cr3 = this.addon.asNew(this.vm);
    if (cr3 < 0) throw new Error('kvm: no page-table pages left for a new address space');
    const as = new KvmAddressSpace(this.addon, this.vm, cr3);
    this.spaces.add(as);
    as.onRelease = () => this.spaces.delete(as);
    return as;
  }

  newContext(): KvmContext {
    this.checkLive();
    const c = new KvmContext(this.vm);
    this.contexts.add(c);
    return c;
  }

  newFpState(): FpState {
    const data = Buffer.alloc(this.addon.xsaveSize(this.vm));
    this.addon.initXsave(data);
    return new FpState(data);
  }

  release(): void {
    if (this.released) return;
    for (const c of this.contexts) c.release();
    for (const as of [...this.spaces]) as.release();
    this.released = true;
    this.addon.close(this.vm);
  }

  private checkLive(): void {
    if (this.released) throw new Error('kvm platform: released');
  }
}

/** adoptKvmAddressSpace gives a worker thread the address space of `ticket` (it runs contexts there, changes nothing). */
export function adoptKvmAddressSpace(ticket: KvmTicket): KvmAddressSpace {
  return new KvmAddressSpace(loadKvmAddon(), ticket.vm, ticket.cr3, false);
}

/** newKvmContext creates a context on the calling (worker) thread in the VM of `ticket`. */
export function newKvmContext(ticket: KvmTicket): KvmContext {
  return new KvmContext(ticket.vm);
}

registerPlatform('kvm', (mf) => KvmPlatform.open(mf));
