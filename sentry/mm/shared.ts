/**
 * shared holds what private and shared anonymous memory have in common: memory-file
 * chunks of CHUNK bytes handed out lazily and recycled through a per-file pool, range
 * queries over a sparse chunk map that cost the smaller of the range and the map, and
 * SharedAnon, the object behind a MAP_SHARED|MAP_ANONYMOUS mapping (Linux's shmem file).
 *
 * A SharedAnon's pages come from the memory file on first touch, by any process mapping
 * it, so a shared mapping of any size costs nothing until used. Each VMA mapping part of
 * it holds one reference; its chunks go back to the pool with the last.
 */
import type { FileRange, MemoryFile } from '../../platform';
import { Errno, fail } from '../kernel/errors';

/** CHUNK is the unit anonymous memory is allocated in (64 KiB). */
export const CHUNK = 64 * 1024;
/** POOL_CHUNKS bounds the freed chunks kept for reuse (64 MiB). */
const POOL_CHUNKS = 1024;

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

  take(zero: boolean): FileRange {
    const r = this.free.pop();
    if (!r) return allocateOrENOMEM(this.mf, CHUNK);
    if (zero) this.mf.fill(r.offset, CHUNK, 0);
    return r;
  }

  give(r: FileRange): void {
    if (this.free.length < POOL_CHUNKS) this.free.push(r);
    else this.mf.free(r);
  }
}

const pools = new WeakMap<MemoryFile, ChunkPool>();

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
export function chunksIn(chunks: Map<number, FileRange>, start: number, end: number): number[] {
  const lo = Math.floor(start / CHUNK), hi = Math.ceil(end / CHUNK);
  const out: number[] = [];
  if (hi - lo <= chunks.size) {
    for (let c = lo; c < hi; c++) if (chunks.has(c)) out.push(c);
    return out;
  }
  for (const c of chunks.keys()) if (c >= lo && c < hi) out.push(c);
  return out.sort((a, b) => a - b);
}

/** SharedAnon is the memory behind a shared anonymous mapping, allocated as it is touched. */
export class SharedAnon {
  /** chunks maps chunk numbers (of offsets in the object) to memory-file ranges. */
  readonly chunks = new Map<number, FileRange>();
  private refs = 0;

  constructor(private readonly mf: MemoryFile, readonly size: number) {}

  /** ref counts one more VMA mapping (part of) the object. */
  ref(): this {
    this.refs++;
    return this;
  }

  /** unref drops a VMA's reference; the last gives every chunk back. */
  unref(): void {
    if (--this.refs > 0) return;
    const pool = poolOf(this.mf);
    for (const r of this.chunks.values()) pool.give(r);
    this.chunks.clear();
  }

  /** chunk returns chunk c, allocating it zero-filled when absent (ENOMEM when the memory file is full). */
  chunk(c: number): FileRange {
    let r = this.chunks.get(c);
    if (!r) this.chunks.set(c, (r = poolOf(this.mf).take(true)));
    return r;
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

  constructor(private readonly map: (addr: number, range: FileRange, prot: number) => void) {}

  /** add queues [lo, hi) backed from `offset` with `prot`. */
  add(lo: number, hi: number, offset: number, prot: number): void {
    const r = this.run;
    if (r && r.hi === lo && r.offset + (r.hi - r.lo) === offset && r.prot === prot) r.hi = hi;
    else {
      this.flush();
      this.run = { lo, hi, offset, prot };
    }
  }

  /** flush maps the pending run. */
  flush(): void {
    const r = this.run;
    this.run = null;
    if (r) this.map(r.lo, { offset: r.offset, length: r.hi - r.lo }, r.prot);
  }
}
