/**
 * address-space is the ptrace AddressSpace: one stub process whose memory is built by
 * injecting mmap/munmap/mprotect of memory-file ranges into its control thread.
 *
 * The control thread is the stub's first thread (for an address space this JavaScript
 * thread created) or a thread handed over by the owner (adopted on a worker). Only the
 * owner changes mappings. Its MappingTable of what the stub maps answers isMapped and
 * limits mprotect to the mapped runs (the host's fails on a hole); the sentry translates
 * addresses through its memory manager, not through this table.
 * New stub threads are cloned from the control thread, which makes them traced by the
 * same JavaScript thread (PTRACE_O_TRACECLONE).
 *
 * An address space of a platform with a pool (stub-pool.ts) gives its stub back to the
 * pool at release instead of killing it, and starts there the munmap of all it mapped,
 * which the control thread runs on any CPU while the sentry goes on (the unmapping is
 * the dear part: 1.1 ms for a forked child's few mappings at load 7). One made over an
 * idle stub (reuse) waits for that munmap's end before anything else reaches the stub:
 * an injected call, a thread's clone, a switch.
 */
import * as native from '../../native/ptrace/ptrace-native';
import { HostError } from '../../native/libc';
import { MappingTable } from '../memfile/mappings';
import type { MemoryFile } from '../memfile/memory-file';
import { PAGE_SIZE, type AddressSpace, type FileRange, type Prot } from '../platform';
import { killProcess } from './host';
import { MIN_USER_ADDRESS, STUB_BASE, STUB_MEMFD } from './stub-layout';
import { StubThread } from './stub-thread';
import type { IdleStub, StubPool } from './stub-pool';
import { PHASES, phaseAdd } from '../../native/phases';
import { setStubThreadName, setStubTitle } from './title';

const SYS_mmap = 9, SYS_mprotect = 10, SYS_munmap = 11;
const MAP_SHARED = 1, MAP_FIXED = 0x10;
/** RESET_CALL unmaps the whole application range: started at a stub's return to the pool (stub-pool.ts). */
const RESET_CALL = [SYS_munmap, [MIN_USER_ADDRESS, STUB_BASE - MIN_USER_ADDRESS]] as const;

/** AddressSpaceTicket hands a parked stub thread to another JavaScript thread (postMessage-able). */
export interface AddressSpaceTicket {
  pid: number;
  tid: number;
}

/**
 * batchPages holds each memory file's batch page: one page every stub of that file maps
 * read-only at STUB_BATCH_PAGE (native/stub/layout.h), where the JavaScript thread that
 * owns the file writes the list of calls an injectBatch runs. One per file suffices:
 * address spaces change their mappings only on the thread that created them, the file's
 * owner, one batch at a time.
 */
const batchPages = new WeakMap<MemoryFile, FileRange>();

function batchPageOf(mf: MemoryFile): FileRange {
  let r = batchPages.get(mf);
  if (!r) {
    r = mf.allocate(PAGE_SIZE);
    batchPages.set(mf, r);
  }
  return r;
}

/** MapRequest is one mapping of AddressSpace.mapFiles. */
export interface MapRequest {
  addr: number;
  range: FileRange;
  prot: Prot;
}

/** Leaders that could not be reaped yet (threads traced elsewhere still exiting). */
const zombies = new Set<number>();

/**
 * reapAllStubs waits for every killed stub not yet reaped (Platform.release: nothing of
 * the sandbox may outlive it). Each was sent SIGKILL, so each wait is short.
 */
export function reapAllStubs(): void {
  for (const pid of [...zombies]) {
    try {
      native.waitThread(pid, false);
    } catch {
      // ECHILD: already reaped
    }
    zombies.delete(pid);
  }
}

/**
 * idleStubReset says whether the reset of idle stub `idle` (the munmap started as it
 * entered the pool) has ended, looking without waiting; its result is kept in
 * idle.resetResult (a later reuse does not wait for it).
 */
