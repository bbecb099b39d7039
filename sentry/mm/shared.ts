/**
 * shared holds what private and shared memory have in common: memory-file chunks of
 * CHUNK bytes handed out lazily and recycled through a per-file pool, range queries over
 * a sparse chunk map that cost the smaller of the range and the map, and MemObject, the
 * sparse object behind every MAP_SHARED mapping: SharedAnon for MAP_SHARED|MAP_ANONYMOUS
 * (Linux's shmem file) and a tmpfs file's data (fsimpl/tmpfs), so that /dev/shm, memfd
 * and shared anonymous memory are one mechanism.
 *
 * A MemObject's pages come from the memory file on first touch, by any process mapping
 * it (or a write() to the file), so an object of any size costs nothing until used. Each
 * holder (a VMA mapping part of it, a tmpfs inode) keeps one reference; its chunks go
 * back to the pool with the last.
 */
import type { FileRange, MemoryFile } from '../../platform';
import { Errno, fail } from '../kernel/errors';
import { makeRoom, setFreeBytes } from './oom';

/** CHUNK is the unit anonymous memory is allocated in (64 KiB). */
export const CHUNK = 64 * 1024;
/** POOL_CHUNKS bounds the freed chunks kept for reuse (64 MiB) past RELEASE_DELAY_MS. */
const POOL_CHUNKS = 1024;
/** RELEASE_DELAY_MS is how long the freed chunks past POOL_CHUNKS wait for reuse before they go back to the memory file. */
const RELEASE_DELAY_MS = 1000;

/** allocateOrENOMEM allocates from the memory file, failing with ENOMEM when it is full. */
export function allocateOrENOMEM(mf: MemoryFile, length: number): FileRange {
  if (length > mf.maxSize - mf.usedBytes) fail(Errno.ENOMEM);
  try {
    return mf.allocate(length);
  } catch {
    return fail(Errno.ENOMEM);
  }
}

/**
 * ChunkPool keeps freed chunks of a memory file for reuse, so that fork and exit do not
 * punch holes in the file and fault fresh pages in again for every process. A reused
 * chunk is dirty: it is zeroed unless the caller overwrites all of it.
 */
export class ChunkPool {
  private readonly free: FileRange[] = [];

  constructor(private readonly mf: MemoryFile) {}

  /**
   * take returns a chunk, zero-filled when `zero`; `store` says the sentry is about to
   * write it (a file's data, a copy-on-write copy), so a fresh one is populated in the
   * sentry's mapping first (MemoryFile.populate) rather than page by page as it faults.
   */
  take(zero: boolean, store = false): FileRange {
    makeRoom(this.mf, CHUNK); // past the sandbox's memory limit: the OOM killer (oom.ts)
    const r = this.free.pop();
    if (!r) {
      const fresh = allocateOrENOMEM(this.mf, CHUNK);
      if (store) this.mf.populate(fresh);
      return fresh;
    }
    if (zero) this.mf.fill(r.offset, CHUNK, 0);
    return r;
  }

  /** freeBytes is the memory held for reuse (allocated in the file, used by nobody). */
  get freeBytes(): number {
    return this.free.length * CHUNK;
  }

  /**
   * give takes a chunk back. Past POOL_CHUNKS the pool keeps the chunks for a moment
   * (RELEASE_DELAY_MS) before it gives the oldest back to the file, all in one go
   * (MemoryFile.freeAll: a hole per run of neighbours), as gVisor's allocator decommits
   * in the background: a file truncated and written again at once, or a process exiting
   * and another starting, reuses the pages instead of freeing and faulting them again
   * (256 MiB: 3,072 fallocates and 65,536 page faults). The pool's chunks are not in use
   * (oom.ts's measure excludes them) and are taken before the file grows, so the file
   * never holds more than the most that was in use at once.
   */
  give(r: FileRange): void {
    this.free.push(r);
    if (this.free.length > POOL_CHUNKS && !this.trimming) {
      this.trimming = true;
      setTimeout(() => this.trim(), RELEASE_DELAY_MS).unref();
    }
  }

  private trimming = false;

  /** trim gives the oldest chunks past POOL_CHUNKS back to the memory file. */
  private trim(): void {
    this.trimming = false;
    if (this.free.length <= POOL_CHUNKS) return;
    const excess = this.free.splice(0, this.free.length - POOL_CHUNKS);
    try {
      this.mf.freeAll(excess);
    } catch {
      // The memory file was closed meanwhile (the sandbox is ending): nothing to give back.
    }
  }
}

