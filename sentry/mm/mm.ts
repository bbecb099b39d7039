/**
 * MemoryManager is one application address space as the sentry keeps it: its VMAs, its
 * brk, and the memory-file pages behind them, mirrored into the platform's AddressSpace.
 *
 * Private anonymous memory is allocated lazily in 64 KiB chunks, aligned on 64 KiB of
 * the address: a chunk gets a memory-file range the first time a page of it is touched
 * (a fault from the application, or a copy by the sentry), and each VMA's part of the
 * chunk is mapped with that VMA's protection. munmap zeroes or frees the pages it drops,
 * so a later mapping there reads zeros.
 *
 * Copy-on-write: the private chunks are a ChunkTable (chunk-table.ts) of PrivateChunk
 * records {range, refs}, in segments of 64 chunks that fork shares between parent and
 * child; a table copies a segment (one more reference to each of its chunks) before it
 * changes it. An address space keeps in `writable` the chunks it maps with their VMAs'
 * protections; every other populated chunk is write-protected there, whatever the VMA
 * says (mprotect too maps it read-only): fork empties both sets. The first write to such
 * a chunk (own) copies it into a fresh chunk when another table still holds it, else
 * just maps it writable again. A write comes as an application fault (the ptrace
 * platform cannot tell a write from a read, but a protection fault on a write-protected
 * chunk of a writable VMA can only be a write) or as a store by the sentry (write,
 * writeForce, movePopulated, munmap's zeroing): the sentry never stores into a shared
 * chunk. A chunk goes back to the pool with its last reference (munmap, exit, execve).
 *
 * fork costs a reference per segment (4 MiB populated) and one protect per run of the
 * chunks the parent wrote since its last fork: no page is copied until written, and the
 * child maps nothing at fork but its copies of the forking task's stack and thread
 * pointer chunks, and the code where it resumes (mapCodeAt). Its other chunks (private ones, kept out of `sinceFork`, and those of
 * shared and file objects, as Linux's fork copies no page-table entry of a VMA without
 * private pages) are mapped at its first access, a fault or the sentry's copy through
 * them: the sandbox does not wait in proportion to the parent's size, and a child that
 * execs or exits soon maps little. A child's first write to a private chunk it has not
 * accessed yet takes two faults on the ptrace platform (mapped shared, then copied),
 * which cannot tell a write from a read, except for its first few such faults, taken as
 * writes (FORK_WRITE_GUESSES).
 *
 * Shared memory (a SharedAnon, or a tmpfs file's data mapped MAP_SHARED) is a MemObject
 * (shared.ts) with its own chunks, numbered by offset in the object, allocated as lazily
 * by whichever process touches them first; each address space maps a chunk when it
 * faults on it or copies through it, never past the object's limit (a file's end: the
 * access faults). A truncated file's pages are unmapped from every address space that
 * mapped it (MemObject.cut calls invalidate).
 *
 * Cost: every operation is proportional to the VMAs and populated chunks it touches, never
 * to the length of the range (a 64 TB PROT_NONE reservation costs one VMA until touched).
 * Chunk lookups over a range go through chunksIn (the smaller of the range's chunk count
 * and the populated count), VMA lookups through vmaIndex (binary search).
 *
 * Private file mappings (Vma.file: MAP_PRIVATE of a gofer file's page cache or a tmpfs
 * file's data) map the object's pages read-only, whatever the VMA's protection, so that
 * every process mapping a library shares its pages; the first write to one (a write
 * fault, or a store by the sentry) copies that page into the VMA's private chunk and
 * sets its bit in PrivateChunk.pages, from then on the page mapped there. Until then the
 * page shows the file's later changes, as Linux's MAP_PRIVATE does. The copies are
 * private memory like any other (fork shares them copy-on-write, munmap zeroes them); a
 * truncate of the file drops them with the object's pages (Linux zaps the COW pages too:
 * the access past the end is SIGBUS), a hole punch (as Linux's: fallocate, MADV_REMOVE)
 * and a page cache's eviction do not.
 *
 * Address translation for the sentry's copies (read, write, readString, ioViews) is this
 * module's own: translate and resolve answer from the VMAs and chunk tables which
 * memory-file bytes lie behind an address, after the copy has populated its range and,
 * for a store, broken copy-on-write there (ensure); the platform's address space only
 * runs the application (it has no translate), so no second table answers for it.
 *
 * Commit accounting follows Linux's heuristic overcommit (vm.overcommit_memory=0): a single
 * request that Linux accounts (writable private or shared anonymous memory without
 * MAP_NORESERVE, brk growth) fails with ENOMEM when it is larger than the sandbox's memory
 * (MemoryManager.commitLimit, which boot sets from the container's memory limit).
 *
 * Invariant: `vmas` is sorted, page-aligned, non-overlapping; every populated chunk
 * overlaps at least one VMA; a chunk's pages are mapped exactly where VMAs cover it
 * (a private file VMA's only where its bit is set), without PROT_WRITE unless the chunk
 * is in `writable`; a chunk in `writable` is held by no other table (never shared); a
 * private file VMA's other pages, where mapped, map its object read-only.
 */
import * as os from 'node:os';
import { firstEndingAfter, MemoryFault, PROT_EXEC, PROT_READ, PROT_WRITE, type AccessType, type AddressSpace, type FileRange, type MemoryFile, type Platform } from '../../platform';
import { Errno, fail, LinuxError } from '../kernel/errors';
import { atProcessStart } from '../../native/snapshot';
import { ChunkTable, type PrivateChunk } from './chunk-table';
import { chunksIn, CHUNK, MappingRuns, poolOf, SharedAnon, type Mapper, type MemObject } from './shared';
import { mergeable, PAGE, pageDown, pageUp, VSYSCALL_MAPS_LINE, type Vma } from './vma';

/** ExecLayout is Linux's start_code, end_code, start_data, end_data and start_stack of an address space (MemoryManager.execLayout). */
export interface ExecLayout {
  startCode: bigint;
  endCode: bigint;
  startData: bigint;
  endData: bigint;
  startStack: bigint;
}

/** MemoryUsage is what a VMA, or an address space, has resident (bytes), as /proc/<pid>/smaps and smaps_rollup show it (MemoryManager.usageOf). */
export interface MemoryUsage {
  rss: number;
  pss: number;
  pssDirty: number;
  pssAnon: number;
  pssFile: number;
  pssShmem: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  anon: number;
  locked: number;
}

/** emptyUsage returns a MemoryUsage of zeros (what a VMA with nothing resident shows). */
export function emptyUsage(): MemoryUsage {
  return { rss: 0, pss: 0, pssDirty: 0, pssAnon: 0, pssFile: 0, pssShmem: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, anon: 0, locked: 0 };
}

/** bitCount counts the bits set in a 32-bit value (PrivateChunk.pages). */
function bitCount(n: number): number {
  let k = 0;
  for (let x = n >>> 0; x; x &= x - 1) k++;
  return k;
}

/**
 * mapsLine is VMA v's line in /proc/<pid>/maps (and its header in smaps): names start at
 * column 73 as Linux pads them; private anonymous memory shows offset 0 wherever it was
 * split (Linux prints a VMA's offset only when a file backs it).
 */
export function mapsLine(v: Vma): string {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const p = `${v.prot & PROT_READ ? 'r' : '-'}${v.prot & PROT_WRITE ? 'w' : '-'}${v.prot & PROT_EXEC ? 'x' : '-'}${v.shared && !v.special ? 's' : 'p'}`;
  const line = `${hex(v.start)}-${hex(v.end)} ${p} ${hex(v.shared || v.file || v.name.startsWith('/') ? v.fileOffset : 0)} 00:00 0 `;
  return v.name ? line.padEnd(73) + v.name : line.trimEnd();
}

/** copyRange copies length bytes inside the memory file (view to view when possible). */
function copyRange(mf: MemoryFile, src: number, dst: number, length: number): void {
  try {
    mf.view(src, length).copy(mf.view(dst, length));
  } catch {
    mf.writeBytes(dst, mf.readBytes(src, length));
  }
}

/** PAGES_PER_CHUNK is the number of pages in a chunk (the bits of PrivateChunk.pages). */
const PAGES_PER_CHUNK = CHUNK / PAGE;

/** pageBits returns the PrivateChunk.pages bits of chunk c's pages inside [lo, hi) (page-aligned). */
function pageBits(c: number, lo: number, hi: number): number {
  const first = Math.max(0, (lo - c * CHUNK) / PAGE), last = Math.min(PAGES_PER_CHUNK, (hi - c * CHUNK) / PAGE);
  return first >= last ? 0 : ((1 << last) - 1) & ~((1 << first) - 1);
}

/** objectOf returns what a VMA maps of a MemObject: its shared object, or its private file's. */
function objectOf(v: Vma): { mem: MemObject; offset: number } | null {
  return v.shared ?? v.file ?? null;
}

/**
 * FAULT_AROUND is the aligned span (bytes) around a faulting page of a private file VMA
 * whose pages the file's object already holds are mapped with it, as Linux's fault-around
 * maps the page-cache pages near a fault: a library that another process has read costs
 * one fault per FAULT_AROUND instead of one per chunk.
 */
const FAULT_AROUND = 16 * CHUNK;

/**
 * FORK_WRITE_GUESSES (MemoryManager.forkWriteGuesses) is how many of a fork child's first
 * faults on a chunk it shares with its parent, in a writable VMA, are taken as writes
 * when the platform cannot tell (ptrace): the chunk is copied at once instead of mapped
 * read-only and copied at the next fault. A child's first accesses to its parent's private memory are mostly writes
 * (glibc's fork resets locks and lists in the child; a shell's child sets up its
 * descriptors before exec): a right guess saves a stop and a fault (about 150 us at load
 * 5-7 here), a wrong one costs a 64 KiB copy, at most FORK_WRITE_GUESSES * 64 KiB of
 * memory per child. A guess that finds the memory file full maps the chunk read-only,
 * as a read would.
 */
const FORK_WRITE_GUESSES = 4;

/** MemoryManager is one address space. */
export class MemoryManager implements Mapper {
  /**
   * commitLimit is the largest single accountable request (bytes), like Linux's
   * totalram + swap under heuristic overcommit: the host's memory until boot sets the
   * container's limit (read at the process's start: see atProcessStart below).
   */
  static commitLimit = 0;
  /** forkWriteGuesses is FORK_WRITE_GUESSES, for each fork's child (tests of the plain copy-on-write path set 0). */
  static forkWriteGuesses = FORK_WRITE_GUESSES;

