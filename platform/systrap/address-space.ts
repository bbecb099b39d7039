/**
 * address-space is the systrap AddressSpace: a stub process started and mapped as the
 * ptrace backend's is (a PtraceAddressSpace over the systrap stub: its control thread,
 * traced by the sentry, never runs application code and receives the injected mmap,
 * munmap, mprotect and clone), plus the application threads cloned from it. Each of
 * those gets a block mapped at its slot, an alternate signal stack in it, filter B
 * (no syscall from the inject gadget), and is detached before it runs application code.
 *
 * A slot is reused only once the thread that had it is gone: until then a late read of
 * the old thread would meet the new thread's block.
 */
import * as ptraceNative from '../../native/ptrace/ptrace-native';
import { HostError } from '../../native/libc';
import { endThread, hostHasFsGsBase } from '../../native/systrap/systrap-native';
import type { MemoryFile } from '../memfile/memory-file';
import type { AddressSpace, FileRange, Prot } from '../platform';
import { PtraceAddressSpace, type MapRequest } from '../ptrace/address-space';
import { killProcess, tgkill } from '../ptrace/host';
import { STUB_MEMFD } from '../ptrace/stub-layout';
import { BLK_ALTSTACK, BLK_FS_LOADED, BLK_GS_LOADED, BLK_NO_FSGSBASE, BLK_SIGALTSTACK, BLOCK_SIZE, BLOCK_SLOTS, BLOCKS, FPROG_B } from './layout';
import { SystrapThread } from './thread';

const SYS_mmap = 9, SYS_sigaltstack = 131, SYS_seccomp = 317;
const PROT_RW = 3, MAP_SHARED = 1, MAP_FIXED = 0x10, SECCOMP_SET_MODE_FILTER = 1;

/** SystrapAddressSpace is one systrap stub process, owned by the JavaScript thread that created it. */
export class SystrapAddressSpace implements AddressSpace {
  private readonly control: PtraceAddressSpace;
  private readonly threads = new Set<SystrapThread>();
  /** Slots free for a new thread; and threads ended whose host thread may still be exiting. */
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly ending: SystrapThread[] = [];
  /** broken is set when a thread's block was found corrupted or unresponsive: the process was killed. */
  private broken = false;

  /** `started` is a stub PtraceAddressSpace.start started (a spare), finished here; else one is spawned. */
  constructor(private readonly memoryFile: MemoryFile, started?: number) {
    this.control = PtraceAddressSpace.spawn(memoryFile, 'tvisor-systrap-stub', started);
  }

  /** pid is the stub process's pid. */
  get pid(): number {
    return this.control.pid;
  }

  /** hostPid is the stub process (AddressSpace.hostPid: `ps` reports it). */
  get hostPid(): number {
    return this.control.pid;
  }

  /** controlTid is the control thread (traced; the initial FP state is read from it). */
  get controlTid(): number {
    return this.control.controlThread.tid;
  }

  /**
   * cpuRunner is the context whose thread ran here last: the growth of the stub process's
   * CPU clock since the last sample is its (the ptrace address space's bookkeeping).
   */
  get cpuRunner(): { cpuUnflushedNs: number } | null {
    return this.control.cpuRunner;
  }

  set cpuRunner(c: { cpuUnflushedNs: number } | null) {
    this.control.cpuRunner = c;
  }

  /** flushCpu samples the stub's CPU clock and credits its growth to cpuRunner. */
  flushCpu(): void {
    this.control.flushCpu();
  }

  /** dead tells whether the stub process is gone (killed, or found broken). */
  get dead(): boolean {
    return this.broken || this.control.dead;
  }

  /** isReleased says whether release() was called. */
  get isReleased(): boolean {
    return this.control.isReleased;
  }

  /** onRelease is called once by release() (the platform forgets the address space). */
  set onRelease(f: (() => void) | undefined) {
    this.control.onRelease = f;
  }

  mapFile(addr: number, range: FileRange, prot: Prot): void {
    this.checkLive();
    this.control.mapFile(addr, range, prot);
  }

  /** mapFiles maps each request in order in one stop of the control thread (PtraceAddressSpace.mapFiles). */
  mapFiles(maps: readonly MapRequest[]): void {
    this.checkLive();
    this.control.mapFiles(maps);
  }

  /** injectBatch runs host calls on the control thread in one stop (PtraceAddressSpace.injectBatch; tests). */
  injectBatch(calls: readonly (readonly [number, readonly number[]])[], done?: (i: number) => void): void {
    this.checkLive();
    this.control.injectBatch(calls, done);
  }

  unmap(addr: number, length: number): void {
    this.checkLive();
    this.control.unmap(addr, length);
  }

  protect(addr: number, length: number, prot: Prot): void {
    this.checkLive();
    this.control.protect(addr, length, prot);
  }

  isMapped(addr: number, length: number): boolean {
    return this.control.isMapped(addr, length);
  }

  /** mappings lists the current mappings (for tests and /proc/pid/maps). */
  mappings(): ReturnType<PtraceAddressSpace['mappings']> {
    return this.control.mappings();
  }