const pools = new WeakMap<MemoryFile, ChunkPool>();

setFreeBytes((mf) => pools.get(mf)?.freeBytes ?? 0);

/** poolOf returns the chunk pool of a memory file. */
export function poolOf(mf: MemoryFile): ChunkPool {
  let p = pools.get(mf);
  if (!p) pools.set(mf, (p = new ChunkPool(mf)));
  return p;
}

/**
 * chunksIn returns the chunk numbers of `chunks` overlapping [start, end) (bytes),
 * ascending. It walks whichever is smaller: the range's chunk numbers or the map.
 */
export function chunksIn(chunks: { readonly size: number; has(c: number): boolean; keys(): Iterable<number> }, start: number, end: number): number[] {
  const lo = Math.floor(start / CHUNK), hi = Math.ceil(end / CHUNK);
  const out: number[] = [];
  if (hi - lo <= chunks.size) {
    for (let c = lo; c < hi; c++) if (chunks.has(c)) out.push(c);
    return out;
  }
  for (const c of chunks.keys()) if (c >= lo && c < hi) out.push(c);
  return out.sort((a, b) => a - b);
}

/**
 * Mapper is an address space mapping (part of) a MemObject: it is told when pages of the
 * object go away (a file truncated) so that it unmaps them.
 */
export interface Mapper {
  /**
   * invalidate unmaps, in this address space, every page of `mem` at object offsets in
   * [from, to) (default: to the end). A private mapping's copies of those pages go too
   * (the file lost them: truncate), unless `keepCopies` (a hole punch, as Linux's; a page
   * cache evicting a clean chunk: only the object's own pages go).
   */
  invalidate(mem: MemObject, from: number, to?: number, keepCopies?: boolean): void;
  /** mapsWritable tells whether this address space maps (part of) mem writable. */
  mapsWritable(mem: MemObject): boolean;
  /**
   * mayReclaim tells whether mem's chunk c may be taken from under this address space (a
   * page cache reclaiming under memory pressure): not while it is mlocked here, nor while
   * an operation here is mapping it or copying through it (a syscall's views of it: a
   * chunk pending there must stay what it is).
   */
  mayReclaim(mem: MemObject, c: number): boolean;
}

/**
 * MemObject is memory shared by everything mapping it, in memory-file chunks numbered by
 * offset in the object and allocated as they are touched (a hole costs nothing): the
 * object behind a shared anonymous mapping (SharedAnon) and a tmpfs file's data
 * (fsimpl/tmpfs). Each holder (a VMA, an inode) keeps one reference; the chunks go back
 * to the pool with the last. A MAP_SHARED VMA names its object and offset (Vma.shared),
 * which is what keys a shared futex.
 */
export class MemObject {
  /** chunks maps chunk numbers (of offsets in the object) to memory-file ranges. */
  readonly chunks = new Map<number, FileRange>();
  /** mappers are the address spaces that mapped the object (told when pages go away). */
  readonly mappers = new Set<Mapper>();
  private refs = 0;
  /**
   * pins counts, per chunk number, the address spaces that map some page of the chunk
   * (each pins a chunk once, from its first mapping of it until none of its VMAs covers
   * the chunk or its pages there are invalidated): a page cache never evicts a pinned
   * chunk, so a mapped (or mlocked) page stays the same memory while it is mapped.
   */
  private readonly pins = new Map<number, number>();

  constructor(readonly mf: MemoryFile) {}

  /**
   * rssKind is the RSS counter a mapped page of the object counts in, as Linux splits
   * them (/proc/<pid>/status): `shmem` for shared anonymous memory, tmpfs and SysV
   * segments (Linux's shmem), `file` for a host file's page cache (PageCache).
   */
  get rssKind(): 'file' | 'shmem' {
    return 'shmem';
  }