  vmas: Vma[] = [];
  private chunks = new ChunkTable();
  /**
   * writable holds the populated chunks mapped here with their VMAs' protections; the
   * others are write-protected since a fork shared them (copy-on-write, see the header).
   */
  private writable = new Set<number>();
  /**
   * sinceFork is, in a fork's child, the chunks mapped here since the fork (null in an
   * address space that no fork made): the child gets its parent's chunks in its table but
   * maps each only when it is accessed (handleFault, populate), so a fork costs no host
   * mmap, and no work, per chunk of the parent's memory. A chunk in the table and not in
   * this set is not mapped here (unmappedChunk).
   */
  private sinceFork: Set<number> | null = null;
  /** writeGuesses is how many more unknown faults on shared chunks are taken as writes (FORK_WRITE_GUESSES). */
  private writeGuesses = 0;
  brkStart = 0;
  brk = 0;
  /** argv/env ranges of the initial stack, for /proc/<pid>/cmdline and environ. */
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  /** exe is the path of the executable, for /proc/<pid>/exe. */
  exe = '';
  /**
   * execLayout is where exec put the executable's code and data and the initial stack
   * pointer (Linux's start_code, end_code, start_data, end_data, start_stack), for
   * /proc/<pid>/stat, status and statm; zeros before the first exec.
   */
  execLayout: ExecLayout = { startCode: 0n, endCode: 0n, startData: 0n, endData: 0n, startStack: 0n };
  /** auxv is the auxiliary vector exec gave the process (its pairs through AT_NULL), for /proc/<pid>/auxv. */
  auxv: Buffer = Buffer.alloc(0);
  private users = 1;
  /** mapped are the shared objects this address space registered with as a mapper. */
  private readonly mapped = new Set<MemObject>();
  /**
   * pinned holds, per object, the chunks this address space pinned (MemObject.pin): those
   * it mapped a page of, until no VMA here covers the chunk any more (munmap, mremap, exit)
   * or its pages are invalidated here (truncate, hole punch). A page cache never evicts a
   * pinned chunk, so a page stays the same memory while it is mapped (or mlocked); a
   * MADV_DONTNEED'd range stays pinned while its VMA covers it.
   */
  private readonly pinned = new Map<MemObject, Set<number>>();
  /** busFaultAt is the page whose shared memory handleFault could not store (for isBusFault). */
  private busFaultAt = -1;

  constructor(readonly platform: Platform, readonly as: AddressSpace) {
    this.mmapTop = pageDown(platform.maxUserAddress - 0x10000000);
  }

  static create(platform: Platform): MemoryManager {
    return new MemoryManager(platform, platform.newAddressSpace());
  }

  /**
   * mmapTop is the top of the mmap area (Linux's mmap_base): exec chooses it, randomized
   * unless ADDR_NO_RANDOMIZE (loader/aslr.ts); fork copies it. This default (256 MiB below
   * the top) serves an address space that no exec laid out.
   */
  mmapTop: number;

  /** findVma returns the VMA containing addr. */
  findVma(addr: number): Vma | undefined {
    const v = this.vmas[this.vmaIndex(addr)];
    return v && v.start <= addr ? v : undefined;
  }

  /**
   * futexKey names the futex word at addr for a shared (not FUTEX_PRIVATE_FLAG) futex, as
   * Linux's get_futex_key does: in a MAP_SHARED VMA the object mapped and the word's
   * offset in it, so that every process mapping the object at any address finds the same
   * key; in a private VMA this address space and the address. Null when addr is unmapped
   * (EFAULT). A VMA kind that maps another shared object (a tmpfs or shm file backed by
   * the memory file) must return that object here, with the offset in it.
   */
  futexKey(addr: number): { obj: object; off: number } | null {
    const v = this.findVma(addr);
    if (!v) return null;
    return v.shared ? { obj: v.shared.mem, off: v.shared.offset + (addr - v.start) } : { obj: this, off: addr };
  }

  /**
   * mergeAround joins the VMAs that meet [addr, end), and their neighbours, where they are
   * alike (vma.ts: mergeable), as Linux merges after mmap, mprotect, mremap, madvise and
   * mlock: mremap needs its old range inside one VMA (EFAULT otherwise), which a range
   * grown in place in steps must stay (apt's cache grows so), and /proc/<pid>/maps shows
   * one line for it. Called by the syscall handlers once a call has set every attribute.
   */
  mergeAround(addr: number, end: number): void {
    let i = Math.max(0, this.vmaIndex(addr) - 1);
    while (i + 1 < this.vmas.length && this.vmas[i].start <= end) {
      const a = this.vmas[i], b = this.vmas[i + 1];
      if (mergeable(a, b)) {
        a.end = b.end;
        this.vmas.splice(i + 1, 1);
      } else i++;
    }
  }

  /** vmaIndex returns the index of the first VMA that ends after addr (binary search). */
  private vmaIndex(addr: number): number {
    return firstEndingAfter(this.vmas, addr);
  }

  /** hasPrivateIn tells whether a private VMA overlaps [start, end) (never when empty). */
  private hasPrivateIn(start: number, end: number): boolean {
    if (start >= end) return false;
    for (let i = this.vmaIndex(start); i < this.vmas.length && this.vmas[i].start < end; i++) if (!this.vmas[i].shared) return true;
    return false;
  }

  /**
   * chunksIn returns the populated chunk numbers overlapping [start, end), ascending. It
   * walks whichever is smaller: the range's chunk numbers or the populated chunks.
   */
  private chunksIn(start: number, end: number): number[] {
    return chunksIn(this.chunks, start, end);
  }

  /**
   * checkCommit fails with ENOMEM when one accountable request of `length` bytes is larger
   * than the sandbox's memory (Linux's heuristic overcommit check).
   */
  checkCommit(length: number): void {
    if (length > MemoryManager.commitLimit) fail(Errno.ENOMEM);
  }

  /** findFree returns the highest free range of length below `below` (top-down, like Linux). */
  findFree(length: number, below = this.mmapTop): number {
    let top = below;
    for (let i = this.vmas.length - 1; i >= -1; i--) {
      const v = this.vmas[i];
      const lo = v ? v.end : this.platform.minUserAddress;
      if (v && v.start >= top) continue;
      if (top - lo >= length) return pageDown(top - length);
      if (v) top = Math.min(top, v.start);
    }
    return fail(Errno.ENOMEM);
  }

  /** isFree tells whether [addr, addr+len) overlaps no VMA. */
  isFree(addr: number, len: number): boolean {
    const v = this.vmas[this.vmaIndex(addr)];
    return !v || v.start >= addr + len;
  }

  /**
   * mapAnonymous creates a VMA at [addr, addr+length) replacing what was there; `shared`
   * gives it a new SharedAnon. Nothing is allocated or mapped until touched.
   */
  mapAnonymous(addr: number, length: number, prot: number, shared: boolean, name = '', noreserve = false): void {
    if (shared) return this.mapShared(addr, length, prot, new SharedAnon(this.platform.memoryFile, length), 0, name);
    this.checkRange(addr, length);
    this.unmap(addr, length);
    this.insert({ start: addr, end: addr + length, prot, shared: null, name, fileOffset: 0, noreserve });
    this.remapChunks(addr, addr + length);
  }

  /**
   * mapShared creates a VMA at [addr, addr+length) onto `mem` from `offset`, replacing
   * what was there (a new shared mapping, or mremap of one: it stays shared).
   */
  mapShared(addr: number, length: number, prot: number, mem: MemObject, offset: number, name = ''): void {
    this.mapObject({ start: addr, end: addr + length, prot, shared: { mem, offset }, name, fileOffset: 0 });
  }

  /**
   * mapPrivateFile creates a MAP_PRIVATE VMA at [addr, addr+length) onto the file object
   * `mem` from `offset`, replacing what was there: copy-on-write of the file's pages (see
   * the header). Nothing is mapped or copied until touched.
   */
  mapPrivateFile(addr: number, length: number, prot: number, mem: MemObject, offset: number, name = '', noreserve = false): void {
    this.mapObject({ start: addr, end: addr + length, prot, shared: null, file: { mem, offset }, name, fileOffset: offset, noreserve });
  }

  /** mapObject inserts vma (which maps a MemObject) in place of what was there. */
  private mapObject(vma: Vma): void {
    const { mem } = objectOf(vma)!;
    this.checkRange(vma.start, vma.end - vma.start);
    mem.ref(); // first: the range replaced may hold the last reference to mem
    try {
      this.unmap(vma.start, vma.end - vma.start);
    } catch (e) {
      mem.unref();
      throw e;
    }
    this.insert(vma);
    this.register(mem);
  }

  /** register makes this address space one of mem's mappers (told when its pages go). */
  private register(mem: MemObject): void {
    mem.mappers.add(this);
    this.mapped.add(mem);
  }

  /** mapsWritable tells whether a VMA here maps (part of) mem writable. */
  mapsWritable(mem: MemObject): boolean {
    return this.vmas.some((v) => v.shared?.mem === mem && (v.prot & PROT_WRITE) !== 0);
  }

  /**
   * invalidate unmaps here every page of `mem` at object offsets in [from, to) (page
   * boundaries); a private file VMA's copies of them go too unless keepCopies (Mapper).
   */
  invalidate(mem: MemObject, from: number, to = Number.MAX_SAFE_INTEGER, keepCopies = false): void {
    for (const v of this.vmas) {
      const obj = objectOf(v);
      if (obj?.mem !== mem) continue;
      const lo = v.start + Math.max(0, from - obj.offset);
      const hi = Math.min(v.end, v.start + Math.max(0, to - obj.offset));
      if (lo >= hi) continue;
      if (v.file && !keepCopies) this.dropCopies(lo, hi);
      this.as.unmap(lo, hi - lo);
      if (v.file) this.remapChunks(lo, hi); // the copies left
    }
    // The chunks wholly inside [from, to) have no page mapped here now.
    this.unpinChunks(mem, Math.ceil(from / CHUNK) * CHUNK, Math.floor(Math.min(to, Number.MAX_SAFE_INTEGER) / CHUNK) * CHUNK);
  }

  /**
   * held lists the object ranges (offsets [lo, hi) of mem) whose chunks an operation under
   * way here is mapping (populateShared) or copying through (ensure and ioViews inside
   * settlingAfter): none of them may be reclaimed meanwhile (mayReclaim), since a mapping
   * or a view of it is pending. A stack: each operation drops its entries as it ends.
   */
  private held: { mem: MemObject; lo: number; hi: number }[] = [];

  /** holdObjects holds the object ranges behind [start, end) until the settlingAfter under way ends (nothing outside one). */
  private holdObjects(start: number, end: number): void {
    if (!this.unsettled) return;
    for (let i = this.vmaIndex(start); i < this.vmas.length && this.vmas[i].start < end; i++) {
      const v = this.vmas[i], obj = objectOf(v);
      if (!obj) continue;
      const lo = Math.max(v.start, start), hi = Math.min(v.end, end);
      this.held.push({ mem: obj.mem, lo: obj.offset + (lo - v.start), hi: obj.offset + (hi - v.start) });
    }
  }

