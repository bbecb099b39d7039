/**
 * The gofer page cache against a fake host file: chunks are filled on first touch only,
 * write-back covers the dirty chunks clipped to the file's size and only through a
 * writable description, read() and write() see the cached bytes, a truncate cuts them,
 * and the last reference writes back, gives every chunk back and forgets the cache; and
 * through a MemoryManager: a writable shared VMA dirties what it touches, mprotect to
 * writable dirties what was mapped, msync (syncShared) writes back, munmap releases.
 */
import { MemoryFault, MemoryFile, PROT_READ, PROT_WRITE, type AddressSpace, type FileRange, type Platform, type Prot } from '../../../platform';
import { MappingTable } from '../../../platform/memfile/mappings';
import { Errno, LinuxError } from '../../kernel/errors';
import { MemoryManager } from '../../mm/mm';
import { CHUNK } from '../../mm/shared';
import { makeRoom, memoryUse, sandboxMemory } from '../../mm/oom';
import { PageCache, pageCacheLimit, RECENT_FILLS, syncPageCaches, type HostIo } from './page-cache';

/** FakeHost is a host file in a Buffer that counts reads, writes and references. */
class FakeHost implements HostIo {
  reads = 0;
  writes: Array<[number, number]> = [];
  refs = 0;
  wroteBacks = 0;
  constructor(public data: Buffer) {}
  readRaw(dst: Buffer, at: number): number {
    this.reads++;
    return this.data.copy(dst, 0, at, Math.min(this.data.length, at + dst.length));
  }
  writeRaw(src: Buffer, at: number): number {
    this.writes.push([at, src.length]);
    if (at + src.length > this.data.length) this.data = Buffer.concat([this.data, Buffer.alloc(at + src.length - this.data.length)]);
    src.copy(this.data, at);
    return src.length;
  }
  wroteBack(): void {
    this.wroteBacks++;
  }
  ref(): this {
    this.refs++;
    return this;
  }
  unref(): void {
    this.refs--;
  }
}

const mf = MemoryFile.create({ name: 'page-cache-test' });
afterAll(() => mf.close());

function setup(size: number, writable = true) {
  const host = new FakeHost(Buffer.alloc(size, 'h'));
  let dropped = 0;
  const cache = new PageCache(mf, size, () => dropped++).ref();
  cache.use(host, true, writable);
  return { host, cache, dropped: () => dropped };
}