  /** setTitle names the stub process as the ptrace backend does, through the control thread (platform/ptrace/title.ts). */
  setTitle(comm: string, args: Buffer): void {
    this.checkLive();
    this.control.setTitle(comm, args);
  }

  /** newThread clones an application thread, gives it its block and filter B, and detaches it. */
  newThread(): SystrapThread {
    this.checkLive();
    const slot = this.takeSlot();
    const { range, view } = this.allocateBlock();
    const stubAddress = BLOCKS + slot * BLOCK_SIZE;
    try {
      // SAFETY: a fixed shared mapping of our memory-file range at the slot's address, in
      // the stub's own range (above maxUserAddress: no application mapping is there).
      this.control.inject(SYS_mmap, [stubAddress, BLOCK_SIZE, PROT_RW, MAP_SHARED | MAP_FIXED, STUB_MEMFD, range.offset]);
      const tid = ptraceNative.cloneThread(this.controlTid);
      // stack_t { ss_sp, ss_flags, ss_size } for the injected sigaltstack.
      view.writeBigUInt64LE(BigInt(stubAddress + BLK_ALTSTACK), BLK_SIGALTSTACK);
      view.writeBigUInt64LE(0n, BLK_SIGALTSTACK + 8);
      view.writeBigUInt64LE(BigInt(BLOCK_SIZE - BLK_ALTSTACK), BLK_SIGALTSTACK + 16);
      // Without FSGSBASE the stub keeps the bases itself; a new thread, cloned from the
      // control thread, starts with both 0 (the stub never sets them on that thread).
      view.writeUInt32LE(hostHasFsGsBase() ? 0 : 1, BLK_NO_FSGSBASE);
      view.writeBigUInt64LE(0n, BLK_FS_LOADED);
      view.writeBigUInt64LE(0n, BLK_GS_LOADED);
      // SAFETY: both run on the new thread, still traced and stopped, at the inject gadget
      // (filter A allows them there; seccomp only with filter B's fixed program).
      this.injectInto(tid, SYS_sigaltstack, [stubAddress + BLK_SIGALTSTACK, 0]);
      this.injectInto(tid, SYS_seccomp, [SECCOMP_SET_MODE_FILTER, 0, FPROG_B]);
      // From here on the thread is untraced: it runs to its birth int3 and waits there.
      ptraceNative.parkAndDetach(tid);
      const t = new SystrapThread(this.pid, tid, slot, range, view, stubAddress);
      this.threads.add(t);
      return t;
    } catch (err) {
      this.freeSlots.push(slot);
      this.memoryFile.free(range);
      throw err;
    }
  }

  /** endThread makes `t` exit (it waits at an event) and recycles its slot once it is gone. */
  endThread(t: SystrapThread): void {
    if (t.dead || !this.threads.delete(t)) return;
    t.dead = true;
    if (t.loadedFp?.holder === t) t.loadedFp.holder = null;
    if (this.isReleased) return;
    endThread(t.view);
    this.ending.push(t);
  }

  /** kill ends the whole stub process (a thread's block was found broken); release still frees it. */
  kill(): void {
    if (this.broken) return;
    this.broken = true;
    killProcess(this.pid);
    for (const t of this.threads) t.dead = true;
  }

  release(): void {
    if (this.isReleased) return;
    for (const t of this.threads) {
      t.dead = true;
      if (t.loadedFp?.holder === t) t.loadedFp.holder = null;
    }
    this.control.release();
    // The process is killed: its blocks go back to the memory file.
    for (const t of [...this.threads, ...this.ending]) this.memoryFile.free(t.range);
    this.threads.clear();
    this.ending.length = 0;
  }

  private checkLive(): void {
    if (this.broken) throw new Error(`address space ${this.pid}: its stub process has exited`);
  }

  private takeSlot(): number {
    for (let i = this.ending.length - 1; i >= 0; i--) {
      const t = this.ending[i];
      if (!tgkill(t.pid, t.tid, 0)) {
        this.ending.splice(i, 1);
        this.memoryFile.free(t.range);
        this.freeSlots.push(t.slot);
      }
    }
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    if (this.nextSlot >= BLOCK_SLOTS) throw new HostError(`address space ${this.pid}: more than ${BLOCK_SLOTS} threads`, 11);
    return this.nextSlot++;
  }

  /** allocateBlock takes a zeroed block from the memory file that one sentry view covers. */
  private allocateBlock(): { range: FileRange; view: Buffer } {
    const spanning: FileRange[] = [];
    try {
      for (;;) {
        const range = this.memoryFile.allocate(BLOCK_SIZE);
        try {
          return { range, view: this.memoryFile.view(range.offset, BLOCK_SIZE) };
        } catch {
          spanning.push(range); // it straddles two chunks of the sentry's mapping: take another
        }
      }
    } finally {
      for (const r of spanning) this.memoryFile.free(r);
    }
  }

  private injectInto(tid: number, nr: number, args: number[]): void {
    const r = ptraceNative.injectSyscall(tid, nr, args);
    if (r !== 0) throw new HostError(`address space ${this.pid}: thread ${tid} set-up (syscall ${nr})`, r < 0 ? -r : 71);
  }
}