  /** mayReclaim tells whether mem's chunk c may be reclaimed from under this address space (Mapper). */
  mayReclaim(mem: MemObject, c: number): boolean {
    if (!this.pinned.get(mem)?.has(c)) return true; // not mapped here
    for (const h of this.held) if (h.mem === mem && h.lo < (c + 1) * CHUNK && h.hi > c * CHUNK) return false;
    return this.unlocked(mem, c); // never an mlocked chunk
  }

  /** pinChunk records that this address space maps a page of mem's chunk c (pinned). */
  private pinChunk(mem: MemObject, c: number): void {
    let set = this.pinned.get(mem);
    if (!set) this.pinned.set(mem, (set = new Set()));
    if (set.has(c)) return;
    set.add(c);
    mem.pin(c);
  }

  /** unpinChunks drops this address space's pins of mem's chunks overlapping [lo, hi) (object offsets) but those `keep` names. */
  private unpinChunks(mem: MemObject, lo: number, hi: number, keep?: (c: number) => boolean): void {
    const set = this.pinned.get(mem);
    if (!set || lo >= hi) return;
    for (const c of chunksIn(set, lo, hi)) {
      if (keep?.(c)) continue;
      set.delete(c);
      mem.unpin(c);
    }
    if (set.size === 0) this.pinned.delete(mem);
  }

  /** unpinUncovered drops the pins of mem's chunks overlapping [lo, hi) that no VMA here covers any more (an unmapped range). */
  private unpinUncovered(mem: MemObject, lo: number, hi: number): void {
    if (!this.pinned.has(mem)) return;
    const covers: [number, number][] = [];
    for (const v of this.vmas) {
      const obj = objectOf(v);
      if (obj?.mem === mem) covers.push([obj.offset, obj.offset + (v.end - v.start)]);
    }
    this.unpinChunks(mem, lo, hi, (c) => covers.some(([a, b]) => a < (c + 1) * CHUNK && b > c * CHUNK));
  }

  /**
   * dropCopies forgets the private copies of file pages in [lo, hi), one private file
   * VMA's pages: they map the file's object again when touched.
   */
  private dropCopies(lo: number, hi: number): void {
    for (const c of this.chunksIn(lo, hi)) {
      const bits = pageBits(c, lo, hi);
      if (!((this.chunks.get(c)!.pages ?? 0) & bits)) continue;
      // The bits are the record's: a record shared since a fork is copied first. Without
      // memory for that the copies stay (they hold this process's bytes, not another's).
      if (this.chunks.isShared(c) && !this.tryOwn(c)) continue;
      const chunk = this.chunks.get(c)!;
      chunk.pages = (chunk.pages ?? 0) & ~bits;
    }
  }

  /** copied tells whether the page at addr has a private copy (a private file VMA's page written). */
  private copied(addr: number): boolean {
    const c = Math.floor(addr / CHUNK);
    return (((this.chunks.get(c)?.pages ?? 0) >> ((addr - c * CHUNK) / PAGE)) & 1) === 1;
  }

  private checkRange(addr: number, length: number): void {
    if (addr % PAGE !== 0 || length <= 0 || length % PAGE !== 0) fail(Errno.EINVAL);
    if (addr < this.platform.minUserAddress || addr + length > this.platform.maxUserAddress) fail(Errno.ENOMEM);
  }

  private insert(vma: Vma): void {
    this.vmas.splice(this.vmaIndex(vma.start), 0, vma);
  }

  /** unmap removes [start, start+length) from every VMA, splitting those that straddle it. */
  unmap(start: number, length: number): void {
    // Nothing of the application's lies outside what the platform lets it map (munmap
    // of a range from 0, or across the stub's pages, unmaps what is inside).
    const addr = Math.max(start, this.platform.minUserAddress);
    const end = Math.min(start + length, this.platform.maxUserAddress);
    if (addr >= end) return;
    length = end - addr;
    const kept: Vma[] = [];
    const gone: { mem: MemObject; lo: number; hi: number }[] = [];
    let touched = false;
    for (const v of this.vmas) {
      if (v.end <= addr || v.start >= end) {
        kept.push(v);
        continue;
      }
      touched = true;
      if (v.start < addr) kept.push(this.slice(v, v.start, addr));
      if (v.end > end) kept.push(this.slice(v, end, v.end));
      const obj = objectOf(v);
      if (obj) gone.push({ mem: obj.mem, lo: obj.offset + (Math.max(v.start, addr) - v.start), hi: obj.offset + (Math.min(v.end, end) - v.start) });
      obj?.mem.unref(); // its slices hold their own references
    }
    if (!touched) return;
    this.vmas = kept;
    this.as.unmap(addr, length);
    this.dropChunks(addr, end);
    for (const g of gone) this.unpinUncovered(g.mem, g.lo, g.hi);
  }

  private slice(v: Vma, start: number, end: number): Vma {
    const out: Vma = { ...v, start, end, fileOffset: v.fileOffset + (start - v.start) };
    if (v.shared) out.shared = { mem: v.shared.mem.ref(), offset: v.shared.offset + (start - v.start) };
    if (v.file) out.file = { mem: v.file.mem.ref(), offset: v.file.offset + (start - v.start) };
    return out;
  }

  /**
   * dropChunks zeroes the private chunk pages of [start, end), or frees a chunk when no
   * private VMA keeps pages of it outside the range (munmap, madvise(MADV_DONTNEED)).
   * `strict`: a zeroing that needs a copy-on-write copy the memory file cannot give fails
   * with ENOMEM instead of leaving the old bytes (munmap itself never fails).
   */
  private dropChunks(start: number, end: number, strict = false): void {
    const mf = this.platform.memoryFile;
    for (const c of this.chunksIn(start, end)) {
      const cStart = c * CHUNK;
      const lo = Math.max(start, cStart), hi = Math.min(end, cStart + CHUNK);
      if (!this.hasPrivateIn(cStart, lo) && !this.hasPrivateIn(hi, cStart + CHUNK)) {
        this.dropRef(this.chunks.take(c)!);
        this.writable.delete(c);
      } else {
        // The zeroing is a store: never into a chunk another address space still holds.
        // Without memory for the copy the pages keep this process's old bytes (munmap
        // itself does not fail); a later mapping there reads them until written.
        if (this.chunks.isShared(c) && !this.tryOwn(c)) {
          if (strict) fail(Errno.ENOMEM);
          continue;
        }
        const chunk = this.chunks.get(c)!; // this table's alone now
        if (chunk.pages) chunk.pages &= ~pageBits(c, lo, hi); // a private file VMA's copies there go
        mf.fill(chunk.range.offset + (lo - cStart), hi - lo, 0);
      }
    }
  }

  /** dropRef drops one reference to a private chunk; the last gives it back to the pool. */
  private dropRef(chunk: PrivateChunk): void {
    if (--chunk.refs === 0) poolOf(this.platform.memoryFile).give(chunk.range);
  }

  /**
   * own makes private chunk c exclusive to this address space, copying it when another
   * address space still holds it, and maps it with its VMAs' protections: the write side
   * of copy-on-write (ENOMEM when the memory file is full).
   */
  private own(c: number): void {
    this.unshare(c);
    this.mapChunks([c]);
  }

  /** unshare is own without the mapping: chunk c is this table's alone and in `writable`. */
  private unshare(c: number): void {
    if (this.chunks.isShared(c)) {
      const mf = this.platform.memoryFile;
      const range = poolOf(mf).take(false, true);
      const old = this.chunks.get(c)!;
      copyRange(mf, old.range.offset, range.offset, CHUNK);
      this.dropRef(this.chunks.replace(c, { range, refs: 1, pages: old.pages }));
    }
    this.writable.add(c);
  }

  /** tryOwn is own, telling whether it could (false: the memory file is full). */
  private tryOwn(c: number): boolean {
    try {
      this.own(c);
      return true;
    } catch (e) {
      if (e instanceof LinuxError) return false;
      throw e;
    }
  }

  /**
   * writeProtect maps read-only, within [from, to), the writable private VMAs' parts of
   * the given chunks (ascending): one protect per run of adjacent pages.
   */
  private writeProtect(chunks: ArrayLike<number>, from = 0, to = Number.MAX_SAFE_INTEGER): void {
    let run: { lo: number; hi: number; prot: number } | null = null;
    for (let k = 0; k < chunks.length; k++) {
      const c = chunks[k];
      const cStart = Math.max(c * CHUNK, from), cEnd = Math.min((c + 1) * CHUNK, to);
      for (let i = this.vmaIndex(cStart); i < this.vmas.length && this.vmas[i].start < cEnd; i++) {
        const v = this.vmas[i];
        if (v.shared || !(v.prot & PROT_WRITE)) continue;
        const lo = Math.max(v.start, cStart), hi = Math.min(v.end, cEnd), prot = v.prot & ~PROT_WRITE;
        if (run && run.hi === lo && run.prot === prot) run.hi = hi;
        else {
          if (run) this.as.protect(run.lo, run.hi - run.lo, run.prot);
          run = { lo, hi, prot };
        }
      }
    }
    if (run) this.as.protect(run.lo, run.hi - run.lo, run.prot);
  }