  /** limit is the end (bytes) of what may be mapped: a fault past it is an access violation. */
  get limit(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  /** ref counts one more holder of (part of) the object. */
  ref(): this {
    this.refs++;
    return this;
  }

  /** unref drops a holder's reference; the last gives every chunk back. */
  unref(): void {
    if (--this.refs > 0) return;
    this.flush();
    const pool = poolOf(this.mf);
    for (const r of this.chunks.values()) pool.give(r);
    this.chunks.clear();
    this.mappers.clear();
    this.pins.clear();
    this.released();
  }

  /** mappedWritable tells whether some address space maps (part of) the object writable (F_SEAL_WRITE's EBUSY). */
  mappedWritable(): boolean {
    for (const m of this.mappers) if (m.mapsWritable(this)) return true;
    return false;
  }

  /** pin counts one more address space mapping chunk c (see pins). */
  pin(c: number): void {
    const n = this.pins.get(c) ?? 0;
    this.pins.set(c, n + 1);
    if (n === 0) this.pinned(c, true);
  }

  /** unpin drops an address space's pin of chunk c (one it took with pin). */
  unpin(c: number): void {
    const n = this.pins.get(c);
    if (!n) return; // the object was released meanwhile
    if (n > 1) this.pins.set(c, n - 1);
    else {
      this.pins.delete(c);
      this.pinned(c, false);
    }
  }

  /** pinCount counts the address spaces that map a page of chunk c (1 at least: the divisor of its PSS). */
  pinCount(c: number): number {
    return this.pins.get(c) ?? 1;
  }

  /** isDirtyChunk tells whether chunk c holds bytes its backing does not (memory-only objects: always; a page cache: PageCache). */
  isDirtyChunk(_c: number): boolean {
    return true;
  }

  /** isPinned tells whether some address space maps (a page of) chunk c. */
  isPinned(c: number): boolean {
    return this.pins.has(c);
  }

  /** pinned is told when chunk c gets its first pin (`on`) or loses its last (a page cache keeps its evictable set). */
  protected pinned(_c: number, _on: boolean): void {}

  /** released is called once the last reference is gone (a file gives back its pages). */
  protected released(): void {}

  /** flush is called as the last reference goes, before the chunks are given back (a cached file writes them back). */
  protected flush(): void {}

  /** sync writes the object's bytes at offsets [lo, hi) back to where they come from (msync; nothing for memory-only objects). */
  sync(_lo?: number, _hi?: number): void {}

  /** dirtied tells the object that a mapping of [lo, hi) became writable (a cached file marks those chunks dirty). */
  dirtied(_lo: number, _hi: number): void {}

  /**
   * chunkForCopy returns chunk c for a private mapping to copy a page from (copy-on-write
   * of a file page), or null when the object has no bytes there (a hole: zeros). It
   * stores nothing new here; a page cache reads the chunk from its file.
   */
  chunkForCopy(c: number): FileRange | null {
    return this.chunks.get(c) ?? null;
  }

  /** chunk returns chunk c, allocating it zero-filled when absent (ENOMEM when the memory file is full). */
  chunk(c: number): FileRange {
    let r = this.chunks.get(c);
    if (!r) this.chunks.set(c, (r = poolOf(this.mf).take(true, true)));
    return r;
  }

  /**
   * forMapping returns chunk c for an address space about to map its bytes [lo, hi)
   * (object offsets inside the chunk, below limit); an object that accounts its pages
   * charges them here (and may fail, ENOSPC); `writable` tells whether the mapping is
   * (a cached file marks the chunk dirty).
   */
  forMapping(c: number, _lo: number, _hi: number, _writable = false): FileRange {
    return this.chunk(c);
  }

  /**
   * settle is called once an address space has mapped the chunks it just populated from
   * the object (a page cache trims itself to its bound then: nothing is pending).
   */
  settle(): void {}

  /** readAt copies [at, at+dst.length) of the object into dst (holes read as zeros). */
  readAt(dst: Buffer, at: number): void {
    for (let done = 0; done < dst.length;) {
      const c = Math.floor((at + done) / CHUNK), off = (at + done) % CHUNK;
      const n = Math.min(dst.length - done, CHUNK - off);
      const r = this.chunks.get(c);
      if (r) this.mf.readInto(r.offset + off, dst.subarray(done, done + n));
      else dst.fill(0, done, done + n);
      done += n;
    }
  }

  /** writeAt stores src at `at`, allocating the chunks it touches. */
  writeAt(src: Uint8Array, at: number): void {
    for (let done = 0; done < src.length;) {
      const c = Math.floor((at + done) / CHUNK), off = (at + done) % CHUNK;
      const n = Math.min(src.length - done, CHUNK - off);
      this.mf.writeBytes(this.chunk(c).offset + off, src.subarray(done, done + n));
      done += n;
    }
  }

  /**
   * cut drops the object's bytes from `from` on: every mapper unmaps the pages from
   * pageUp(from) (they are gone: a later access faults), the chunks past it go back to the
   * pool and the rest of the chunk holding `from` is zeroed. It returns the chunk numbers
   * dropped.
   */
  cut(from: number): number[] {
    const pageEnd = Math.ceil(from / 4096) * 4096;
    for (const m of this.mappers) m.invalidate(this, pageEnd);
    const first = Math.ceil(from / CHUNK);
    const dropped = chunksIn(this.chunks, first * CHUNK, Number.MAX_SAFE_INTEGER);
    this.giveBack(dropped);
    const tail = this.chunks.get(Math.floor(from / CHUNK));
    if (tail && from % CHUNK !== 0) this.mf.fill(tail.offset + (from % CHUNK), CHUNK - (from % CHUNK), 0);
    return dropped;
  }

  /** giveBack returns the chunks numbered `cs` to the pool. */
  private giveBack(cs: readonly number[]): void {
    const pool = poolOf(this.mf);
    for (const c of cs) {
      pool.give(this.chunks.get(c)!);
      this.chunks.delete(c);
    }
  }

  /**
   * punch gives back the whole chunks inside [lo, hi) (unmapped first wherever mapped: a
   * later access maps a fresh zeroed chunk; private copies of their pages stay) and zeroes the rest of the range in place. It
   * returns the chunk numbers given back.
   */
  punch(lo: number, hi: number): number[] {
    const first = Math.ceil(lo / CHUNK), last = Math.floor(hi / CHUNK);
    const dropped = first < last ? chunksIn(this.chunks, first * CHUNK, last * CHUNK) : [];
    // A private mapping's copies of the pages stay, as Linux's hole punch leaves COW pages (unmap_mapping_range without even_cows).
    if (dropped.length > 0) for (const m of this.mappers) m.invalidate(this, first * CHUNK, last * CHUNK, true);
    this.giveBack(dropped);
    // The pieces of partly covered chunks, zeroed where stored.
    for (const [pLo, pHi] of first < last ? [[lo, first * CHUNK], [last * CHUNK, hi]] : [[lo, hi]]) {
      for (const c of chunksIn(this.chunks, pLo, pHi)) {
        const a = Math.max(pLo, c * CHUNK), b = Math.min(pHi, (c + 1) * CHUNK);
        this.mf.fill(this.chunks.get(c)!.offset + (a - c * CHUNK), b - a, 0);
      }
    }
    return dropped;
  }
}

/** SharedAnon is the memory behind a shared anonymous mapping, allocated as it is touched. */
export class SharedAnon extends MemObject {
  constructor(mf: MemoryFile, readonly size: number) {
    super(mf);
  }
}

/**
 * MappingRuns gathers pieces to map into an address space, merging those that follow
 * each other in the address space, in the memory file and in protection into one
 * mapping: a fresh file hands out consecutive chunks, so loading a 1.5 MB program text
 * costs one mmap in the stub rather than 24 (each a ptrace round trip).
 */
export class MappingRuns {
  private run: { lo: number; hi: number; offset: number; prot: number } | null = null;
  /** Runs closed but not yet mapped, when the address space maps in batches. */
  private readonly pending: { addr: number; range: FileRange; prot: number }[] = [];

