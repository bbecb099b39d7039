/**
 * The page cache of a gofer regular file: a MemObject (mm/shared.ts) whose chunks hold the
 * file's bytes in the memory file, filled from the host file on first touch of a chunk,
 * so that every mapping of the file, in every process, maps the same pages (a MAP_PRIVATE
 * one read-only until a page is written: mm.ts copies it then), and read() and write() of
 * the file in the sandbox are coherent with them.
 *
 * Lifetime: an inode gets a cache with its first mapping (shared or private); each VMA
 * mapping it holds a reference, and the last one going (munmap, exit, exec) writes the
 * dirty chunks back and gives every chunk back to the pool. While it lives, the memory it
 * holds is the chunks touched (through a mapping, or by a read() of the file), at most
 * the file's size rounded up to CHUNK, its clean chunks within the bound below. A file
 * nobody maps has no cache: read() and write() go straight to the host descriptor.
 *
 * Dirty tracking is per chunk, without write faults: a chunk becomes dirty when it is
 * mapped by a writable VMA (or a VMA mapping it is made writable), and stays dirty until the
 * cache goes. Write-back (msync, fsync, sync, the last munmap) writes whole dirty chunks, clipped
 * to the file's size, through a writable description that mapped the file; a cache that
 * was never mapped writable has none and never writes.
 *
 * Bound: the clean chunks (those no writable mapping has dirtied) of all caches together
 * are bounded by pageCacheBound: a share (PAGE_CACHE_SHARE) of the sandbox's memory limit.
 * Once an address space has mapped the chunks it populated (settle), clean chunks past it
 * are evicted, cache by cache (the oldest cache first), each's least recently unmapped
 * (or filled) first: each goes back to the pool, and a later access reads it from the
 * host again. A chunk mapped in some address space (pinned: MemObject.pin, mm.ts) is
 * never evicted, so a mapped or mlocked page stays the same memory and is not read from
 * the host again; mapped chunks count against the bound all the same (they are memory),
 * so past it the unmapped ones go first. Under memory pressure (the sandbox's limit
 * reached: oom.ts makeRoom) every clean chunk may go before the OOM killer runs, mapped
 * ones last and never one mlocked or with a mapping or view of it pending (reclaim).
 * Dirty chunks stay until the cache goes. Eviction happens only there:
 * after the chunks populated are mapped (none is given back while a mapping of it is
 * pending), and not while a syscall uses views of application memory
 * (MemoryManager.withViews settles after), so no mapping or view outlives the chunk it
 * reaches.
 *
 * Coherence with the host: the sandbox's own read(), write() and truncate go through the
 * cache. A change made to the file from outside the sandbox (the host writing to a bind
 * mount) is not seen by a live mapping, nor by read() in the sandbox past the size the
 * cache knows while the file is mapped, and a write-back may overwrite it, as in gVisor.
 * The same host file reached through two mounts (two GoferFs) has two caches.
 */
import type { MemoryFile } from '../../../platform';
import { Errno, fail } from '../../kernel/errors';
import { CHUNK, chunksIn, MemObject, poolOf } from '../../mm/shared';
import { sandboxMemory, setReclaimer } from '../../mm/oom';
import { PAGE } from '../../mm/vma';

/** HostIo is the raw access to the host file the cache fills from and writes back to. */
export interface HostIo {
  /** readRaw reads the host file at `at` into dst; bytes read or a thrown LinuxError. */
  readRaw(dst: Buffer, at: number): number;
  /** writeRaw writes src to the host file at `at`; bytes written or a thrown LinuxError. */
  writeRaw(src: Buffer, at: number): number;
  /** wroteBack follows a write-back that wrote something (sync): the host's report of
   * that change is the sandbox's own, which Linux does not report (inotify(7): nothing
   * for changes made through mmap and msync). */
  wroteBack(): void;
  /** ref and unref keep the description open while the cache uses it. */
  ref(): unknown;
  unref(): void;
}

/** live are the page caches not yet released (what sync(2) writes back). */
const live = new Set<PageCache>();

/** PAGE_CACHE_SHARE is the share of the sandbox's memory limit that clean page-cache chunks may hold. */
export const PAGE_CACHE_SHARE = 0.25;

/** pageCacheLimit bounds the clean chunks of all page caches (bytes): `bytes` when set (tests), else PAGE_CACHE_SHARE of the memory limit. */
export const pageCacheLimit: { bytes: number | null } = { bytes: null };

/** MIN_PAGE_CACHE is the least bound of the share: twice the most one read or write populates (handlers/rw.ts CHUNK). */
const MIN_PAGE_CACHE = 8 << 20;