  /**
   * updateRange splits the VMAs straddling addr or end and calls change on each piece
   * inside [addr, end) (with the VMA it was cut from): mprotect and madvise's flags.
   */
  private updateRange(addr: number, end: number, change: (piece: Vma, from: Vma) => void): void {
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= addr || v.start >= end) {
        out.push(v);
        continue;
      }
      if (v.start < addr) out.push(this.slice(v, v.start, addr));
      const mid = this.slice(v, Math.max(v.start, addr), Math.min(v.end, end));
      change(mid, v);
      out.push(mid);
      if (v.end > end) out.push(this.slice(v, end, v.end));
      objectOf(v)?.mem.unref();
    }
    this.vmas = out;
  }

  /** vmasIn returns the VMAs overlapping [addr, end), ascending. */
  private vmasIn(addr: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.vmaIndex(addr); i < this.vmas.length && this.vmas[i].start < end; i++) out.push(this.vmas[i]);
    return out;
  }

  /**
   * discard is madvise(MADV_DONTNEED) on [addr, addr+length) (mapped; the caller checks):
   * private pages read as zeros afterwards (a chunk wholly inside the range goes back to
   * the pool and is unmapped, a later touch populates a fresh one; the rest is zeroed in
   * place), and a shared mapping's pages are unmapped here only (the object keeps them: a
   * later access maps them again). ENOMEM when zeroing a chunk shared since a fork needs
   * a copy the memory file cannot give. Locked VMAs and the vDSO's are refused (EINVAL).
   */
  discard(addr: number, length: number): void {
    const end = addr + length;
    const vmas = this.vmasIn(addr, end);
    if (vmas.some((v) => v.special || v.locked)) fail(Errno.EINVAL); // Linux refuses VM_LOCKED and VM_PFNMAP too
    for (const v of vmas) {
      const lo = Math.max(v.start, addr), hi = Math.min(v.end, end);
      this.as.unmap(lo, hi - lo);
    }
    try {
      this.dropChunks(addr, end, true);
    } finally {
      // The chunks kept (zeroed) are mapped again where private VMAs cover them; a private
      // file VMA's pages map its file again (dropChunks dropped their copies, which
      // breaking copy-on-write may have mapped meanwhile).
      for (const v of vmas) if (v.file) this.as.unmap(Math.max(v.start, addr), Math.min(v.end, end) - Math.max(v.start, addr));
      this.remapChunks(addr, end);
    }
  }

  /**
   * setDontFork marks [addr, addr+length) (mapped; the caller checks) as not inherited by
   * a fork's child (madvise MADV_DONTFORK; `on` false is MADV_DOFORK).
   */
  setDontFork(addr: number, length: number, on: boolean): void {
    if (this.vmasIn(addr, addr + length).some((v) => v.special)) fail(Errno.EINVAL);
    this.updateRange(addr, addr + length, (piece) => {
      if (on) piece.dontFork = true;
      else delete piece.dontFork;
    });
  }

  /**
   * lockFuture is mlockall(MCL_FUTURE)'s mark: later mmaps are locked (populated unless
   * onFault). Not inherited by fork (a new MemoryManager), reset by execve.
   */
  lockFuture: { onFault: boolean } | null = null;

  /** lockedBytes is the size of the locked VMAs (Linux's locked_vm: VmLck, RLIMIT_MEMLOCK's measure). */
  lockedBytes(): number {
    let n = 0;
    for (const v of this.vmas) if (v.locked) n += v.end - v.start;
    return n;
  }

  /**
   * lock is mlock (and munlock with `on` false) of [addr, addr+length), which must be
   * mapped (ENOMEM otherwise, as a hole in Linux): with `limit` (bytes, RLIMIT_MEMLOCK
   * when the caller lacks CAP_IPC_LOCK) the locked total may not exceed it (ENOMEM);
   * locked pages are populated unless `onFault` (MLOCK_ONFAULT: resident as touched).
   * Returns nothing; the VMAs are split at the range's ends.
   */
  lock(addr: number, length: number, on: boolean, limit = Infinity, onFault = false): void {
    const end = addr + length;
    if (!this.isMapped(addr, length)) fail(Errno.ENOMEM);
    if (on) {
      const fresh = this.vmasIn(addr, end).filter((v) => !v.locked).reduce((n, v) => n + Math.min(end, v.end) - Math.max(addr, v.start), 0);
      if (this.lockedBytes() + fresh > limit) fail(Errno.ENOMEM);
    }
    this.updateRange(addr, end, (piece) => {
      if (on) piece.locked = true;
      else delete piece.locked;
    });
    if (on && !onFault) this.populateLocked(addr, end);
  }

  /**
   * lockAll is mlockall(MCL_CURRENT) (every VMA locked, ENOMEM when the mapped total
   * exceeds `limit`) and munlockall with `on` false.
   */
  lockAll(on: boolean, limit = Infinity, onFault = false): void {
    if (on && this.vmas.reduce((n, v) => n + v.end - v.start, 0) > limit) fail(Errno.ENOMEM);
    for (const v of this.vmas) {
      if (on) v.locked = true;
      else delete v.locked;
    }
    if (on && !onFault) this.populateLocked(0, Number.MAX_SAFE_INTEGER);
  }

  /**
   * populateLocked makes the accessible locked pages of [addr, end) resident, as mlock
   * does (a PROT_NONE VMA stays as it is; a shared file's pages stop at its end).
   */
  private populateLocked(addr: number, end: number): void {
    for (const v of this.vmasIn(addr, end)) {
      if (!v.locked || v.prot === 0 || v.special) continue;
      this.populate(Math.max(v.start, addr), Math.min(v.end, end) - Math.max(v.start, addr));
    }
  }

  /**
   * residency is mincore(2)'s vector for [addr, addr+length) (mapped; the caller checks):
   * one byte per page, 1 when memory is behind it (its private chunk is populated, or
   * the shared object holds its chunk), else 0.
   */
  residency(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length / PAGE);
    for (const v of this.vmasIn(addr, addr + length)) {
      const lo = Math.max(v.start, addr), hi = Math.min(v.end, addr + length);
      for (let p = lo; p < hi; p += PAGE) {
        const obj = v.shared ?? (v.file && !this.copied(p) ? v.file : null);
        const has = obj
          ? obj.offset + (p - v.start) < obj.mem.limit && obj.mem.chunks.has(Math.floor((obj.offset + (p - v.start)) / CHUNK))
          : this.chunks.has(Math.floor(p / CHUNK));
        if (has) out[(p - addr) / PAGE] = 1;
      }
    }
    return out;
  }

  /** protect changes the protection of [addr, addr+length), which must be fully mapped. */
  protect(addr: number, length: number, prot: number): void {
    const end = addr + length;
    // Linux applies what it can and fails with ENOMEM on a hole; we check first.
    const mapped = this.vmas.filter((v) => v.start < end && v.end > addr).reduce((n, v) => n + Math.min(end, v.end) - Math.max(addr, v.start), 0);
    if (mapped < length) fail(Errno.ENOMEM);
    if (prot & PROT_WRITE && this.vmas.some((v) => v.start < end && v.end > addr && v.noWrite)) fail(Errno.EACCES);
    if (prot & PROT_EXEC && this.vmas.some((v) => v.start < end && v.end > addr && v.noExec)) fail(Errno.EACCES);
    // Private memory made writable is accounted, unless mapped MAP_NORESERVE (overcommit).
    if (prot & PROT_WRITE) {
      const charged = this.vmas.filter((v) => v.start < end && v.end > addr && !v.shared && !v.noreserve && !(v.prot & PROT_WRITE))
        .reduce((n, v) => n + Math.min(end, v.end) - Math.max(addr, v.start), 0);
      this.checkCommit(charged);
    }
    this.updateRange(addr, end, (mid, v) => {
      mid.prot = prot;
      // A shared file mapping made writable may change what it maps (a cached file's dirty chunks).
      if (mid.shared && prot & PROT_WRITE && !(v.prot & PROT_WRITE)) mid.shared.mem.dirtied(mid.shared.offset, mid.shared.offset + (mid.end - mid.start));
    });
    // A private file VMA's pages not copied yet map its file: read-only until written, never
    // writable even for a moment; its copies get the new protection (remapped below).
    const pieces = this.vmasIn(addr, end);
    let run: { lo: number; hi: number; prot: number } | null = null;
    for (const v of pieces) {
      const p = v.file ? prot & ~PROT_WRITE : prot;
      if (run && run.hi === v.start && run.prot === p) run.hi = v.end;
      else {
        if (run) this.as.protect(run.lo, run.hi - run.lo, run.prot);
        run = { lo: v.start, hi: v.end, prot: p };
      }
    }
    if (run) this.as.protect(run.lo, run.hi - run.lo, run.prot);
    if (prot & PROT_WRITE) for (const v of pieces) if (v.file) this.remapChunks(v.start, v.end);
    // Chunks still shared since a fork stay read-only until written (copy-on-write).
    if (prot & PROT_WRITE && this.writable.size < this.chunks.size) this.writeProtect(this.chunksIn(addr, end).filter((c) => !this.writable.has(c)), addr, end);
  }

  /**
   * populate makes sure every page of [addr, addr+length) inside a VMA has memory behind
   * it, mapped in this address space (through `runs` when given: the caller flushes them).
   */
  populate(addr: number, length: number, runs?: MappingRuns): void {
    const end = addr + length;
    const fresh: number[] = [];
    try {
      for (let i = this.vmaIndex(addr); i < this.vmas.length && this.vmas[i].start < end; i++) {
        const v = this.vmas[i];
        const last = Math.ceil(Math.min(v.end, end) / CHUNK);
        // Chunks present since a fork (a private file VMA's copies too) are mapped now.
        if (this.sinceFork && !v.shared) {
          for (let c = Math.floor(Math.max(v.start, addr) / CHUNK); c < last; c++) {
            if (this.unmappedChunk(c)) {
              this.sinceFork.add(c);
              fresh.push(c);
            }
          }
        }
        if (v.shared || v.file) {
          this.populateShared(v, Math.max(v.start, addr), Math.min(v.end, end), false, runs);
          continue;
        }
        for (let c = Math.floor(Math.max(v.start, addr) / CHUNK); c < last; c++) {
          if (this.chunks.has(c)) continue;
          this.chunks.set(c, { range: poolOf(this.platform.memoryFile).take(true), refs: 1 });
          this.writable.add(c);
          fresh.push(c);
        }
      }
    } finally {
      // What was populated is mapped, even when the memory file ran out (ENOMEM) part-way.
      this.mapChunks(fresh.sort((a, b) => a - b), undefined, runs);
    }
  }

  /**
   * populateShared allocates the chunks of a shared VMA's object behind [lo, hi) (only
   * those already allocated when `existing`) and maps in this address space those of its
   * pieces not mapped here yet (another process may have touched them first). For a
   * private file VMA it maps the object's pages read-only, but those copied here. With
   * `shared` runs, the mappings go there and the caller flushes them.
   */
  private populateShared(v: Vma, lo: number, hi: number, existing = false, shared?: MappingRuns): void {
    const { mem, offset } = objectOf(v)!;
    const cow = !v.shared, prot = cow ? v.prot & ~PROT_WRITE : v.prot;
    // Never past the object's limit (a file's end): an access there faults.
    const limit = mem.limit;
    const oLo = offset + lo - v.start, oHi = Math.min(offset + hi - v.start, limit);
    if (oLo >= oHi) return;
    const runs = shared ?? this.newRuns();
    const depth = this.held.push({ mem, lo: oLo, hi: oHi }) - 1;
    try {
      const numbers = existing ? chunksIn(mem.chunks, oLo, oHi) : null;
      const first = Math.floor(oLo / CHUNK), last = Math.ceil(oHi / CHUNK);
      for (let i = 0; numbers ? i < numbers.length : first + i < last; i++) {
        const c = numbers ? numbers[i] : first + i;
        // The chunk's part inside this VMA (and below the limit), in addresses.
        const aLo = Math.max(v.start, v.start + c * CHUNK - offset), aHi = Math.min(v.end, v.start + Math.min((c + 1) * CHUNK, limit) - offset);
        if (aLo >= aHi || this.isMappedHere(aLo, aHi - aLo)) continue;
        const range = existing ? mem.chunks.get(c)! : mem.forMapping(c, offset + aLo - v.start, offset + aHi - v.start, !cow && (v.prot & PROT_WRITE) !== 0);
        this.pinChunk(mem, c); // mapped here: never evicted while it is
        const at = (a: number) => range.offset + (offset + a - v.start - c * CHUNK);
        if (!cow) runs.add(aLo, aHi, at(aLo), prot);
        else for (let p = aLo; p < aHi; p += PAGE) if (!this.copied(p)) runs.add(p, p + PAGE, at(p), prot);
      }
    } finally {
      if (!shared) runs.flush();
      this.held.length = depth;
      // What was filled is mapped: a cache may trim now, unless views are in use (withViews).
      if (!existing) this.settle(mem);
    }
  }

  /** settle lets mem trim itself now, or once the views in use are done with (withViews). */
  private settle(mem: MemObject): void {
    if (this.unsettled) this.unsettled.add(mem);
    else mem.settle();
  }

  /**
   * copyPages gives the private file VMA v its own copy of each page of [lo, hi) (page
   * boundaries, inside v) not copied yet, with the file's bytes, and maps them with v's
   * protection: the write side of copy-on-write of file pages. Pages at or past the
   * file's end are left alone (an access there is SIGBUS, a store by the sentry EFAULT).
   * ENOMEM when the memory file is full, or the file's error when it cannot be read.
   */
  private copyPages(v: Vma, lo: number, hi: number): void {
    const { mem, offset } = v.file!;
    const mf = this.platform.memoryFile;
    hi = Math.min(hi, v.start + Math.max(0, mem.limit - offset));
    const touched: number[] = [];
    try {
      for (let c = Math.floor(lo / CHUNK); c * CHUNK < hi; c++) {
        const cStart = c * CHUNK, pLo = Math.max(lo, cStart), pHi = Math.min(hi, cStart + CHUNK);
        const bits = pageBits(c, pLo, pHi);
        const have = this.chunks.get(c);
        if (have && ((have.pages ?? 0) & bits) === bits) continue;
        if (!have) {
          this.chunks.set(c, { range: poolOf(mf).take(true), refs: 1, pages: 0 });
          this.writable.add(c);
        } else this.unshare(c); // its bits are this table's to change now
        touched.push(c);
        const chunk = this.chunks.get(c)!;
        for (let p = pLo; p < pHi; p += PAGE) {
          const bit = 1 << ((p - cStart) / PAGE);
          if ((chunk.pages ?? 0) & bit) continue;
          const o = offset + (p - v.start), src = mem.chunkForCopy(Math.floor(o / CHUNK));
          if (src) copyRange(mf, src.offset + (o % CHUNK), chunk.range.offset + (p - cStart), PAGE);
          else mf.fill(chunk.range.offset + (p - cStart), PAGE, 0);
          chunk.pages = (chunk.pages ?? 0) | bit;
        }
      }
    } finally {
      this.mapChunks(touched);
      this.settle(mem);
    }
  }

  /**
   * syncShared writes back what the shared VMAs in [addr, addr+length) map (msync(2): a
   * gofer file's page cache writes its dirty chunks to the host). Like Linux it syncs what
   * is mapped and then fails with ENOMEM when part of the range is not.
   */
  syncShared(addr: number, length: number): void {
    const end = addr + length;
    let at = addr;
    let hole = false;
    for (let i = this.vmaIndex(addr); i < this.vmas.length && this.vmas[i].start < end; i++) {
      const v = this.vmas[i];
      if (v.start > at) hole = true;
      at = v.end;
      if (!v.shared) continue;
      const lo = Math.max(v.start, addr), hi = Math.min(v.end, end);
      v.shared.mem.sync(v.shared.offset + (lo - v.start), v.shared.offset + (hi - v.start));
    }
    if (hole || at < end) fail(Errno.ENOMEM);
  }

  /** unmappedChunk tells whether private chunk c is populated but not mapped here yet (sinceFork). */
  private unmappedChunk(c: number): boolean {
    return this.sinceFork !== null && !this.sinceFork.has(c) && this.chunks.has(c);
  }

  /** isMappedHere tells whether the platform address space maps all of [addr, addr+length). */
  private isMappedHere(addr: number, length: number): boolean {
    return this.as.isMapped(addr, length);
  }

  /** remapChunks maps the populated chunks of [start, end) where private VMAs cover them. */
  private remapChunks(from: number, to: number): void {
    this.mapChunks(this.chunksIn(from, to));
  }

  /**
   * mapChunks maps every private VMA's part of the given populated chunks (ascending chunk
   * numbers; `records` are their records when the caller has them: fork's loop per chunk;
   * `shared` runs, when given, receive the mappings and the caller flushes them).
   */
  private mapChunks(chunks: ArrayLike<number>, records?: ArrayLike<PrivateChunk>, shared?: MappingRuns): void {
    // Nothing to map (populate's usual case: every chunk of a syscall's buffer is there).
    if (chunks.length === 0) return;
    if (this.sinceFork) for (let k = 0; k < chunks.length; k++) this.sinceFork.add(chunks[k]);
    const runs = shared ?? this.newRuns();
    const vmas = this.vmas, anyWritable = this.writable.size > 0;
    let first = 0; // a cursor: the chunks ascend, so the VMAs they meet do too
    for (let k = 0; k < chunks.length; k++) {
      const c = chunks[k];
      const chunk = records ? records[k] : this.chunks.get(c)!, { range } = chunk;
      const cStart = c * CHUNK, cEnd = cStart + CHUNK;
      const mask = anyWritable && this.writable.has(c) ? ~0 : ~PROT_WRITE; // shared since a fork: read-only until written
      while (first < vmas.length && vmas[first].end <= cStart) first++;
      for (let i = first; i < vmas.length && vmas[i].start < cEnd; i++) {
        const v = vmas[i];
        if (v.shared) continue;
        const lo = Math.max(v.start, cStart), hi = Math.min(v.end, cEnd);
        if (!v.file) runs.add(lo, hi, range.offset + (lo - cStart), v.prot & mask);
        else if (chunk.pages) {
          // A private file VMA's copies only: its other pages map the file.
          for (let p = lo; p < hi; p += PAGE) if ((chunk.pages >> ((p - cStart) / PAGE)) & 1) runs.add(p, p + PAGE, range.offset + (p - cStart), v.prot & mask);
        }
      }
    }
    if (!shared) runs.flush();
  }

  /** newRuns gathers mappings for this address space: in one batch at flush where the platform has batches (AddressSpace.mapFiles). */
  private newRuns(): MappingRuns {
    return new MappingRuns((a, r, p) => this.as.mapFile(a, r, p), this.as.mapFiles && ((maps) => this.as.mapFiles!(maps)));
  }

  /**
   * handleFault answers an application page fault: memory not yet populated is
   * populated, and a write to a chunk shared since a fork gets its own copy (true: resume
   * the task); a real access violation returns false. `access` is what the platform could
   * tell: with `unknown` (ptrace), a fault on a write-protected chunk of a writable VMA
   * can only be a write, the chunk being mapped readable (and executable when the VMA
   * is) there; so is an `execute` fault in a VMA that allows execution (ptrace reports
   * `execute` for a store at the instruction's own address). The same holds for a
   * private file VMA's page that maps its file read-only: such a write copies the page.
   */
  handleFault(addr: number, access: AccessType = 'unknown'): boolean {
    const v = this.findVma(addr);
    if (!v || v.prot === 0) return false;
    const c = Math.floor(addr / CHUNK);
    const mayWrite = (v.prot & PROT_WRITE) !== 0 && access !== 'read' && (access !== 'execute' || (v.prot & PROT_EXEC) !== 0);
    if (v.file && !this.copied(pageDown(addr))) return this.fileFault(v, pageDown(addr), access, mayWrite);
    // A chunk present since a fork and not accessed here yet: mapped now (read-only while
    // it is shared: a write, unless the platform tells it, faults again and copies it).
    if (!v.shared && this.unmappedChunk(c)) {
      if (access === 'write' && mayWrite && !this.writable.has(c)) return this.tryOwn(c);
      if (access === 'unknown' && mayWrite && this.writeGuesses > 0 && !this.writable.has(c)) {
        this.writeGuesses--;
        if (this.tryOwn(c)) return true; // else the memory file is full: mapped as for a read
      }
      this.mapChunks([c]);
      return true;
    }
    if (!v.shared && this.chunks.has(c) && !this.writable.has(c)) {
      if (!mayWrite) return false;
      return this.tryOwn(c); // false: the memory file is full (SIGSEGV)
    }
    if (v.shared ? this.isMappedHere(pageDown(addr), PAGE) || v.shared.offset + (pageDown(addr) - v.start) >= v.shared.mem.limit : this.chunks.has(c)) return false;
    try {
      this.populate(pageDown(addr), PAGE);
    } catch (e) {
      if (e instanceof LinuxError) {
        // The memory file (or a tmpfs's size=) is full: for a shared file, Linux's SIGBUS.
        if (v.shared) this.busFaultAt = pageDown(addr);
        return false;
      }
      throw e;
    }
    return true;
  }

  /**
   * fileFault answers a fault on the page at `page` of the private file VMA v, which has
   * no copy of it: the file's page is mapped read-only, or copied when the fault was (or
   * can only be) a write. Past the file's end, or when the file cannot be read, it
   * refuses: isBusFault then tells SIGBUS, as Linux's filemap fault.
   */
  private fileFault(v: Vma, page: number, access: AccessType, mayWrite: boolean): boolean {
    const { mem, offset } = v.file!;
    if (offset + (page - v.start) >= mem.limit) return false;
    try {
      if (this.isMappedHere(page, PAGE)) {
        // The file's page is mapped read-only here: a write to it (copy-on-write), or a real violation.
        if (!mayWrite) return false;
        this.copyPages(v, page, page + PAGE);
      } else if (access === 'write' && mayWrite) this.copyPages(v, page, page + PAGE);
      else {
        // One batch: one stop of a stub for the page and its neighbours.
        const runs = this.newRuns();
        try {
          this.mapFilePageAround(v, page, runs);
        } finally {
          runs.flush();
        }
      }
    } catch (e) {
      if (!(e instanceof LinuxError)) throw e;
      this.busFaultAt = page;
      return false;
    }
    return true;
  }

  /**
   * mapFilePageAround maps the file page at `page` of the private file VMA v (read-only,
   * as fileFault does) and, by fault-around, what the object holds near it (nothing is
   * read for those) into `runs` (the page may be in it twice, the second time with its
   * neighbours: the same mapping). LinuxError when the file cannot be read.
   */
  private mapFilePageAround(v: Vma, page: number, runs: MappingRuns): void {
    this.populate(page, PAGE, runs);
    const lo = Math.max(v.start, page - (page % FAULT_AROUND));
    this.populateShared(v, lo, Math.min(v.end, lo + FAULT_AROUND), true, runs);
  }

  /**
   * mapCodeAt maps, into `runs`, the code page at `addr` and its neighbours when it lies in
   * a private file VMA that allows execution and has no copy of that page (a binary's or
   * library's text): a fork's child resumes at its parent's instruction, so its first
   * fault would be there. Anything else, or a file that cannot be read, is left to the
   * fault.
   */
  private mapCodeAt(addr: number, runs: MappingRuns): void {
    const v = this.findVma(addr), page = pageDown(addr);
    if (!v?.file || !(v.prot & PROT_EXEC) || this.copied(page) || v.file.offset + (page - v.start) >= v.file.mem.limit) return;
    try {
      this.mapFilePageAround(v, page, runs);
    } catch (e) {
      if (!(e instanceof LinuxError)) throw e;
    }
  }

  /**
   * isBusFault tells whether a fault at addr that handleFault refused is Linux's SIGBUS:
   * a shared or private file mapping past its object's end (a truncated file), or a page
   * of an object that could not be stored or read (tmpfs full, the host's error).
   */
  isBusFault(addr: number): boolean {
    const failed = this.busFaultAt === pageDown(addr);
    this.busFaultAt = -1;
    const v = this.findVma(addr), obj = v && objectOf(v);
    return failed || (!!obj && v!.prot !== 0 && !this.copied(pageDown(addr)) && obj.offset + (pageDown(addr) - v!.start) >= obj.mem.limit);
  }

  // --- copy-in/copy-out for syscalls -------------------------------------------------

  private ensure(addr: number, length: number, want: number): void {
    if (length === 0) return;
    if (!Number.isSafeInteger(addr) || addr < 0 || addr + length > this.platform.maxUserAddress) fail(Errno.EFAULT);
    for (let at = addr; at < addr + length;) {
      const v = this.vmaAt(at);
      if (!v || (v.prot & want) !== want) fail(Errno.EFAULT);
      at = v.end;
    }
    this.holdObjects(addr, addr + length);
    this.populate(addr, length);
    if (want & PROT_WRITE) this.ownForStore(addr, addr + length);
  }

  /**
   * ownForStore breaks copy-on-write in [start, end) before the sentry stores there, as
   * the application's writes do: the private chunks shared since a fork become this
   * address space's own, and a private file VMA's pages get their copies.
   */
  private ownForStore(start: number, end: number): void {
    if (this.writable.size < this.chunks.size) for (const c of this.chunksIn(start, end)) if (!this.writable.has(c)) this.own(c);
    for (let i = this.vmaIndex(start); i < this.vmas.length && this.vmas[i].start < end; i++) {
      const v = this.vmas[i];
      if (v.file) this.copyPages(v, Math.max(v.start, pageDown(start)), Math.min(v.end, pageUp(end)));
    }
  }

  // --- address translation -----------------------------------------------------------
  //
  // The memory manager, not the platform, says which memory-file bytes lie behind an
  // application address for the sentry's copies: its VMAs give the protection and the
  // kind of memory, its chunk tables the memory (a private chunk; a shared object's chunk;
  // a private file VMA's copied page, else its file's page). What it answers is what the
  // application itself could access there once the address space maps it: a copy first
  // populates its range (ensure, populate) and, for a store, owns it (ownForStore), as the
  // application's own faults would, and then translates.
  //
  // Cost, measured against the platform's MappingTable that it replaces (CPU time, load
  // 10-15, 7 interleaved rounds, medians): an 8-byte read 581 ns (was 783), a 16-byte
  // write 532 (767), a path read by readString 333 (3,823: no page copied any more), a
  // 4 KiB store's views 454 (640); whole sandboxes under ptrace, dd of 20,000 single bytes
  // 0.98x and ls -lR 0.97x the CPU time of main's.

  /**
   * lastVma is where vmaAt last found a VMA (an index in `vmas`): a syscall's copies
   * mostly land in the VMA of the one before (its stack, its buffer). A hint only: vmaAt
   * checks that the VMA at that index now contains the address, which is then the VMA
   * that does (VMAs never overlap), so no change of `vmas` has to reset it.
   */
  private lastVma = 0;

  /** vmaAt is findVma through the lastVma hint (a binary search when it misses). */
  private vmaAt(addr: number): Vma | undefined {
    const hint = this.vmas[this.lastVma];
    if (hint !== undefined && hint.start <= addr && addr < hint.end) return hint;
    const i = this.vmaIndex(addr), v = this.vmas[i];
    if (v === undefined || v.start > addr) return undefined;
    this.lastVma = i;
    return v;
  }

  /** resolved is the length of the piece resolve last found (a field, so that no copy allocates an answer). */
  private resolved = 0;

  /**
   * resolve returns the memory-file offset behind application address `at` for an access
   * `want` (PROT_READ to load, PROT_WRITE to store) and sets `resolved` to how many bytes
   * from there, before `end`, follow in the memory file (at least one); -1 when `at` may
   * not be accessed so: no VMA there, or a VMA without `want`; memory not populated (a
   * hole); a shared or private file mapping's page at or past its object's end (a
   * truncated file: EFAULT for the sentry, SIGBUS for the application); or a store into
   * memory this address space does not own, which the application's store would fault
   * on too: a private chunk shared since a fork (copy-on-write, not in `writable`) or a
   * private file VMA's page not copied yet (the file's own page). `store` says the access
   * is a store: a PROT_WRITE `want`, or writeForce's, which wants no protection.
   */
  private resolve(at: number, end: number, want: number, store = (want & PROT_WRITE) !== 0): number {
    const v = this.vmaAt(at);
    if (v === undefined || (v.prot & want) !== want) return -1;
    const stop = end < v.end ? end : v.end;
    if (v.shared) return this.resolveObject(v.shared, v, at, stop);
    const c = Math.floor(at / CHUNK), cStart = c * CHUNK;
    const chunk = this.chunks.get(c);
    if (v.file) {
      // The file's page where not copied here; no store there (copy-on-write).
      const pages = chunk?.pages ?? 0;
      if (pages === 0) return store ? -1 : this.resolveObject(v.file, v, at, Math.min(stop, cStart + CHUNK));
      const page = at - (at % PAGE);
      if (((pages >> ((page - cStart) / PAGE)) & 1) === 0) return store ? -1 : this.resolveObject(v.file, v, at, Math.min(stop, page + PAGE));
      if (store && !this.writable.has(c)) return -1;
      this.resolved = Math.min(stop, page + PAGE) - at;
      return chunk!.range.offset + (at - cStart);
    }
    if (chunk === undefined || (store && !this.writable.has(c))) return -1;
    this.resolved = Math.min(stop, cStart + CHUNK) - at;
    return chunk.range.offset + (at - cStart);
  }

  /** resolveObject is resolve in the VMA v mapping `obj` (its shared object, or its file's pages), up to `stop`. */
  private resolveObject(obj: { mem: MemObject; offset: number }, v: Vma, at: number, stop: number): number {
    const o = obj.offset + (at - v.start), limit = obj.mem.limit;
    if (o >= limit) return -1;
    const c = Math.floor(o / CHUNK);
    const range = obj.mem.chunks.get(c);
    if (range === undefined) return -1;
    this.resolved = Math.min(stop - at, (c + 1) * CHUNK - o, limit - o);
    return range.offset + (o - c * CHUNK);
  }

  /**
   * translate returns the memory-file ranges behind [addr, addr+length) for an access
   * `want` (resolve says which may be accessed), adjacent ranges merged, or throws
   * MemoryFault naming the first address that may not. It populates and owns nothing:
   * read, write and ioViews do that first. A Translator (platform/memfile/copy.ts).
   */
  translate(addr: number, length: number, want: number): FileRange[] {
    const out: FileRange[] = [];
    const at = this.translateInto(addr, length, want, out);
    if (at !== addr + length) throw new MemoryFault(at, want);
    return out;
  }

  /**
   * translateInto appends to `out` the ranges behind the longest prefix of [addr,
   * addr+length) that may be accessed with `want` (merging adjacent ones it appends) and
   * returns where that prefix ends: addr + length when it is all of it.
   */
  private translateInto(addr: number, length: number, want: number, out: FileRange[]): number {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr < 0 || length < 0) return addr;
    const end = addr + length, first = out.length;
    let at = addr;
    while (at < end) {
      const offset = this.resolve(at, end, want);
      if (offset < 0) break;
      const n = this.resolved, last = out.length > first ? out[out.length - 1] : undefined;
      if (last !== undefined && last.offset + last.length === offset) last.length += n;
      else out.push({ offset, length: n });
      at += n;
    }
    return at;
  }

  /** load copies application memory at addr into `out` and returns where it stopped: addr + out.length, or the first address not readable. */
  private load(addr: number, out: Uint8Array): number {
    const mf = this.platform.memoryFile, end = addr + out.length;
    let at = addr;
    while (at < end) {
      const offset = this.resolve(at, end, PROT_READ);
      if (offset < 0) break;
      const n = this.resolved;
      mf.readInto(offset, out.subarray(at - addr, at - addr + n));
      at += n;
    }
    return at;
  }

  /**
   * store copies `data` into application memory at addr and returns where it stopped:
   * addr + data.length, or the first address that is not writable (`want` is the
   * protection required: PROT_WRITE, but 0 for writeForce) or not owned here.
   */
  private store(addr: number, data: Uint8Array, want = PROT_WRITE): number {
    const mf = this.platform.memoryFile, end = addr + data.length;
    let at = addr;
    while (at < end) {
      const offset = this.resolve(at, end, want, true);
      if (offset < 0) break;
      const n = this.resolved;
      mf.writeBytes(offset, n === data.length ? data : data.subarray(at - addr, at - addr + n));
      at += n;
    }
    return at;
  }

  /**
   * loadString reads the NUL-terminated string at addr of at most `max` bytes (without
   * the NUL), piece by piece, never translating past the NUL: undefined when the max + 1
   * bytes it may read hold none, null when it meets an address it may not read first.
   */
  private loadString(addr: number, max: number): string | undefined | null {
    const mf = this.platform.memoryFile, end = addr + max + 1;
    let parts: Buffer[] | null = null;
    for (let at = addr; at < end;) {
      const offset = this.resolve(at, end, PROT_READ);
      if (offset < 0) return null;
      // One view of the sentry's mapping of the file at a time (its chunks are apart).
      const view = mf.view(offset, Math.min(this.resolved, mf.chunkSize - (offset % mf.chunkSize)));
      const nul = view.indexOf(0);
      // Most strings lie in one piece: decoded from the memory file with no copy.
      if (nul >= 0 && parts === null) return view.toString('utf8', 0, nul);
      (parts ??= []).push(Buffer.from(nul >= 0 ? view.subarray(0, nul) : view));
      if (nul >= 0) return Buffer.concat(parts).toString('utf8');
      at += view.length;
    }
    return undefined;
  }

  /** read copies length bytes from application memory (EFAULT when not readable). */
  read(addr: number | bigint, length: number): Buffer {
    const a = Number(addr);
    return this.settlingAfter(() => {
      this.ensure(a, length, PROT_READ);
      const out = Buffer.allocUnsafe(length);
      if (this.load(a, out) < a + length) fail(Errno.EFAULT);
      return out;
    });
  }

  /** write copies data into application memory (EFAULT when not writable). */
  write(addr: number | bigint, data: Uint8Array): void {
    const a = Number(addr);
    this.settlingAfter(() => {
      this.ensure(a, data.length, PROT_WRITE);
      if (this.store(a, data) < a + data.length) fail(Errno.EFAULT);
    });
  }

  /** unsettled, while withViews runs, collects the objects populated, to settle once the views are done with. */
  private unsettled: Set<MemObject> | null = null;

  /**
   * withViews calls `use` with ioViews(iovs, max, store) and returns what it returns. No
   * object populated meanwhile settles (a page cache evicts nothing) until `use` is done,
   * so that no view reaches memory given back while it is in use: populating one buffer
   * could otherwise evict a chunk behind another, or behind an earlier part of the same.
   */
  withViews<T>(iovs: readonly { base: number | bigint; len: number }[], max: number, store: boolean, use: (views: Buffer[]) => T): T {
    return this.settlingAfter(() => use(this.ioViews(iovs, max, store)));
  }

  /**
   * settlingAfter runs fn with the objects it populates settling only once it returns:
   * a copy that populates its range and then translates it never finds a chunk of it
   * evicted in between.
   */
  private settlingAfter<T>(fn: () => T): T {
    const outer = this.unsettled;
    const pending = (this.unsettled = outer ?? new Set());
    const depth = this.held.length;
    try {
      return fn();
    } finally {
      this.held.length = depth;
      this.unsettled = outer;
      if (!outer) for (const mem of pending) mem.settle();
    }
  }

  /**
   * ioViews returns views of the memory file behind up to `max` bytes of the application
   * buffers `iovs`, in order, for a read(2) into them (`store`: the sentry writes there)
   * or a write(2) from them, so that a file's data move without a copy through a sentry
   * buffer. The views cover the longest prefix that is mapped with the access wanted
   * (PROT_WRITE to store, PROT_READ to load) and, in a shared file mapping, below the
   * file's end: as Linux copies up to the first fault and returns what it did, a caller
   * transfers that prefix, and fails with EFAULT only when it is empty (no views). Every
   * buffer is populated before any is translated, and for a store the private chunks are
   * made this address space's own first (copy-on-write broken), so a view never reaches a
   * chunk another address space shares. Use the views at once, inside withViews: a later
   * change of the address space or a page cache's eviction may give their memory to
   * something else.
   */
  ioViews(iovs: readonly { base: number | bigint; len: number }[], max: number, store: boolean): Buffer[] {
    const want = store ? PROT_WRITE : PROT_READ;
    const ranges: { a: number; end: number }[] = [];
    let left = max;
    for (const iov of iovs) {
      const a = Number(iov.base), n = Math.min(iov.len, left);
      if (n <= 0) {
        if (left <= 0) break;
        continue;
      }
      if (!Number.isSafeInteger(a) || a < 0) break;
      const stop = Math.min(a + n, this.platform.maxUserAddress);
      let end = a;
      for (let i = this.vmaIndex(a); end < stop; i++) {
        const v = this.vmas[i];
        if (!v || v.start > end || (v.prot & want) !== want) break;
        end = Math.min(v.end, stop);
      }
      if (end > a) ranges.push({ a, end });
      left -= end - a;
      if (end < a + n) break;
    }
    for (const { a, end } of ranges) this.holdObjects(a, end);
    for (const { a, end } of ranges) {
      this.populate(a, end - a);
      if (store) this.ownForStore(a, end);
    }
    const out: FileRange[] = [];
    // A shared file mapping past the file's end has no pages: the views stop there.
    for (const { a, end } of ranges) if (this.translateInto(a, end - a, want, out) < end) break;
    return this.platform.memoryFile.views(out);
  }

  /** writeForce copies data ignoring protections (the ELF loader, signal frames on a read-only page are not allowed: use write). */
  writeForce(addr: number, data: Uint8Array): void {
    this.ensure(addr, data.length, 0);
    // A store all the same: never into a chunk shared since a fork, nor a file's own page
    // (a private file VMA stores into its copies; none past the file's end: EFAULT).
    this.ownForStore(addr, addr + data.length);
    if (this.store(addr, data, 0) < addr + data.length) fail(Errno.EFAULT);
  }


  /** readString reads a NUL-terminated string of at most max bytes (ENAMETOOLONG beyond). */
  readString(addr: number | bigint, max = 4096): string {
    const a = Number(addr);
    if (a === 0) fail(Errno.EFAULT);
    // Populate the first VMA's part; the string rarely leaves it.
    const v = this.findVma(a);
    if (!v || !(v.prot & PROT_READ)) fail(Errno.EFAULT);
    this.populate(a, Math.min(max + 1, v.end - a));
    let s = this.loadString(a, max);
    if (s === null) {
      // The string may continue into the next VMA: populate it and try once more; a
      // string that runs into an unmapped or unreadable page before its NUL is EFAULT.
      this.populate(a, max + 1);
      s = this.loadString(a, max);
      if (s === null) fail(Errno.EFAULT);
    }
    if (s === undefined) fail(Errno.ENAMETOOLONG);
    return s;
  }

  /**
   * movePopulated gives dst (mapped, private, its VMAs in place) the bytes of [src,
   * src+length) regardless of protections, for mremap: a private chunk that the range
   * holds whole (no private VMA has pages of it outside the range), when dst is as far
   * from src as a whole number of chunks and the destination chunk is empty, moves there
   * by reference (no copy; it stays copy-on-write if it was); the other populated pieces
   * and the shared backing are copied, so pages never touched stay untouched at dst too
   * (both read as zeros). The moved chunks are unmapped at src: the caller then unmaps
   * [src, src+length) or discards it (MREMAP_DONTUNMAP).
   */
  movePopulated(src: number, length: number, dst: number): void {
    const mf = this.platform.memoryFile;
    const end = src + length;
    const moved = this.moveChunks(src, length, dst);
    const pieces: { at: number; offset: number; n: number }[] = [];
    for (let i = this.vmaIndex(src); i < this.vmas.length && this.vmas[i].start < end; i++) {
      const v = this.vmas[i];
      if (!v.shared) continue;
      const { mem, offset } = v.shared;
      const lo = Math.max(v.start, src), hi = Math.min(v.end, end);
      const oLo = offset + (lo - v.start), oHi = offset + (hi - v.start);
      for (const c of chunksIn(mem.chunks, oLo, oHi)) {
        const pLo = Math.max(oLo, c * CHUNK), pHi = Math.min(oHi, (c + 1) * CHUNK);
        pieces.push({ at: v.start + (pLo - offset), offset: mem.chunks.get(c)!.offset + (pLo - c * CHUNK), n: pHi - pLo });
      }
    }
    for (const c of this.chunksIn(src, end)) {
      if (moved.has(c)) continue;
      const cStart = c * CHUNK, { range } = this.chunks.get(c)!;
      for (let i = this.vmaIndex(cStart); i < this.vmas.length && this.vmas[i].start < cStart + CHUNK; i++) {
        const v = this.vmas[i];
        if (v.shared) continue;
        const lo = Math.max(v.start, cStart, src), hi = Math.min(v.end, cStart + CHUNK, end);
        // A private file VMA moves its copies only: dst maps the same file for the rest.
        if (v.file) for (let p = lo; p < hi; p += PAGE) if (this.copied(p)) pieces.push({ at: p, offset: range.offset + (p - cStart), n: PAGE });
        if (!v.file && lo < hi) pieces.push({ at: lo, offset: range.offset + (lo - cStart), n: hi - lo });
      }
    }
    for (const p of pieces) {
      for (let done = 0; done < p.n;) {
        const n = Math.min(p.n - done, 1 << 20);
        this.writeForce(dst + (p.at - src) + done, mf.readBytes(p.offset + done, n));
        done += n;
      }
    }
  }

  /** moveChunks moves the chunks movePopulated can move by reference; it returns their old numbers. */
  private moveChunks(src: number, length: number, dst: number): Set<number> {
    const moved = new Set<number>();
    if ((dst - src) % CHUNK !== 0) return moved;
    const end = src + length, shift = (dst - src) / CHUNK;
    const fresh: number[] = [];
    let run: { lo: number; hi: number } | null = null; // the source pages to unmap, one call per run
    for (const c of this.chunksIn(src, end)) {
      const cStart = c * CHUNK, cEnd = cStart + CHUNK, d = c + shift;
      if (this.hasPrivateIn(cStart, src) || this.hasPrivateIn(end, cEnd) || this.chunks.has(d)) continue;
      // The destination chunk's pages outside dst's range must read as zeros: so are the
      // source chunk's outside private VMAs (munmap zeroes them), but a private VMA next
      // to dst could still use that chunk when it is populated there (checked above).
      this.chunks.set(d, this.chunks.take(c)!);
      if (this.writable.delete(c)) this.writable.add(d);
      moved.add(c);
      fresh.push(d);
      const lo = Math.max(src, cStart), hi = Math.min(end, cEnd);
      if (run && run.hi === lo) run.hi = hi;
      else {
        if (run) this.as.unmap(run.lo, run.hi - run.lo);
        run = { lo, hi };
      }
    }
    if (run) this.as.unmap(run.lo, run.hi - run.lo);
    this.mapChunks(fresh);
    return moved;
  }

  /** isMapped tells whether every page of [addr, addr+length) is in some VMA. */
  isMapped(addr: number, length: number): boolean {
    const end = addr + length;
    let at = addr;
    for (let i = this.vmaIndex(addr); at < end; i++) {
      const v = this.vmas[i];
      if (!v || v.start > at) return false;
      at = v.end;
    }
    return true;
  }

  /** vmUsage returns the bytes mapped in all and in private writable mappings (RLIMIT_AS/DATA). */
  vmUsage(): { total: number; data: number } {
    let total = 0, data = 0;
    for (const v of this.vmas) {
      total += v.end - v.start;
      if (!v.shared && v.prot & PROT_WRITE && v.name !== '[stack]') data += v.end - v.start;
    }
    return { total, data };
  }

  /** mappedIn returns how many bytes of [start, start + length) are mapped. */
  mappedIn(start: number, length: number): number {
    const end = start + length;
    let n = 0;
    for (let i = this.vmaIndex(start); i < this.vmas.length && this.vmas[i].start < end; i++) {
      const v = this.vmas[i];
      n += Math.min(end, v.end) - Math.max(start, v.start);
    }
    return n;
  }

  // --- brk ---------------------------------------------------------------------------

  /** setBrk implements brk(2): it returns the new (or unchanged) break. */
  setBrk(addr: number): number {
    if (addr < this.brkStart) return this.brk;
    const oldEnd = pageUp(this.brk), newEnd = pageUp(addr);
    if (newEnd > oldEnd) {
      if (!this.isFree(oldEnd, newEnd - oldEnd)) return this.brk;
      if (newEnd > this.mmapTop || newEnd - oldEnd > MemoryManager.commitLimit) return this.brk;
      const heap = this.vmas.find((v) => v.name === '[heap]' && v.end === oldEnd);
      if (heap) {
        heap.end = newEnd;
        this.remapChunks(oldEnd, newEnd);
      } else {
        this.mapAnonymous(oldEnd, newEnd - oldEnd, PROT_READ | PROT_WRITE, false, '[heap]');
      }
    } else if (newEnd < oldEnd) {
      this.unmap(newEnd, oldEnd - newEnd);
    }
    this.brk = addr;
    return addr;
  }

  // --- fork and teardown -------------------------------------------------------------

  /**
   * fork returns a copy of this address space in a new platform address space. Private
   * chunks are shared copy-on-write (see the header): their table's segments are shared,
   * they are write-protected in both, no page is copied, except the chunks at the `hot`
   * addresses (the forking task's stack and thread pointer), which both sides write at
   * once: the child gets its copy of each now, so neither takes a fault for it. The code
   * at `code` (the forking task's instruction pointer, where the child resumes) is mapped
   * in the child in the same batch as those copies (mapCodeAt), and the child's first
   * few faults on shared chunks are taken as writes (FORK_WRITE_GUESSES).
   */
  fork(hot: readonly number[] = [], code?: number): MemoryManager {
    const child = MemoryManager.create(this.platform);
    Object.assign(child, { mmapTop: this.mmapTop, brkStart: this.brkStart, brk: this.brk, argStart: this.argStart, argEnd: this.argEnd, envStart: this.envStart, envEnd: this.envEnd, exe: this.exe, auxv: this.auxv, execLayout: this.execLayout });
    // Shared VMAs share their object (the child maps its chunks when it touches them).
    for (const v of this.vmas) {
      if (v.dontFork) continue; // madvise(MADV_DONTFORK): the child does not get it
      const copy: Vma = { ...v };
      if (v.shared) copy.shared = { mem: v.shared.mem.ref(), offset: v.shared.offset };
      if (v.file) copy.file = { mem: v.file.mem.ref(), offset: v.file.offset };
      delete copy.locked; // memory locks are not inherited (mlock(2))
      child.vmas.push(copy);
      const obj = objectOf(v);
      if (obj) child.register(obj.mem);
    }
    // The table's segments are shared, not copied; the parent write-protects what it had
    // writable (the rest is read-only since an earlier fork) before it runs again, but
    // for the hot chunks that were writable: the child's copy leaves them the parent's alone.
    child.chunks = this.chunks.fork();
    try {
      // The chunks of MADV_DONTFORK ranges are the parent's alone (zeroed in the child
      // where another VMA shares the chunk).
      for (const v of this.vmas) if (v.dontFork && !v.shared) child.dropChunks(v.start, v.end);
      const kept = new Set<number>();
      for (const addr of hot) {
        const c = Math.floor(addr / CHUNK), v = this.findVma(addr);
        if (!v || v.shared || v.dontFork || !(v.prot & PROT_WRITE) || !child.chunks.has(c) || child.writable.has(c)) continue;
        child.unshare(c);
        if (this.writable.has(c)) kept.add(c);
      }
      const fresh = [...this.writable].filter((c) => !kept.has(c)).sort((a, b) => a - b);
      this.writable = kept;
      this.writeProtect(fresh);
      // The child maps now only its own copies (the hot chunks); the rest when it accesses
      // them (sinceFork): a child that soon execs or exits maps nearly none of them.
      child.sinceFork = new Set();
      child.writeGuesses = MemoryManager.forkWriteGuesses;
      const runs = child.newRuns();
      try {
        child.mapChunks([...child.writable].sort((a, b) => a - b), undefined, runs);
        if (code !== undefined) child.mapCodeAt(code, runs);
      } finally {
        runs.flush();
      }
      // The objects' chunks (shared memory, file pages) are not mapped now, as Linux's fork
      // copies no page-table entries of a VMA without private pages (vma_needs_copy): the
      // child's first access maps them (handleFault, with fault-around for files). A fork
      // then costs no host mmap per run of a binary's or library's pages, which a child
      // that soon execs or exits never touches.
    } catch (e) {
      child.release();
      throw e;
    }
    return child;
  }

  /** ref counts a user (CLONE_VM threads share one manager). */
  ref(): this {
    this.users++;
    return this;
  }

  /** release frees everything when the last user goes. */
  /** soleUser says whether one task alone uses this memory manager (its release frees it). */
  get soleUser(): boolean {
    return this.users === 1;
  }

  release(): void {
    if (--this.users > 0) return;
    this.chunks.release((chunk) => this.dropRef(chunk));
    this.writable.clear();
    this.sinceFork = null;
    for (const [mem, set] of this.pinned) for (const c of set) mem.unpin(c);
    this.pinned.clear();
    for (const v of this.vmas) objectOf(v)?.mem.unref();
    for (const mem of this.mapped) mem.mappers.delete(this);
    this.mapped.clear();
    this.vmas = [];
    this.as.release();
  }

  /** residentBytes is the private memory populated so far (Linux's RssAnon; see rss). */
  get residentBytes(): number {
    return this.chunks.size * CHUNK;
  }

  /**
   * rss is the memory this address space has mapped, split as Linux's RSS counters are
   * (/proc/<pid>/status RssAnon, RssFile, RssShmem; in bytes, to the chunk): `anon` its
   * private chunks (anonymous memory and copies of file pages; a chunk shared copy-on-
   * write since a fork counts on both sides, as Linux counts a page in every process
   * whose page table maps it), `file` the chunks of host files' page caches it maps and
   * `shmem` those of shared anonymous memory, tmpfs files and SysV segments (MemObject.
   * rssKind), each clipped to the object's end. A shared chunk counts in every address
   * space that maps it (pinned); the sandbox's memory use counts it once (oom.ts).
   */
  rss(): { anon: number; file: number; shmem: number } {
    let file = 0, shmem = 0;
    for (const [mem, set] of this.pinned) {
      const limit = mem.limit;
      let n = 0;
      for (const c of set) n += Math.max(0, Math.min(CHUNK, limit - c * CHUNK));
      if (mem.rssKind === 'file') file += n;
      else shmem += n;
    }
    return { anon: this.residentBytes, file, shmem };
  }

  /**
   * usageOf measures what VMA v (one of this address space's) has resident, as
   * /proc/<pid>/smaps shows it (bytes): each populated chunk behind v adds the bytes of it
   * inside v to `rss`, and those bytes divided by the address spaces holding the chunk to
   * `pss` (a private chunk shared copy-on-write since a fork: the tables holding it; an
   * object's: those pinning it), under `shared` or `private` by whether another holds it,
   * and `dirty` unless it is a clean page-cache chunk. A private file VMA's pages count as
   * anonymous where copied and as the file's elsewhere; an object's chunk counts where
   * this address space maps it (pinned), below the object's end. `locked` is the PSS of a
   * locked VMA. The figures are to the page where a chunk straddles VMAs.
   */
  usageOf(v: Vma): MemoryUsage {
    const u = emptyUsage();
    const add = (bytes: number, sharers: number, dirty: boolean, kind: 'anon' | 'file' | 'shmem') => {
      if (bytes <= 0) return;
      const pss = bytes / sharers;
      u.rss += bytes;
      u.pss += pss;
      if (dirty) u.pssDirty += pss;
      if (kind === 'anon') {
        u.pssAnon += pss;
        u.anon += bytes;
      } else if (kind === 'file') u.pssFile += pss;
      else u.pssShmem += pss;
      if (sharers > 1) {
        if (dirty) u.sharedDirty += bytes;
        else u.sharedClean += bytes;
      } else if (dirty) u.privateDirty += bytes;
      else u.privateClean += bytes;
      if (v.locked) u.locked += pss;
    };
    // The copied pages of a private file VMA's chunk inside [lo, hi).
    const copiedIn = (chunk: PrivateChunk, c: number, lo: number, hi: number) => bitCount((chunk.pages ?? 0) & pageBits(c, lo, hi)) * PAGE;
    if (!v.shared) {
      for (const c of this.chunksIn(v.start, v.end)) {
        const chunk = this.chunks.get(c)!, lo = Math.max(v.start, c * CHUNK), hi = Math.min(v.end, (c + 1) * CHUNK);
        add(v.file ? copiedIn(chunk, c, lo, hi) : hi - lo, this.chunks.sharers(c), true, 'anon');
      }
    }
    const obj = objectOf(v), set = obj && this.pinned.get(obj.mem);
    if (obj && set) {
      const { mem, offset } = obj;
      const oEnd = Math.min(offset + (v.end - v.start), mem.limit);
      for (const c of chunksIn(set, offset, oEnd)) {
        const oLo = Math.max(offset, c * CHUNK), oHi = Math.min(oEnd, (c + 1) * CHUNK);
        let bytes = oHi - oLo;
        if (v.file) {
          // Pages copied here map the private copy, not the file's page.
          for (let p = v.start + (oLo - offset); p < v.start + (oHi - offset); p += PAGE) if (this.copied(p)) bytes -= PAGE;
        }
        add(bytes, mem.pinCount(c), mem.isDirtyChunk(c), mem.rssKind);
      }
    }
    return u;
  }

  /** rollup is the sum of usageOf over every VMA: /proc/<pid>/smaps_rollup's figures. */
  rollup(): MemoryUsage {
    const r = emptyUsage();
    for (const v of this.vmas) {
      const u = this.usageOf(v);
      for (const k of Object.keys(r) as (keyof MemoryUsage)[]) r[k] += u[k];
    }
    return r;
  }

  /** unlocked tells whether no locked VMA here maps mem's chunk c. */
  private unlocked(mem: MemObject, c: number): boolean {
    for (const v of this.vmas) {
      const obj = objectOf(v);
      if (!v.locked || obj?.mem !== mem) continue;
      if (obj.offset < (c + 1) * CHUNK && obj.offset + (v.end - v.start) > c * CHUNK) return false;
    }
    return true;
  }

  /** rssBytes is all of rss (Linux's VmRSS, what the OOM killer weighs). */
  get rssBytes(): number {
    const r = this.rss();
    return r.anon + r.file + r.shmem;
  }

  /**
   * describe renders /proc/<pid>/maps: names start at column 73 as Linux pads them, and the
   * vsyscall page (emulated, see kernel/vsyscall.ts) ends the list as in Linux's xonly mode.
   */
  describe(): string {
    const lines = this.vmas.map(mapsLine);
    lines.push(VSYSCALL_MAPS_LINE);
    return lines.join('\n') + '\n';
  }
}

// The host's memory, until boot sets the container's limit: read at the process's start
// (a start-up snapshot must not carry the builder's figure: native/snapshot.ts).
atProcessStart(() => { MemoryManager.commitLimit = os.totalmem(); });