export function idleStubReset(idle: IdleStub): boolean {
  if (idle.resetResult !== undefined) return true;
  const r = native.pollSyscall(idle.control.tid);
  if (r === undefined) return false;
  idle.resetResult = r;
  return true;
}

/** killIdleStub kills a stub the pool kept (stub-pool.ts) and leaves it to the next reaping. */
export function killIdleStub(idle: IdleStub): void {
  killProcess(idle.pid);
  for (const t of idle.threads) {
    t.dead = true;
    zombies.add(t.tid);
  }
  idle.control.dead = true;
  zombies.add(idle.pid);
}

function reapZombies(): void {
  for (const pid of zombies) {
    try {
      if (native.waitThread(pid, true) !== undefined) zombies.delete(pid);
    } catch {
      zombies.delete(pid);
    }
  }
}

/** PtraceAddressSpace is one stub process seen from the JavaScript thread that traces its control thread. */
export class PtraceAddressSpace implements AddressSpace {
  private readonly table = new MappingTable();
  private readonly threads = new Set<StubThread>();
  private released = false;
  /** titled is set once the title page is mapped (title.ts); titleComm and titleArgs are what the process shows. */
  private titled = false;
  private titleComm = '';
  private titleArgs = Buffer.alloc(0);
  /** dead is set when a thread of the stub was seen killed: the whole process is gone. */
  dead = false;
  /** cpuSeenNs is the stub process's CPU time (ns) when it was last sampled. */
  cpuSeenNs = 0;
  /** cpuRunner is the context whose thread ran here last: the time since the sample is its. */
  cpuRunner: { cpuUnflushedNs: number } | null = null;

  /** flushCpu samples the stub's CPU clock and credits its growth to the context that ran last. */
  flushCpu(): void {
    const now = native.processCpuNs(this.pid);
    if (now === undefined) return;
    if (this.cpuRunner && now > this.cpuSeenNs) this.cpuRunner.cpuUnflushedNs += now - this.cpuSeenNs;
    this.cpuSeenNs = now;
  }

  /** onRelease is called once by release() (the platform forgets the address space). */
  onRelease: (() => void) | undefined;
  /** pool, when set, takes the stub at release (stub-pool.ts) instead of its being killed. */
  pool: StubPool | undefined;
  /** resetPending: the munmap of the previous user's memory was started and its end not seen yet (reuse); see the header. */
  private resetPending = false;
  /** idleThreads are threads an idle stub brought along, handed out by newThread before any clone. */
  private idleThreads: StubThread[] = [];
  /** initialFp is the FP image a reused thread starts from when a switch brings none. */
  private initialFp: Buffer | undefined;
  /** left are the threads contexts left to the release that follows (closing). */
  private readonly left = new Set<StubThread>();
  /**
   * pinControl: the control thread follows this JavaScript thread's CPU before injected
   * calls, as a context's thread does before a switch (the ptrace platform's spaces; the
   * systrap backend places its threads itself). A fork's faults and mappings are injected
   * calls: across CPUs each cost 170-900 us at load 5-6, against about 40 on one.
   */
  pinControl = false;
  /** shared: a thread was handed to a worker (share), which traces it: never pooled. */
  private shared = false;

  /** hostPid is the stub process (AddressSpace.hostPid). */
  get hostPid(): number {
    return this.pid;
  }

  private constructor(readonly pid: number, private readonly control: StubThread, readonly owner: boolean, private readonly memoryFile?: MemoryFile) {
    this.threads.add(control);
  }

  /**
   * PtraceAddressSpace.spawn starts a new stub over `memoryFile`, traced by this thread
   * (`stub` names the binary: the systrap backend builds on this one with its own stub).
   */
  static spawn(memoryFile: MemoryFile, stub: native.StubName = 'tvisor-stub', started?: number): PtraceAddressSpace {
    reapZombies();
    let pid: number;
    if (started === undefined) pid = native.spawnStub(memoryFile.fd, stub, batchPageOf(memoryFile).offset);
    else {
      native.finishStub(started);
      pid = started;
    }
    return new PtraceAddressSpace(pid, new StubThread(pid, pid), true, memoryFile);
  }