/** pageCacheBound returns the bytes clean page-cache chunks may hold now (at least one chunk). */
function pageCacheBound(): number {
  return Math.max(CHUNK, pageCacheLimit.bytes ?? Math.max(MIN_PAGE_CACHE, Math.floor(sandboxMemory.limit * PAGE_CACHE_SHARE)));
}

/** trim evicts clean chunks, cache by cache in the order the caches were made, each's oldest filled first, until those left fit the bound. */
function trim(): void {
  const bound = pageCacheBound();
  let clean = 0;
  for (const c of live) clean += c.cleanChunks();
  for (const cache of live) {
    if (clean * CHUNK <= bound) return;
    clean -= cache.evictClean(clean - Math.floor(bound / CHUNK));
  }
}

/** RECLAIM_SLACK is how many chunks past the need one reclaim gives back (1 MiB), so that pressure is not met again at the next chunk. */
const RECLAIM_SLACK = 16;

/** fills counts the chunks filled by every cache: a chunk's stamp orders reclaim across caches (oldest first). */
let fills = 0;

/**
 * RECENT_FILLS is how many of the latest chunks filled (by any cache) reclaim never takes
 * from a mapping: they stand for the pages Linux finds young (referenced) and keeps for
 * another round. An instruction may need several chunks at once (its code and the data it
 * reads); taking one of them to fill another would have the task fault each in again in
 * turn, forever, with the sandbox at its limit (a livelock: oom-thrash.c). The sentry
 * handles one task's faults one after the other, so the chunks one x86 instruction needs
 * (at most six pages: its bytes and two operands, each across a boundary) are among the
 * latest fills when it faults on the last of them: none is taken, and the instruction
 * completes, or reclaim finds nothing and the OOM killer runs. Progress either way, unless
 * the task is preempted between those faults and other tasks fill more than RECENT_FILLS
 * chunks meanwhile, every time (not seen; the bound would then want to be per task).
 */
export const RECENT_FILLS = 8;

/**
 * reclaim gives back at least `bytes` of clean page-cache chunks when it can, for the OOM
 * killer (oom.ts makeRoom) to run only when nothing can be read again: first those no
 * address space maps, in trim's order, then mapped ones, the least recently filled of all
 * caches first (a chunk just faulted in, a program's text, goes last: taking it would
 * only fault it in again), never one of the RECENT_FILLS latest, as Linux reclaims mapped
 * clean file pages before it kills.
 * It returns the bytes given back.
 */
function reclaim(bytes: number): number {
  const want = Math.ceil(bytes / CHUNK) + RECLAIM_SLACK;
  let gone = 0;
  for (const cache of live) if (gone < want) gone += cache.evictClean(want - gone);
  if (gone >= want) return gone * CHUNK;
  const mapped: { cache: PageCache; c: number; stamp: number }[] = [];
  for (const cache of live) cache.mappedClean(mapped);
  mapped.sort((a, b) => a.stamp - b.stamp);
  for (const m of mapped) {
    if (gone >= want || m.stamp > fills - RECENT_FILLS) break; // the latest fills stay (RECENT_FILLS)
    gone += m.cache.evictMapped(m.c);
  }
  return gone * CHUNK;
}
setReclaimer(reclaim);

/**
 * syncPageCaches writes back every live page cache's dirty chunks (sync(2), syncfs(2));
 * a cache the host refuses is skipped, as sync(2) reports nothing.
 */
export function syncPageCaches(): void {
  for (const c of live) {
    try {
      c.sync();
    } catch {
      // EIO or ENOSPC from the host: a later fsync or msync of the file reports it.
    }
  }
}

/** PageCache is a gofer regular file's bytes in the memory file (see the module comment). */
export class PageCache extends MemObject {
  /** dirty holds the chunk numbers that a writable mapping may have changed. */
  private readonly dirty = new Set<number>();
  /** filledOrder holds the chunk numbers present, in the order they were filled. */
  private readonly filledOrder = new Set<number>();
  /** stamps holds, per chunk present, when it was filled (the `fills` count): reclaim's order across caches. */
  private readonly stamps = new Map<number, number>();
  /** evictable holds the clean chunks present that no address space maps (pins), oldest first: eviction's order. */
  private readonly evictable = new Set<number>();
  private reader: HostIo | null = null;
  private writer: HostIo | null = null;

  /**
   * `size` is the file's size when the cache is made; the sandbox's writes and truncates
   * keep it current (every inode of the host file finds this one cache: GoferFs.caches).
   * `dropped` is called once the cache is released.
   */
  constructor(mf: MemoryFile, public size: number, private readonly dropped: () => void) {
    super(mf);
    live.add(this);
  }

