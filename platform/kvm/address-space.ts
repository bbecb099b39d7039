/**
 * address-space is the KVM AddressSpace: a page-table root in the VM's system region
 * (its CR3) whose user half the sentry fills from mapFile/unmap/protect (native/kvm/vm.c
 * writes the entries: user, writable only with PROT_WRITE, no-execute without PROT_EXEC),
 * plus a MappingTable of what it mapped, which answers isMapped (the page tables live in
 * the VM's memory, where reading them back would cost a call into the addon; the sentry
 * translates addresses through its memory manager). There is no host process: the
 * application's memory is guest-physical memory = the memory file.
 */
import { MappingTable } from '../memfile/mappings';
import { PAGE_SIZE, type AddressSpace, type FileRange, type Prot } from '../platform';
import { HostError } from '../../native/libc';
import type { KvmAddon } from '../../native/kvm/kvm-native';

/** MIN_USER_ADDRESS and MAX_USER_ADDRESS bound application mappings (as under ptrace). */
export const MIN_USER_ADDRESS = 0x10000, MAX_USER_ADDRESS = 0x7fffff000000;

/** KvmTicket lets a worker thread run contexts in an address space (see share()). */
export interface KvmTicket {
  vm: bigint;
  cr3: number;
}

/**
 * KvmAddressSpace is one guest page table, owned by the JavaScript thread that created it.
 * Other threads run contexts in it through share()/adoptKvmAddressSpace; only the owner
 * changes mappings, answers isMapped, and frees it (after every adopter is done).
 */
export class KvmAddressSpace implements AddressSpace {
  private readonly table = new MappingTable();
  private released = false;
  /** dead is set by kill(): no vCPU runs here any more. */
  dead = false;
  /** onRelease is called once by release() (the platform forgets the address space). */
  onRelease?: () => void;

  constructor(private readonly addon: KvmAddon, readonly vm: bigint, readonly cr3: number, private readonly owner = true) {}

  /** share returns a ticket for adoptKvmAddressSpace on another thread (same process, same VM). */
  share(): KvmTicket {
    return { vm: this.vm, cr3: this.cr3 };
  }

  /** name identifies the address space in messages. */
  get name(): string {
    return `kvm address space 0x${this.cr3.toString(16)}`;
  }

  mapFile(addr: number, range: FileRange, prot: Prot): void {
    this.checkMutable(addr, range.length);
    this.check('map', this.addon.asMap(this.vm, this.cr3, addr, range.offset, range.length, prot));
    this.table.map(addr, range, prot);
  }

  unmap(addr: number, length: number): void {
    this.checkMutable(addr, length);
    this.check('unmap', this.addon.asUnmap(this.vm, this.cr3, addr, length));
    this.table.unmap(addr, length);
  }

  protect(addr: number, length: number, prot: Prot): void {
    this.checkMutable(addr, length);
    this.check('protect', this.addon.asProtect(this.vm, this.cr3, addr, length, prot));
    this.table.protect(addr, length, prot);
  }

  isMapped(addr: number, length: number): boolean {
    if (!this.owner) throw new Error(`${this.name}: isMapped only on the thread that created it`);
    return Array.isArray(this.table.translate(addr, length, 0));
  }

  /** mappings lists the current mappings (for tests and /proc/pid/maps). */
  mappings(): ReturnType<MappingTable['list']> {
    return this.table.list();
  }

  /** kill stops the address space for good, as a killed stub process would: switches into it report `exited`. */
  kill(): void {
    this.dead = true;
  }

  /** isReleased says whether release() was called. */
  get isReleased(): boolean {
    return this.released;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.dead = true;
    if (this.owner) this.addon.asFree(this.vm, this.cr3);
    this.onRelease?.();
  }

  private check(what: string, r: number): void {
    if (r < 0) throw new HostError(`${this.name}: ${what}`, -r);
  }

  private checkMutable(addr: number, length: number): void {
    if (this.released) throw new Error(`${this.name}: released`);
    if (!this.owner) throw new Error(`${this.name}: mappings change only on the thread that created it`);
    if (this.dead) throw new Error(`${this.name}: has exited (killed)`);
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr % PAGE_SIZE || length % PAGE_SIZE || length <= 0) {
      throw new RangeError(`${this.name}: [0x${addr.toString(16)}, +0x${length.toString(16)}) is not page-aligned`);
    }
    if (addr < MIN_USER_ADDRESS || addr + length > MAX_USER_ADDRESS) {
      throw new RangeError(`${this.name}: [0x${addr.toString(16)}, +0x${length.toString(16)}) is outside user memory`);
    }
  }
}