  /**
   * PtraceAddressSpace.start starts a stub over `memoryFile` without waiting for it (its
   * child sets itself up and execs meanwhile) and returns its pid, for spawn(..., pid)
   * later on this thread, or native.abandonStub(pid) if it is not wanted.
   */
  static start(memoryFile: MemoryFile, stub: native.StubName = 'tvisor-stub'): number {
    return native.startStub(memoryFile.fd, stub, batchPageOf(memoryFile).offset);
  }

  /**
   * PtraceAddressSpace.reuse makes an address space over `idle`, a stub that a released
   * one left in `pool`: empty as a new stub's once its reset has ended (see the header);
   * its threads start from `initialFp` unless a switch loads a task's FP state.
   */
  static reuse(memoryFile: MemoryFile, idle: IdleStub, pool: StubPool, initialFp: Buffer | undefined): PtraceAddressSpace {
    const as = new PtraceAddressSpace(idle.pid, idle.control, true, memoryFile);
    as.pool = pool;
    as.pinControl = true;
    as.resetPending = true;
    if (idle.resetResult !== undefined) {
      // Its end was seen already (idleStubReset): a failure kills it, as flushReset would.
      if (idle.resetResult < 0) as.failReset(-idle.resetResult);
      as.resetPending = false;
    }
    as.idleThreads = idle.threads;
    as.initialFp = initialFp;
    as.titled = idle.titled;
    // Its CPU clock so far was the previous user's.
    as.cpuSeenNs = native.processCpuNs(idle.pid) ?? 0;
    return as;
  }

  /** needsReset says whether the previous user's mappings are still to be unmapped (reuse). */
  get needsReset(): boolean {
    return this.resetPending;
  }

  /** flushReset waits for the end of the munmap of the previous user's memory if it has not been seen yet (reuse). */
  flushReset(): void {
    if (!this.resetPending) return;
    this.checkLive();
    const t0 = PHASES.on ? performance.now() : 0;
    const r = native.finishSyscall(this.control.tid);
    if (PHASES.on) phaseAdd('stubs:reset-wait', performance.now() - t0);
    if (r < 0) this.failReset(-r);
    this.resetPending = false;
  }

  /** failReset: the stub could not be emptied; it must never run: it is killed. */
  private failReset(errno: number): never {
    this.dead = true;
    killProcess(this.pid);
    throw new HostError(`address space ${this.pid}: unmapping its previous user's memory`, errno);
  }

  /** PtraceAddressSpace.adopt seizes a ticket's parked thread; the result can run contexts but not change mappings. */
  static adopt(ticket: AddressSpaceTicket): PtraceAddressSpace {
    native.seize(ticket.tid);
    return new PtraceAddressSpace(ticket.pid, new StubThread(ticket.pid, ticket.tid), false);
  }

  /** controlThread is the thread used for injected syscalls (tests read its registers). */
  get controlThread(): StubThread {
    return this.control;
  }

  mapFile(addr: number, range: FileRange, prot: Prot): void {
    this.checkMap(addr, range);
    const r = this.inject(SYS_mmap, [addr, range.length, prot, MAP_SHARED | MAP_FIXED, STUB_MEMFD, range.offset]);
    if (r !== addr) throw new Error(`address space ${this.pid}: mmap at 0x${addr.toString(16)} returned 0x${r.toString(16)}`);
    this.table.map(addr, range, prot);
  }