  /** rssKind: a mapped page of a host file counts in RssFile. */
  override get rssKind(): 'file' {
    return 'file';
  }

  /** limit is the file's end rounded up to a page: a fault past it is SIGBUS. */
  override get limit(): number {
    return Math.ceil(this.size / PAGE) * PAGE;
  }

  /**
   * use records a description that maps the file: the first readable one fills chunks,
   * the first writable one writes dirty chunks back. Each is kept open until the cache goes.
   */
  use(io: HostIo, readable: boolean, writable: boolean): void {
    if (readable && !this.reader) this.reader = (io.ref(), io);
    if (writable && !this.writer) this.writer = (io.ref(), io);
  }

  /** forMapping returns chunk c filled from the host file; a writable mapping marks it dirty. */
  override forMapping(c: number, _lo: number, _hi: number, writable = false): ReturnType<MemObject['chunk']> {
    const r = this.filled(c);
    if (writable) this.markDirty(c);
    return r;
  }

  /** chunkForCopy returns chunk c filled from the host file (a private mapping copies a page of it). */
  override chunkForCopy(c: number): ReturnType<MemObject['chunk']> {
    return this.filled(c);
  }

  /** dirtied marks the chunks of [lo, hi) present in the cache dirty (a mapping made writable). */
  override dirtied(lo: number, hi: number): void {
    for (const c of chunksIn(this.chunks, lo, hi)) this.markDirty(c);
  }

  /** isDirtyChunk tells whether a writable mapping dirtied chunk c (smaps' Dirty figures). */
  override isDirtyChunk(c: number): boolean {
    return this.dirty.has(c);
  }

  /** markDirty marks chunk c (present) dirty: it is never evicted. */
  private markDirty(c: number): void {
    this.dirty.add(c);
    this.evictable.delete(c);
  }

  /** pinned keeps `evictable` the clean chunks present that nothing maps (a chunk unmapped goes last in line). */
  protected override pinned(c: number, on: boolean): void {
    if (on) this.evictable.delete(c);
    else if (this.filledOrder.has(c) && !this.dirty.has(c)) this.evictable.add(c);
  }

  /** filled returns chunk c, reading it from the host file when absent (zeros past the end). */
  private filled(c: number): ReturnType<MemObject['chunk']> {
    const have = this.chunks.get(c);
    if (have) return have;
    const r = this.chunk(c); // zero-filled
    const n = Math.min(CHUNK, this.size - c * CHUNK);
    try {
      if (n > 0 && this.reader) {
        // Read straight into the chunk (the sentry's views of the memory file, two where it
        // crosses one of the file's mapping units; nothing maps it yet): no zeroed buffer and
        // no copy per chunk. Past a short read it stays zero.
        let at = c * CHUNK;
        for (const view of this.mf.views([{ offset: r.offset, length: n }])) {
          let done = 0;
          while (done < view.length) {
            const got = this.reader.readRaw(view.subarray(done), at + done);
            if (got <= 0) break;
            done += got;
          }
          if (done < view.length) break;
          at += done;
        }
      }
    } catch (e) {
      this.chunks.delete(c);
      this.mf.fill(r.offset, CHUNK, 0);
      throw e;
    }
    this.filledOrder.add(c);
    this.stamps.set(c, ++fills);
    if (!this.isPinned(c)) this.evictable.add(c); // pinned as soon as it is mapped
    return r;
  }

  /** cleanChunks counts the chunks present that no writable mapping has dirtied. */
  cleanChunks(): number {
    return this.filledOrder.size - this.dirty.size;
  }

  /**
   * settle trims the caches to their bound once an address space has mapped what it
   * populated (the chunks filled just now are the newest: evicted last).
   */
  override settle(): void {
    trim();
  }

  /**
   * evictClean evicts up to n clean chunks that no address space maps, in `evictable`'s
   * order (or chunk `only`, when it is one): each goes back to the pool (a later access
   * fills it again from the host). It returns how many went.
   */
  evictClean(n: number, only?: number): number {
    let gone = 0;
    for (const c of only === undefined ? this.evictable : this.evictable.has(only) ? [only] : []) {
      if (gone >= n) break;
      // Nothing maps it (pinned chunks are not in `evictable`); a private mapping's copies stay.
      for (const m of this.mappers) m.invalidate(this, c * CHUNK, (c + 1) * CHUNK, true);
      poolOf(this.mf).give(this.chunks.get(c)!);
      this.chunks.delete(c);
      this.filledOrder.delete(c);
      this.stamps.delete(c);
      this.evictable.delete(c);
      gone++;
    }
    return gone;
  }