describe('PageCache', () => {
  test('a chunk is read from the host once, on first touch; the rest of the file is not', () => {
    const { host, cache } = setup(3 * CHUNK + 100);
    const r = cache.forMapping(3, 3 * CHUNK, 3 * CHUNK + 4096);
    expect(mf.readBytes(r.offset, 101).toString()).toBe('h'.repeat(100) + '\0');
    cache.forMapping(3, 3 * CHUNK, 3 * CHUNK + 4096);
    expect(host.reads).toBe(1);
    expect([...cache.chunks.keys()]).toEqual([3]);
    cache.unref();
  });

  test('write-back: dirty chunks only, clipped to the size, and nothing without a writable description', () => {
    const { host, cache } = setup(CHUNK + 10);
    cache.forMapping(0, 0, 4096); // read-only mapping: clean
    cache.sync();
    expect(host.wroteBacks).toBe(0); // nothing written, nothing to mark as the sandbox's
    const r = cache.forMapping(1, CHUNK, CHUNK + 4096, true);
    mf.writeBytes(r.offset, Buffer.from('XY'));
    cache.sync();
    expect(host.writes).toEqual([[CHUNK, 10]]);
    // The description that wrote is told once, so that the host's echo is dropped.
    expect(host.wroteBacks).toBe(1);
    expect(host.data.subarray(CHUNK, CHUNK + 3).toString()).toBe('XYh');
    const ro = setup(100, false);
    mf.writeBytes(ro.cache.forMapping(0, 0, 4096, true).offset, Buffer.from('Z'));
    ro.cache.sync();
    ro.cache.unref();
    expect(ro.host.writes).toEqual([]);
    expect(ro.host.data[0]).toBe('h'.charCodeAt(0));
    cache.unref();
  });

  test('sync(2) writes back every live cache; a released one is forgotten', () => {
    const a = setup(CHUNK), b = setup(CHUNK);
    a.cache.forMapping(0, 0, 4096, true);
    b.cache.forMapping(0, 0, 4096, true);
    syncPageCaches();
    expect([a.host.writes, b.host.writes]).toEqual([[[0, CHUNK]], [[0, CHUNK]]]);
    b.cache.unref(); // writes back once more, then leaves the live set
    syncPageCaches();
    expect([a.host.writes.length, b.host.writes.length]).toEqual([2, 2]);
    a.cache.unref();
  });

  test('mprotect to writable marks the chunks present dirty', () => {
    const { host, cache } = setup(2 * CHUNK);
    cache.forMapping(0, 0, 4096);
    cache.dirtied(0, 2 * CHUNK);
    cache.sync();
    expect(host.writes).toEqual([[0, CHUNK]]);
    cache.unref();
  });

  test('read() reads cached chunks, the host elsewhere; write() updates the cached chunks and the size', () => {
    const { host, cache } = setup(2 * CHUNK);
    mf.writeBytes(cache.forMapping(0, 0, 4096, true).offset + 10, Buffer.from('mapped'));
    const buf = Buffer.alloc(6);
    expect(cache.read(buf, 10, host)).toBe(6);
    expect(buf.toString()).toBe('mapped');
    host.data.write('hostbytes', CHUNK);
    expect(cache.read(Buffer.alloc(9), CHUNK, host)).toBe(9);
    cache.wrote(Buffer.from('written'), 20);
    cache.wrote(Buffer.from('past'), 2 * CHUNK);
    const back = Buffer.alloc(7);
    cache.read(back, 20, host);
    expect(back.toString()).toBe('written');
    expect(cache.size).toBe(2 * CHUNK + 4);
    expect(cache.read(Buffer.alloc(10), 2 * CHUNK + 4, host)).toBe(0);
    cache.unref();
  });

  test('a truncate cuts the cached bytes and the limit; the last reference writes back and releases', () => {
    const { host, cache, dropped } = setup(3 * CHUNK);
    for (let c = 0; c < 3; c++) cache.forMapping(c, c * CHUNK, c * CHUNK + 4096, true);
    cache.resized(CHUNK + 100);
    expect([...cache.chunks.keys()]).toEqual([0, 1]);
    expect(cache.limit).toBe(CHUNK + 4096);
    const r = cache.chunks.get(1)!;
    expect(mf.readBytes(r.offset + 99, 2)).toEqual(Buffer.from([0x68, 0]));
    mf.writeBytes(cache.chunks.get(0)!.offset, Buffer.from('last'));
    expect(host.refs).toBe(2);
    cache.unref();
    expect(host.data.subarray(0, 4).toString()).toBe('last');
    expect(host.writes).toEqual([[0, CHUNK], [CHUNK, 100]]);
    expect(cache.chunks.size).toBe(0);
    expect(host.refs).toBe(0);
    expect(dropped()).toBe(1);
  });

  test('a chunk is filled in place across two of the memory file\'s mapping units, and stays zero past a short file', () => {
    // Mapping units of one chunk, and a page taken first: every chunk of the cache crosses one.
    const small = MemoryFile.create({ name: 'page-cache-cross', chunkSize: CHUNK });
    try {
      small.allocate(4096);
      const data = Buffer.alloc(CHUNK + 300);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
      const host = new FakeHost(data);
      const cache = new PageCache(small, data.length, () => undefined).ref();
      cache.use(host, true, false);
      const r0 = cache.forMapping(0, 0, 4096);
      expect(r0.offset % CHUNK).not.toBe(0);
      expect(small.readBytes(r0.offset, CHUNK)).toEqual(data.subarray(0, CHUNK));
      const r1 = cache.forMapping(1, CHUNK, CHUNK + 4096);
      expect(small.readBytes(r1.offset, CHUNK)).toEqual(Buffer.concat([data.subarray(CHUNK), Buffer.alloc(CHUNK - 300)]));
      cache.unref();
    } finally {
      small.close();
    }
  });
});

/** blankSpace is an address space that maps nothing (the sentry's writeForce reaches the pages). */
const blankSpace: AddressSpace = {
  mapFile() {},
  unmap() {},
  protect() {},
  isMapped: () => false,
  release() {},
};