  /**
   * mapFiles maps each request in order, as mapFile would, in one stop of the stub per
   * BATCH_MAX requests (injectBatch) instead of one per request. A failure throws what
   * mapFile would have thrown for that request; those before it stay mapped, those after
   * it are not mapped.
   */
  mapFiles(maps: readonly MapRequest[]): void {
    if (maps.length === 1) return this.mapFile(maps[0].addr, maps[0].range, maps[0].prot);
    let valid = 0;
    try {
      for (; valid < maps.length; valid++) this.checkMap(maps[valid].addr, maps[valid].range);
    } finally {
      // What was valid is mapped even when a later request is not (as one mapFile each would).
      for (let i = 0; i < valid; i += native.BATCH_MAX) {
        const part = maps.slice(i, Math.min(valid, i + native.BATCH_MAX));
        // A MAP_FIXED mmap that succeeds maps at its address: the batch stops at any failure.
        this.injectBatch(part.map((m) => [SYS_mmap, [m.addr, m.range.length, m.prot, MAP_SHARED | MAP_FIXED, STUB_MEMFD, m.range.offset]]), (k) => {
          const m = part[k];
          this.table.map(m.addr, m.range, m.prot);
        });
      }
    }
  }

  unmap(addr: number, length: number): void {
    this.checkMutable(addr, length);
    this.inject(SYS_munmap, [addr, length]);
    this.table.unmap(addr, length);
  }

  protect(addr: number, length: number, prot: Prot): void {
    this.checkMutable(addr, length);
    // Only what the stub has mapped can change: the sentry maps memory lazily, so part of a
    // VMA (or all of it, e.g. a PROT_NONE thread stack) may have nothing behind it yet, and
    // the host's mprotect fails with ENOMEM on such a hole.
    for (const run of this.table.mappedRuns(addr, length)) this.inject(SYS_mprotect, [run.start, run.end - run.start, prot]);
    this.table.protect(addr, length, prot);
  }

  isMapped(addr: number, length: number): boolean {
    if (!this.owner) throw new Error(`address space ${this.pid}: isMapped only on the thread that created it`);
    return Array.isArray(this.table.translate(addr, length, 0));
  }

  /** mappings lists the current mappings (for tests and /proc/pid/maps). */
  mappings(): ReturnType<MappingTable['list']> {
    return this.table.list();
  }

  /**
   * setTitle shows `comm` and `args` as the stub process's name and command line
   * (title.ts; AddressSpace.setTitle). Only the owner can: it holds the control thread.
   * Threads cloned afterwards start with the name.
   */
  setTitle(comm: string, args: Buffer): void {
    if (!this.owner || !this.memoryFile) throw new Error(`address space ${this.pid}: titles are set only on the thread that created it`);
    this.checkLive();
    // The same title again (a name set twice, a loop of prctl calls) costs no host call.
    if (this.titled && comm === this.titleComm && args.equals(this.titleArgs)) return;
    setStubTitle(this.memoryFile, (nr, a) => this.inject(nr, a), comm, args, this.titled);
    this.titled = true;
    this.titleComm = comm;
    this.titleArgs = Buffer.from(args);
  }

  /**
   * setThreadName names stub thread `t` of this process (stopped, traced by this
   * JavaScript thread: a context's) `comm`, as the task it runs named itself; the
   * process's name and arguments stay (title.ts).
   */
  setThreadName(t: StubThread, comm: string): void {
    if (!this.owner || !this.memoryFile) throw new Error(`address space ${this.pid}: threads are named only on the thread that created it`);
    this.checkLive();
    if (t.pid !== this.pid || t.dead) throw new Error(`address space ${this.pid}: thread ${t.tid} is not a live thread of it`);
    if (t.name === comm) return;
    setStubThreadName(this.memoryFile, (nr, a) => this.inject(nr, a), (nr, a) => {
      const r = native.injectSyscall(t.tid, nr, a);
      if (r < 0) throw new HostError(`address space ${this.pid}: thread ${t.tid}: syscall ${nr}`, -r);
      return r;
    }, comm, this.titleArgs, this.titled);
    this.titled = true;
    t.name = comm;
  }