  /** mappedClean adds to `out` the clean chunks some address space maps, with their fill stamps (reclaim's candidates). */
  mappedClean(out: { cache: PageCache; c: number; stamp: number }[]): void {
    for (const [c, stamp] of this.stamps) if (!this.dirty.has(c) && this.isPinned(c)) out.push({ cache: this, c, stamp });
  }

  /**
   * evictMapped evicts clean chunk c, which address spaces map, when every one of them
   * allows it (Mapper.mayReclaim: not mlocked, no mapping or view of it pending): it is
   * unmapped everywhere first (a private mapping's copies stay), so the next access
   * faults and reads it from the host again. It returns 1 when it went, else 0.
   */
  evictMapped(c: number): number {
    if (this.dirty.has(c) || !this.chunks.has(c)) return 0;
    for (const m of this.mappers) if (!m.mayReclaim(this, c)) return 0;
    for (const m of this.mappers) m.invalidate(this, c * CHUNK, (c + 1) * CHUNK, true);
    return this.isPinned(c) ? 0 : this.evictClean(1, c); // still mapped somewhere (never expected): kept
  }

  /**
   * read copies the file's bytes at `at` into dst through the cache: chunks present come
   * from it, others from the host file (the cache is not filled by a read). It returns
   * the bytes read (short at the end of the file).
   */
  read(dst: Buffer, at: number, host: HostIo): number {
    const want = Math.max(0, Math.min(dst.length, this.size - at));
    let done = 0;
    while (done < want) {
      const c = Math.floor((at + done) / CHUNK), off = (at + done) % CHUNK;
      const n = Math.min(want - done, CHUNK - off);
      const r = this.chunks.get(c);
      if (r) this.mf.readInto(r.offset + off, dst.subarray(done, done + n));
      else {
        const got = host.readRaw(dst.subarray(done, done + n), at + done);
        if (got <= 0) break;
        if (got < n) return done + got;
      }
      done += n;
    }
    return done;
  }

  /** wrote updates the chunks present (and the size) with bytes just written to the host file at `at`. */
  wrote(src: Uint8Array, at: number): void {
    this.size = Math.max(this.size, at + src.length);
    for (const c of chunksIn(this.chunks, at, at + src.length)) {
      const lo = Math.max(at, c * CHUNK), hi = Math.min(at + src.length, (c + 1) * CHUNK);
      this.mf.writeBytes(this.chunks.get(c)!.offset + (lo - c * CHUNK), src.subarray(lo - at, hi - at));
    }
  }

  /** resized follows a truncate to `size`: the bytes from there go (mappings past it get SIGBUS). */
  resized(size: number): void {
    this.size = size;
    for (const c of this.cut(size)) {
      this.dirty.delete(c);
      this.filledOrder.delete(c);
      this.stamps.delete(c);
      this.evictable.delete(c);
    }
  }

  /**
   * sync writes the dirty chunks overlapping [lo, hi) back to the host file, clipped to its
   * size (msync, fsync). The chunks stay dirty: a mapping may write them again unseen.
   */
  override sync(lo = 0, hi = Number.MAX_SAFE_INTEGER): void {
    if (!this.writer) return;
    const size = this.size;
    let wrote = false;
    try {
      for (const c of [...this.dirty].sort((a, b) => a - b)) {
        if ((c + 1) * CHUNK <= lo || c * CHUNK >= hi) continue;
        const r = this.chunks.get(c);
        const n = Math.min(CHUNK, size - c * CHUNK);
        if (!r || n <= 0) continue;
        const buf = this.mf.readBytes(r.offset, n);
        for (let done = 0; done < n;) {
          const w = this.writer.writeRaw(buf.subarray(done), c * CHUNK + done);
          if (w <= 0) fail(Errno.EIO); // the host took nothing: never spin
          done += w;
          wrote = true;
        }
      }
    } finally {
      if (wrote) this.writer.wroteBack();
    }
  }

  /** flush writes everything dirty back before the chunks go (a failure is lost, as an unchecked close's). */
  protected override flush(): void {
    try {
      this.sync();
    } catch {
      // The host refused (EIO, ENOSPC): Linux reports it to a later fsync; nobody is left to.
    }
  }

  protected override released(): void {
    live.delete(this);
    this.dirty.clear();
    this.filledOrder.clear();
    this.stamps.clear();
    this.evictable.clear();
    this.reader?.unref();
    this.writer?.unref();
    this.reader = this.writer = null;
    this.dropped();
  }
}