describe('PageCache mapped by a MemoryManager', () => {
  const platform = { minUserAddress: 0x10000, maxUserAddress: 2 ** 47, memoryFile: mf, newAddressSpace: () => blankSpace } as unknown as Platform;
  const at = 0x40000000;

  test('a writable shared VMA dirties what it touches; msync writes it back; munmap releases the cache', () => {
    const host = new FakeHost(Buffer.alloc(2 * CHUNK, 'h'));
    let dropped = 0;
    const cache = new PageCache(mf, 2 * CHUNK, () => dropped++);
    cache.use(host, true, true);
    const mm = MemoryManager.create(platform);
    mm.mapShared(at, 2 * CHUNK, PROT_READ | PROT_WRITE, cache, 0);
    mm.writeForce(at + CHUNK + 10, Buffer.from('via mm'));
    mm.syncShared(at, 2 * CHUNK);
    expect(host.writes).toEqual([[CHUNK, CHUNK]]);
    expect(host.data.subarray(CHUNK + 10, CHUNK + 16).toString()).toBe('via mm');
    expect(() => mm.syncShared(at, 3 * CHUNK)).toThrow(new LinuxError(Errno.ENOMEM));
    mm.unmap(at, 2 * CHUNK);
    expect(dropped).toBe(1);
    expect(host.refs).toBe(0);
    mm.release();
  });

  test('mprotect of a read-only shared VMA to writable dirties the chunks it had mapped', () => {
    const host = new FakeHost(Buffer.alloc(CHUNK, 'h'));
    const cache = new PageCache(mf, CHUNK, () => undefined);
    cache.use(host, true, true);
    const mm = MemoryManager.create(platform);
    mm.mapShared(at, CHUNK, PROT_READ, cache, 0);
    mm.populate(at, 4096);
    mm.syncShared(at, CHUNK);
    expect(host.writes).toEqual([]);
    mm.protect(at, CHUNK, PROT_READ | PROT_WRITE);
    mm.syncShared(at, CHUNK);
    expect(host.writes).toEqual([[0, CHUNK]]);
    mm.release();
  });
});

/** TableSpace is an address space that keeps its mappings in a MappingTable (what is mapped where). */
class TableSpace implements AddressSpace {
  readonly table = new MappingTable();
  mapFile(addr: number, range: FileRange, prot: Prot): void {
    this.table.map(addr, range, prot);
  }
  unmap(addr: number, length: number): void {
    this.table.unmap(addr, length);
  }
  protect(addr: number, length: number, prot: Prot): void {
    this.table.protect(addr, length, prot);
  }
  translate(addr: number, length: number, want: Prot): FileRange[] {
    const r = this.table.translate(addr, length, want);
    if ('faultAt' in r) throw new MemoryFault(r.faultAt, want);
    return r;
  }
  isMapped(addr: number, length: number): boolean {
    return Array.isArray(this.table.translate(addr, length, 0));
  }
  mapped(addr: number): boolean {
    return !('faultAt' in this.table.translate(addr, 1, PROT_READ));
  }
  release(): void {}
}