  /**
   * `mapMany`, when the address space has it (AddressSpace.mapFiles), receives every run
   * at flush() in one call (one stop of a stub instead of one per run: fault-around's
   * chunks of a file's page cache, which are rarely adjacent in the memory file).
   */
  constructor(
    private readonly map: (addr: number, range: FileRange, prot: number) => void,
    private readonly mapMany?: (maps: { addr: number; range: FileRange; prot: number }[]) => void,
  ) {}

  /** add queues [lo, hi) backed from `offset` with `prot`. */
  add(lo: number, hi: number, offset: number, prot: number): void {
    const r = this.run;
    if (r && r.hi === lo && r.offset + (r.hi - r.lo) === offset && r.prot === prot) r.hi = hi;
    else {
      this.close();
      this.run = { lo, hi, offset, prot };
    }
  }

  /** flush maps the pending runs. */
  flush(): void {
    this.close();
    if (this.pending.length === 0) return;
    const maps = this.pending.splice(0);
    if (maps.length === 1 || !this.mapMany) for (const m of maps) this.map(m.addr, m.range, m.prot);
    else this.mapMany(maps);
  }

  /** close ends the current run: mapped now, or queued for flush() when batching. */
  private close(): void {
    const r = this.run;
    this.run = null;
    if (!r) return;
    const m = { addr: r.lo, range: { offset: r.offset, length: r.hi - r.lo }, prot: r.prot };
    if (this.mapMany) this.pending.push(m);
    else this.map(m.addr, m.range, m.prot);
  }
}