  /** newThread clones a stub thread traced by this JavaScript thread (or hands out one an idle stub brought). */
  newThread(): StubThread {
    this.checkLive();
    this.flushReset();
    const idle = this.idleThreads.pop();
    if (idle) {
      idle.reuse(this.initialFp);
      this.threads.add(idle);
      return idle;
    }
    if (this.pinControl) native.pinThread(this.control.tid, this.control.state);
    const t = new StubThread(this.pid, native.cloneThread(this.control.tid));
    if (this.titled) t.name = this.titleComm; // a clone starts with the control thread's name
    this.threads.add(t);
    return t;
  }

  /** forgetThread is called by a context that disposed of its thread here. */
  forgetThread(t: StubThread): void {
    this.threads.delete(t);
  }

  /** leaveThread is called by a context that leaves its thread here to the release that follows (closing): the pool may keep it. */
  leaveThread(t: StubThread): void {
    if (this.threads.has(t)) this.left.add(t);
  }

  /**
   * share clones a stub thread, parks it untraced in pause() and returns a ticket for
   * another JavaScript thread (a worker) to adopt with PtraceAddressSpace.adopt. Until
   * adopted, the parked thread costs nothing; if the owner releases first, it dies too.
   */
  share(): AddressSpaceTicket {
    if (!this.owner) throw new Error(`address space ${this.pid}: only its creator can share it`);
    this.checkLive();
    this.flushReset();
    this.shared = true;
    const tid = native.cloneThread(this.control.tid);
    native.parkAndDetach(tid);
    return { pid: this.pid, tid };
  }

  /**
   * release ends the stub threads this JavaScript thread traces; the owner also kills the
   * process and reaps it (later, if threads traced by workers are still exiting).
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease?.();
    if (!this.owner) {
      for (const t of this.threads) t.dispose();
      return;
    }
    if (this.giveToPool()) return;
    killProcess(this.pid);
    // Reaping is deferred: a killed stub takes a moment to die, and waiting for it here
    // would put that moment on the path of every exit (and exec, and fork+exit loops).
    // What is not reaped now is reaped by a later release.
    for (const t of [...this.threads, ...this.idleThreads]) {
      t.dead = true;
      if (t !== this.control) zombies.add(t.tid);
    }
    this.control.dead = true;
    zombies.add(this.pid);
    reapZombies();
    // Reap what was still dying a moment later, even if no other release comes.
    if (zombies.size > 0) setTimeout(reapZombies, 20).unref();
  }

  /**
   * giveToPool hands the stub to the pool (stub-pool.ts), its reset started, and returns
   * true, or returns false when it must be killed: no pool, or full; the stub dead, or
   * shared with a worker; a thread of it that no context left here. The live FP state a
   * kept thread holds is saved into its task's image first.
   */
  private giveToPool(): boolean {
    if (!this.pool || this.dead || this.shared || this.control.dead) return false;
    const threads = [...this.idleThreads];
    for (const t of this.threads) {
      if (t === this.control) continue;
      if (t.dead || !this.left.has(t)) return false;
      threads.push(t);
    }
    if (!this.pool.hasRoom) return false;
    try {
      for (const t of threads) t.detachFp();
      // Everything it mapped goes, on any CPU, while the sentry goes on (see the header).
      native.startSyscall(this.control.tid, RESET_CALL[0], RESET_CALL[1]);
    } catch {
      return false; // a thread that cannot be read or resumed is not kept
    }
    this.control.state[0] = -1; // no longer pinned: the next injection pins it again
    return this.pool.put({ pid: this.pid, control: this.control, threads, titled: this.titled });
  }

  /** closingSoon is set by closing(): release() follows (AddressSpace.closing). */
  closingSoon = false;

  /** closing marks the address space as about to be released: contexts leave their threads to it (AddressSpace.closing). */
  closing(): void {
    this.closingSoon = true;
  }

  /** isReleased says whether release() was called. */
  get isReleased(): boolean {
    return this.released;
  }