describe('PageCache eviction', () => {
  afterEach(() => {
    pageCacheLimit.bytes = null;
  });

  test('clean chunks past the bound go, least recently unmapped first, and are read from the host again; mapped (pinned) and dirty chunks stay', () => {
    pageCacheLimit.bytes = 2 * CHUNK;
    const host = new FakeHost(Buffer.concat(Array.from({ length: 6 }, (_, c) => Buffer.alloc(CHUNK, 0x61 + c))));
    const cache = new PageCache(mf, 6 * CHUNK, () => undefined);
    cache.use(host, true, true);
    const space = new TableSpace();
    const mm = new MemoryManager({ minUserAddress: 0x10000, maxUserAddress: 2 ** 47, memoryFile: mf } as unknown as Platform, space);
    const ro = 0x40000000, rw = 0x50000000, win = 0x60000000;
    // The whole file read a window at a time, each unmapped after: two chunks stay cached.
    mm.mapShared(ro + 5 * CHUNK, CHUNK, PROT_READ, cache, 5 * CHUNK); // keeps the cache alive
    for (let c = 0; c < 6; c++) {
      mm.mapShared(win, CHUNK, PROT_READ, cache, c * CHUNK);
      mm.populate(win, 4096);
      mm.unmap(win, CHUNK);
      expect(cache.chunks.size).toBeLessThanOrEqual(3);
    }
    expect([...cache.chunks.keys()].sort()).toEqual([4, 5]);
    expect(host.reads).toBe(6);
    // Mapped for good: chunk 0 is read again (4, unmapped longest, goes); then 1-3 stay
    // with it past the bound, none read again while mapped, however often touched.
    mm.mapShared(ro, 5 * CHUNK, PROT_READ, cache, 0);
    expect(mm.read(ro + 10, 3).toString()).toBe('aaa');
    expect(host.reads).toBe(7);
    expect([...cache.chunks.keys()].sort()).toEqual([0, 5]);
    for (const c of [1, 2, 3]) mm.populate(ro + c * CHUNK, 4096);
    expect([...cache.chunks.keys()].sort()).toEqual([0, 1, 2, 3, 5]);
    for (let pass = 0; pass < 3; pass++) for (const c of [0, 1, 2, 3]) expect(mm.read(ro + c * CHUNK, 1)[0]).toBe(0x61 + c);
    expect(host.reads).toBe(10);
    expect([0, 1, 2, 3].map((c) => space.mapped(ro + c * CHUNK))).toEqual([true, true, true, true]);
    // A writable mapping dirties chunks 1-3: they stay even once nothing maps them.
    mm.mapShared(rw, 4 * CHUNK, PROT_READ | PROT_WRITE, cache, 0);
    for (const c of [1, 2, 3]) mm.writeForce(rw + c * CHUNK, Buffer.from('dirty'));
    mm.unmap(rw, 4 * CHUNK);
    mm.unmap(ro, 5 * CHUNK);
    mm.mapShared(win, CHUNK, PROT_READ, cache, 4 * CHUNK);
    mm.populate(win, 4096); // chunk 4 read again; chunk 0, now unmapped, goes
    expect([...cache.chunks.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(cache.cleanChunks()).toBe(2);
    mm.release();
    // The last reference wrote the dirty chunks back.
    expect(host.data.subarray(3 * CHUNK, 3 * CHUNK + 6).toString()).toBe('dirtyd');
  });

  test('nothing is evicted while a syscall uses views of application memory (withViews): the chunks are mapped, and the cache trims after', () => {
    pageCacheLimit.bytes = 2 * CHUNK;
    const host = new FakeHost(Buffer.concat(Array.from({ length: 4 }, (_, c) => Buffer.alloc(CHUNK, 0x61 + c))));
    const cache = new PageCache(mf, 4 * CHUNK, () => undefined);
    cache.use(host, true, false);
    const space = new TableSpace();
    const mm = new MemoryManager({ minUserAddress: 0x10000, maxUserAddress: 2 ** 47, memoryFile: mf } as unknown as Platform, space);
    const ro = 0x40000000, win = 0x50000000;
    mm.mapShared(ro, 3 * CHUNK, PROT_READ, cache, 0);
    mm.mapShared(win, CHUNK, PROT_READ, cache, 3 * CHUNK);
    mm.populate(win, 4096);
    mm.unmap(win, CHUNK); // chunk 3: cached, mapped nowhere
    mm.populate(ro, CHUNK); // chunk 0: the bound full
    // A write(2) from chunks 0-2: filling them evicts nothing under the views.
    const seen = mm.withViews([{ base: ro + 100, len: 3 * CHUNK - 200 }], 3 * CHUNK, false, (views) => {
      expect([...cache.chunks.keys()].sort()).toEqual([0, 1, 2, 3]);
      return Buffer.concat(views);
    });
    expect(seen.length).toBe(3 * CHUNK - 200);
    expect(seen.equals(host.data.subarray(100, 3 * CHUNK - 100))).toBe(true);
    // Trimmed once the views were done with: only the chunk nothing maps could go.
    expect([...cache.chunks.keys()].sort()).toEqual([0, 1, 2]);
    expect(space.mapped(ro)).toBe(true);
    mm.release();
  });
});

describe('PageCache reclaim under memory pressure', () => {
  const limit = sandboxMemory.limit;
  afterEach(() => {
    sandboxMemory.limit = limit;
  });

  test('clean chunks, mapped ones included, go before the OOM killer; mlocked and dirty ones stay; a reclaimed page reads right again', () => {
    const host = new FakeHost(Buffer.concat(Array.from({ length: 4 }, (_, c) => Buffer.alloc(CHUNK, 0x61 + c))));
    const cache = new PageCache(mf, 4 * CHUNK, () => undefined);
    cache.use(host, true, true);
    const space = new TableSpace();
    const mm = new MemoryManager({ minUserAddress: 0x10000, maxUserAddress: 2 ** 47, memoryFile: mf } as unknown as Platform, space);
    const ro = 0x40000000, rw = 0x50000000;
    mm.mapShared(ro, 4 * CHUNK, PROT_READ, cache, 0);
    mm.populate(ro, 4 * CHUNK);
    mm.lock(ro + 2 * CHUNK, CHUNK, true); // chunk 2 mlocked
    mm.mapShared(rw, CHUNK, PROT_READ | PROT_WRITE, cache, 3 * CHUNK);
    mm.writeForce(rw, Buffer.from('dirty')); // chunk 3 dirty
    expect([...cache.chunks.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(host.reads).toBe(4);
    // Later fills of another file, mapped too (the latest: they stay), so that these four are not among the latest (RECENT_FILLS).
    const other = new PageCache(mf, RECENT_FILLS * CHUNK, () => undefined);
    other.use(new FakeHost(Buffer.alloc(RECENT_FILLS * CHUNK, 'o')), true, false);
    mm.mapShared(0x60000000, RECENT_FILLS * CHUNK, PROT_READ, other, 0);
    mm.populate(0x60000000, RECENT_FILLS * CHUNK);
    // The sandbox full: room for one chunk is made by reclaiming, not by killing (no kernel
    // is installed here, so a kill would be ENOMEM).
    sandboxMemory.limit = memoryUse(mf).used;
    // Not while a syscall uses views of the chunks (a view may reach them): chunks 0 and 1 here.
    mm.withViews([{ base: ro, len: 2 * CHUNK }], 2 * CHUNK, false, () => expect(() => makeRoom(mf, CHUNK)).toThrow(LinuxError));
    expect([...cache.chunks.keys()].sort()).toEqual([0, 1, 2, 3]);
    makeRoom(mf, CHUNK); // with slack: every chunk that may go does
    expect([...cache.chunks.keys()].sort()).toEqual([2, 3]);
    expect(space.mapped(ro)).toBe(false);
    expect(space.mapped(ro + CHUNK)).toBe(false);
    // Nothing left that may go: ENOMEM (the OOM killer's turn).
    expect(() => makeRoom(mf, 3 * CHUNK)).toThrow(LinuxError);
    expect(space.mapped(ro + 2 * CHUNK)).toBe(true);
    sandboxMemory.limit = limit;
    // The reclaimed pages fault in again from the host, with their bytes.
    expect(mm.read(ro + CHUNK + 7, 2).toString()).toBe('bb');
    expect(host.reads).toBe(5);
    expect(other.chunks.size).toBe(RECENT_FILLS);
    mm.release();
  });

  test('the latest fills stay: when only they could go, reclaim gives nothing and the OOM killer runs, instead of taking a chunk a task needs to fill another it needs at once', () => {
    const host = new FakeHost(Buffer.alloc(2 * CHUNK, 'f'));
    const cache = new PageCache(mf, 2 * CHUNK, () => undefined);
    cache.use(host, true, false);
    const space = new TableSpace();
    const mm = new MemoryManager({ minUserAddress: 0x10000, maxUserAddress: 2 ** 47, memoryFile: mf } as unknown as Platform, space);
    const at = 0x40000000;
    mm.mapShared(at, 2 * CHUNK, PROT_READ, cache, 0);
    // A task's code (chunk 0) and the data it reads (chunk 1), both just faulted in.
    expect(mm.handleFault(at, 'read')).toBe(true);
    expect(mm.handleFault(at + CHUNK, 'read')).toBe(true);
    sandboxMemory.limit = memoryUse(mf).used;
    // No kernel is installed here, so the OOM killer's turn is ENOMEM; neither chunk went.
    expect(() => makeRoom(mf, CHUNK)).toThrow(LinuxError);
    expect([...cache.chunks.keys()].sort()).toEqual([0, 1]);
    expect(space.mapped(at) && space.mapped(at + CHUNK)).toBe(true);
    // Once RECENT_FILLS chunks were filled since, they are old and may go (mapped as they are).
    sandboxMemory.limit = limit;
    const other = new PageCache(mf, RECENT_FILLS * CHUNK, () => undefined);
    other.use(new FakeHost(Buffer.alloc(RECENT_FILLS * CHUNK, 'o')), true, false);
    const at2 = 0x50000000;
    mm.mapShared(at2, RECENT_FILLS * CHUNK, PROT_READ, other, 0);
    mm.populate(at2, RECENT_FILLS * CHUNK);
    sandboxMemory.limit = memoryUse(mf).used;
    makeRoom(mf, CHUNK);
    expect(cache.chunks.size).toBe(0);
    expect(other.chunks.size).toBe(RECENT_FILLS);
    expect(space.mapped(at) || space.mapped(at + CHUNK)).toBe(false);
    sandboxMemory.limit = limit;
    mm.release();
  });
});