  /**
   * inject runs host syscall `nr` on the control thread at the stub's inject gadget and
   * returns its result (HostError on failure). Public for the systrap backend, which maps
   * its per-thread blocks outside the application's range through it.
   */
  inject(nr: number, args: number[]): number {
    this.checkLive();
    this.flushReset();
    if (this.pinControl) native.pinThread(this.control.tid, this.control.state);
    const r = native.injectSyscall(this.control.tid, nr, args);
    if (r < 0) {
      if (r === -3) this.dead = true; // ESRCH: the stub is gone
      throw new HostError(`address space ${this.pid}: syscall ${nr}`, -r);
    }
    return r;
  }

  /**
   * injectBatch runs host syscalls `calls` ([nr, arguments] each, at most BATCH_MAX) on
   * the control thread in one stop: the list goes to the batch page, the stub runs it
   * through its inject gadget and stops after the last call or at the first that fails.
   * `done(i)` is called for each call that succeeded, in order; a failure throws
   * the HostError inject would have thrown for that call (the calls after it were not run).
   * Public, as inject is, for tests and the systrap backend.
   */
  injectBatch(calls: readonly (readonly [number, readonly number[]])[], done?: (i: number) => void): void {
    this.checkLive();
    if (!this.owner || !this.memoryFile) throw new Error(`address space ${this.pid}: batches run only on the thread that created it`);
    if (calls.length === 0) return;
    if (calls.length > native.BATCH_MAX) throw new RangeError(`address space ${this.pid}: batch of ${calls.length} calls (at most ${native.BATCH_MAX})`);
    this.flushReset();
    const page = this.memoryFile.view(batchPageOf(this.memoryFile).offset, PAGE_SIZE);
    calls.forEach(([nr, args], i) => {
      if (args.length > 6 || !args.every(Number.isSafeInteger)) throw new RangeError(`syscall ${nr}: bad arguments ${args.join(',')}`);
      const at = i * native.BATCH_ENTRY_SIZE;
      page.writeBigInt64LE(BigInt(nr), at);
      for (let k = 0; k < 6; k++) page.writeBigInt64LE(BigInt(args[k] ?? 0), at + 8 + 8 * k);
    });
    let r: { done: number; result: number };
    try {
      if (this.pinControl) native.pinThread(this.control.tid, this.control.state);
      r = native.injectBatch(this.control.tid, calls.length);
    } catch (e) {
      if (e instanceof HostError && e.errno === 3) this.dead = true; // ESRCH: the stub is gone
      throw e;
    }
    for (let i = 0; i < r.done; i++) done?.(i);
    if (r.done < calls.length) throw new HostError(`address space ${this.pid}: syscall ${calls[r.done][0]}`, -r.result);
  }

  private checkMap(addr: number, range: FileRange): void {
    this.checkMutable(addr, range.length);
    if (range.offset % PAGE_SIZE || range.offset < 0 || !this.memoryFile || range.offset + range.length > this.memoryFile.size) {
      throw new RangeError(`address space ${this.pid}: memory-file range [${range.offset}, +${range.length}) is invalid`);
    }
  }

  private checkMutable(addr: number, length: number): void {
    if (!this.owner) throw new Error(`address space ${this.pid}: mappings change only on the thread that created it`);
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr % PAGE_SIZE || length % PAGE_SIZE || length <= 0) {
      throw new RangeError(`address space ${this.pid}: [0x${addr.toString(16)}, +0x${length.toString(16)}) is not page-aligned`);
    }
    if (addr < MIN_USER_ADDRESS || addr + length > STUB_BASE) {
      throw new RangeError(`address space ${this.pid}: [0x${addr.toString(16)}, +0x${length.toString(16)}) is outside user memory`);
    }
  }

  private checkLive(): void {
    if (this.released) throw new Error(`address space ${this.pid}: released`);
    if (this.dead) throw new Error(`address space ${this.pid}: its stub process has exited`);
  }
}
