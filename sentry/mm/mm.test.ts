/**
 * MemoryManager on huge sparse ranges: every operation must cost in proportion to the VMAs
 * and populated chunks it touches. A fake platform counts the address-space calls (each a
 * ptrace round trip in the stub) and a real memory file counts its allocations.
 */
import { MemoryFault, MemoryFile, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpace, type FileRange, type Platform, type Prot } from '../../platform';
import { MappingTable } from '../../platform/memfile/mappings';
import { Errno, LinuxError } from '../kernel/errors';
import { MemoryManager } from './mm';
import { MappingRuns, poolOf } from './shared';
import { Credentials } from '../kernel/credentials';
import type { Task } from '../kernel/task';
import { O_RDWR } from '../vfs/file';
import { Dentry, Mount } from '../vfs/mount';
import { setTmpfsMemoryFile, Tmpfs, TmpfsInode } from '../fsimpl/tmpfs/tmpfs';

const TB = 2 ** 40;
const CHUNK = 64 * 1024;
const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;

/** CountingSpace is an AddressSpace that records its mappings and counts its calls. */
class CountingSpace implements AddressSpace {
  readonly table = new MappingTable();
  calls = { mapFile: 0, unmap: 0, protect: 0 };
  mapFile(addr: number, range: FileRange, prot: Prot): void {
    this.calls.mapFile++;
    this.table.map(addr, range, prot);
  }
  unmap(addr: number, length: number): void {
    this.calls.unmap++;
    this.table.unmap(addr, length);
  }
  protect(addr: number, length: number, prot: Prot): void {
    this.calls.protect++;
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
  release(): void {}
}

/** BatchingSpace is a CountingSpace with AddressSpace.mapFiles: it counts each batch (one stub stop). */
class BatchingSpace extends CountingSpace {
  batches: number[] = [];
  mapFiles(maps: readonly { addr: number; range: FileRange; prot: Prot }[]): void {
    this.batches.push(maps.length);
    for (const m of maps) this.table.map(m.addr, m.range, m.prot);
  }
}

/** spaceOf is the fake address space of mm: what the platform maps (its translate reads its table). */
function spaceOf(mm: MemoryManager): CountingSpace {
  return mm.as as unknown as CountingSpace;
}

function fakePlatform(mf: MemoryFile, batching = false): Platform & { spaces: CountingSpace[] } {
  const spaces: CountingSpace[] = [];
  return {
    name: 'counting',
    minUserAddress: 0x10000,
    maxUserAddress: 2 ** 47 - 4096,
    memoryFile: mf,
    spaces,
    newAddressSpace() {
      const s = batching ? new BatchingSpace() : new CountingSpace();
      spaces.push(s);
      return s;
    },
    newContext: () => { throw new Error('no contexts'); },
    newFpState: () => { throw new Error('no fp state'); },
    release() {},
  };
}

describe('MemoryManager on huge ranges', () => {
  let mf: MemoryFile;
  let p: ReturnType<typeof fakePlatform>;
  let allocs: jest.SpyInstance;
  beforeEach(() => {
    mf = MemoryFile.create({ maxSize: 1 << 28 });
    p = fakePlatform(mf);
    allocs = jest.spyOn(mf, 'allocate');
  });
  afterEach(() => mf.close());

  test('1000 reservations of 64 TB, mapped and unmapped, allocate nothing and map nothing', () => {
    const mm = MemoryManager.create(p);
    const as = p.spaces[0];
    for (let i = 0; i < 1000; i++) {
      const addr = mm.findFree(64 * TB);
      mm.mapAnonymous(addr, 64 * TB, 0, false);
      mm.unmap(addr, 64 * TB);
    }
    expect(allocs).not.toHaveBeenCalled();
    expect(as.calls).toEqual({ mapFile: 0, unmap: 1000, protect: 0 });
    expect(mm.vmas).toEqual([]);
  });

  test('touching two pages of a 64 TB reservation populates two chunks; protect, fork and unmap cost per chunk', () => {
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    // Without MAP_NORESERVE, making it writable is accounted: ENOMEM (overcommit).
    mm.mapAnonymous(base, 64 * TB, 0, false);
    expect(() => mm.protect(base, 64 * TB, RW)).toThrow(new LinuxError(Errno.ENOMEM));
    mm.mapAnonymous(base, 64 * TB, 0, false, '', true);
    mm.protect(base, 64 * TB, RW);
    mm.write(base + 5, Buffer.from('low'));
    mm.write(base + 32 * TB, Buffer.from('high'));
    expect(allocs).toHaveBeenCalledTimes(2);
    expect(mm.residentBytes).toBe(2 * CHUNK);

    const child = mm.fork();
    const cs = p.spaces[1];
    // Nothing mapped at fork, no walk over the 2^30 chunks of the range: one mapping per
    // populated chunk at its first access (the sentry's reads here).
    expect(cs.calls.mapFile).toBe(0);
    expect(child.read(base + 32 * TB, 4).toString()).toBe('high');
    expect(child.read(base + 5, 3).toString()).toBe('low');
    expect(cs.calls.mapFile).toBe(2);

    // A fault in the middle of the reservation populates one more chunk.
    expect(mm.handleFault(base + 7 * TB + 123)).toBe(true);
    expect(mm.residentBytes).toBe(3 * CHUNK);

    mm.unmap(base, 64 * TB);
    expect(mm.residentBytes).toBe(0);
    expect(mm.vmas).toEqual([]);
    child.release();
  });

  test('brk of 64 TB beyond the commit limit is refused, a small one grows the heap', () => {
    const mm = MemoryManager.create(p);
    mm.brkStart = mm.brk = 0x40000000;
    expect(mm.setBrk(mm.brk + 64 * TB)).toBe(0x40000000);
    expect(mm.setBrk(mm.brk + 3 * CHUNK)).toBe(0x40000000 + 3 * CHUNK);
    expect(mm.setBrk(0x40000000)).toBe(0x40000000);
    expect(allocs).not.toHaveBeenCalled();
  });

  test('a 64 TB shared mapping is allocated as touched, shared with a child, and freed with its last mapping', () => {
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, 64 * TB, RW, true);
    expect(allocs).not.toHaveBeenCalled();
    mm.write(base + 10, Buffer.from('one'));
    mm.write(base + 40 * TB, Buffer.from('two'));
    const mem = mm.findVma(base)!.shared!.mem;
    expect(mem.chunks.size).toBe(2);

    const child = mm.fork();
    const cs = p.spaces[1];
    // Nothing is mapped at fork (as Linux's fork copies no page-table entry of a shared
    // VMA): the child maps a chunk allocated so far at its first access.
    expect(cs.calls.mapFile).toBe(0);
    expect(child.handleFault(base + 10, 'read')).toBe(true);
    expect(cs.calls.mapFile).toBe(1);
    expect(child.handleFault(base + 10, 'read')).toBe(false); // mapped now: a real fault
    expect(child.read(base + 40 * TB, 3).toString()).toBe('two');
    child.write(base + 40 * TB, Buffer.from('TWO'));
    expect(mm.read(base + 40 * TB, 3).toString()).toBe('TWO');
    // A chunk first touched by the child reaches the parent through a fault.
    child.write(base + 20 * TB, Buffer.from('new'));
    expect(mm.handleFault(base + 20 * TB)).toBe(true);
    expect(mm.handleFault(base + 20 * TB)).toBe(false); // mapped now: a real fault
    expect(mm.read(base + 20 * TB, 3).toString()).toBe('new');

    // Unmapping the middle keeps both ends (and the object) alive in the parent.
    mm.unmap(base + TB, 62 * TB);
    expect(mm.read(base + 10, 3).toString()).toBe('one');
    child.release();
    expect(mem.chunks.size).toBe(3);
    mm.unmap(base, 64 * TB);
    expect(mem.chunks.size).toBe(0);
  });

  test('movePopulated (mremap) moves only what was touched', () => {
    const mm = MemoryManager.create(p);
    const src = 0x100000000, dst = 0x200000000000;
    mm.mapAnonymous(src, 16 * TB, RW, false);
    mm.write(src + TB, Buffer.from('moved'));
    mm.mapAnonymous(dst, 16 * TB, RW, false);
    mm.movePopulated(src, 16 * TB, dst);
    mm.unmap(src, 16 * TB);
    expect(mm.read(dst + TB, 5).toString()).toBe('moved');
    expect(mm.residentBytes).toBe(CHUNK);
  });

  test('movePopulated moves whole chunks by reference when the offsets in a chunk agree, copies otherwise', () => {
    const mm = MemoryManager.create(p);
    const as = p.spaces[0];
    const src = 0x100000000, len = 16 * CHUNK;
    mm.mapAnonymous(src, len, RW, false);
    for (let i = 0; i < 16; i++) mm.write(src + i * CHUNK + 8, Buffer.from(`c${i}`));
    expect(allocs).toHaveBeenCalledTimes(16);
    const reads = jest.spyOn(mf, 'readBytes');
    // Aligned: no page copied, no chunk allocated, the 16 chunks mapped at dst in one run
    // when the memory file holds them in a row.
    const dst = 0x300000000;
    mm.mapAnonymous(dst, len, RW, false);
    as.calls = { mapFile: 0, unmap: 0, protect: 0 };
    mm.movePopulated(src, len, dst);
    mm.unmap(src, len);
    expect(allocs).toHaveBeenCalledTimes(16);
    expect(reads).not.toHaveBeenCalled();
    // One map of the 16 chunks (consecutive in the file), one unmap of their old run, one of munmap.
    expect(as.calls).toEqual({ mapFile: 1, unmap: 2, protect: 0 });
    expect(mm.residentBytes).toBe(16 * CHUNK);
    for (let i = 0; i < 16; i++) expect(mm.read(dst + i * CHUNK + 8, i < 10 ? 2 : 3).toString()).toBe(`c${i}`);
    // One page off: the touched pages are copied into fresh chunks (17: the range straddles one more).
    const odd = 0x400000000 + PAGE;
    mm.mapAnonymous(odd, len, RW, false);
    mm.movePopulated(dst, len, odd);
    mm.unmap(dst, len);
    expect(reads).toHaveBeenCalled();
    expect(mm.residentBytes).toBe(17 * CHUNK);
    for (let i = 0; i < 16; i++) expect(mm.read(odd + i * CHUNK + 8, i < 10 ? 2 : 3).toString()).toBe(`c${i}`);
    // A moved chunk shared since a fork stays copy-on-write: the child keeps its bytes.
    const child = mm.fork();
    const far = 0x500000000 + PAGE;
    mm.mapAnonymous(far, len, RW, false);
    mm.movePopulated(odd, len, far);
    mm.unmap(odd, len);
    mm.write(far + 8, Buffer.from('XX'));
    expect(child.read(odd + 8, 2).toString()).toBe('c0');
    expect(mm.read(far + 8, 2).toString()).toBe('XX');
    child.release();
    mm.release();
  });

  test('discard (MADV_DONTNEED) frees whole chunks, zeroes partial ones, never touches a chunk shared since a fork', () => {
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, 4 * CHUNK, RW, false);
    for (let i = 0; i < 4; i++) mm.write(base + i * CHUNK, Buffer.alloc(CHUNK, i + 1));
    expect(mm.residentBytes).toBe(4 * CHUNK);
    // Chunk 1 whole and the first page of chunk 2: one chunk freed, one page zeroed.
    mm.discard(base + CHUNK, CHUNK + PAGE);
    expect(mm.residentBytes).toBe(3 * CHUNK);
    expect(mm.residency(base, 4 * CHUNK).reduce((n, b) => n + b, 0)).toBe(48);
    expect(mm.handleFault(base + CHUNK)).toBe(true); // unmapped: a fresh chunk on the next touch
    expect(mm.read(base + CHUNK, CHUNK).every((b) => b === 0)).toBe(true);
    expect(mm.read(base + 2 * CHUNK, PAGE).every((b) => b === 0)).toBe(true);
    expect(mm.read(base + 2 * CHUNK + PAGE, 1)[0]).toBe(3);
    // After a fork the child's discard leaves the parent's bytes.
    const child = mm.fork();
    child.discard(base, 4 * CHUNK);
    expect(child.read(base + 3 * CHUNK, 4).every((b) => b === 0)).toBe(true);
    expect(mm.read(base + 3 * CHUNK, 1)[0]).toBe(4);
    expect(mm.read(base, 1)[0]).toBe(1);
    child.release();
  });

  test('discard of a shared mapping unmaps it here only; the object keeps the bytes', () => {
    const mm = MemoryManager.create(p);
    const as = p.spaces[0];
    const base = 0x100000000;
    mm.mapAnonymous(base, 2 * CHUNK, RW, true);
    mm.write(base, Buffer.from('kept'));
    mm.discard(base, 2 * CHUNK);
    expect(() => as.translate(base, 1, PROT_READ)).toThrow(MemoryFault);
    expect(mm.residency(base, 2 * CHUNK)[0]).toBe(1);
    expect(mm.handleFault(base)).toBe(true);
    expect(mm.read(base, 4).toString()).toBe('kept');
  });

  test('setDontFork: the child gets neither the range nor its chunks; DOFORK gives it back', () => {
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, 4 * CHUNK, RW, false);
    mm.write(base, Buffer.alloc(4 * CHUNK, 7));
    mm.setDontFork(base + CHUNK, CHUNK + PAGE, true);
    expect(mm.vmas.length).toBe(3);
    const child = mm.fork();
    expect(child.isMapped(base + CHUNK, PAGE)).toBe(false);
    expect(child.isMapped(base + 2 * CHUNK + PAGE, PAGE)).toBe(true);
    expect(child.residentBytes).toBe(3 * CHUNK); // chunk 1 is the parent's alone
    // Chunk 2's first page was not inherited: a later mapping there reads zeros in the child.
    child.mapAnonymous(base + CHUNK, CHUNK + PAGE, RW, false);
    expect(child.read(base + 2 * CHUNK, PAGE).every((b) => b === 0)).toBe(true);
    expect(child.read(base + 2 * CHUNK + PAGE, 1)[0]).toBe(7);
    expect(mm.read(base + 2 * CHUNK, 1)[0]).toBe(7);
    child.release();
    mm.setDontFork(base, 4 * CHUNK, false);
    const again = mm.fork();
    expect(again.isMapped(base, 4 * CHUNK)).toBe(true);
    again.release();
  });

  test('residency reports the populated chunks of private and shared mappings', () => {
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, 4 * CHUNK, RW, false);
    mm.mapAnonymous(base + 4 * CHUNK, 2 * CHUNK, RW, true);
    expect(mm.residency(base, 6 * CHUNK).every((b) => b === 0)).toBe(true);
    mm.write(base + CHUNK + 5, Buffer.from('x'));
    mm.write(base + 5 * CHUNK, Buffer.from('y'));
    const v = mm.residency(base, 6 * CHUNK);
    const perChunk = [0, 1, 2, 3, 4, 5].map((c) => v.subarray(c * 16, c * 16 + 16).reduce((n, b) => n + b, 0));
    expect(perChunk).toEqual([0, 16, 0, 0, 0, 16]);
  });

  test('a tmpfs file mapped shared is one memory with read()/write(); truncation unmaps past the end everywhere; pages go with the last holder', () => {
    setTmpfsMemoryFile(mf);
    const task = {} as Task;
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 64 * 4096 });
    const ino = fs.root.create('f', 0o600, new Credentials(0, 0)) as TmpfsInode;
    const mount = new Mount(fs, null, null, 0, 'tmpfs');
    const f = ino.open({ mount, dentry: new Dentry('f', mount.root, ino) }, O_RDWR);
    // A 2 GiB sparse file stores nothing; a mapping of all of it allocates nothing either.
    const GiB2 = 2 ** 31;
    f.truncate(GiB2);
    expect(ino.stat().blocks).toBe(0);
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapShared(base, GiB2, RW, ino.data, 0, '/f');
    expect(allocs).not.toHaveBeenCalled();
    f.write(task, Buffer.from('by write()'), 100);
    expect(ino.stat().blocks).toBe(8); // one page charged
    expect(mm.read(base + 100, 10).toString()).toBe('by write()');
    mm.write(base + 3 * CHUNK, Buffer.from('by a store'));
    const b = Buffer.alloc(10);
    f.read(task, b, 3 * CHUNK);
    expect(b.toString()).toBe('by a store');
    expect(fs.pages).toBe(2 * 16); // a chunk mapped (for the read, then the store) charges its 16 pages
    const child = mm.fork();
    expect(child.read(base + 3 * CHUNK, 10).toString()).toBe('by a store');
    // A hole punched over chunk 3 is unmapped everywhere; a fault maps a fresh zeroed chunk.
    ino.punchHole(3 * CHUNK, CHUNK);
    expect(child.handleFault(base + 3 * CHUNK)).toBe(true);
    expect(child.read(base + 3 * CHUNK, 10)).toEqual(Buffer.alloc(10));
    mm.write(base + 3 * CHUNK, Buffer.from('by a store'));
    expect(child.read(base + 3 * CHUNK, 10).toString()).toBe('by a store');
    // Shrinking to 2 chunks + 10 bytes: the mapped chunk 3 is unmapped in both address
    // spaces (a fault there is an access violation), page 0 is kept.
    f.truncate(2 * CHUNK + 10);
    expect(fs.pages).toBe(16);
    expect(ino.data.chunks.size).toBe(1);
    for (const space of [mm, child]) {
      expect(space.handleFault(base + 3 * CHUNK)).toBe(false);
      expect(space.isBusFault(base + 3 * CHUNK)).toBe(true);
      expect(() => space.read(base + 3 * CHUNK, 1)).toThrow(new LinuxError(Errno.EFAULT));
      expect(space.read(base + 100, 10).toString()).toBe('by write()');
    }
    // Up to the end of the last page is mappable (and reads zeros), the next page is not.
    expect(mm.read(base + 2 * CHUNK + 4095, 1)[0]).toBe(0);
    expect(() => mm.read(base + 2 * CHUNK + 4096, 1)).toThrow(new LinuxError(Errno.EFAULT));
    // Unlinked and closed, the data lives on with its mappings.
    fs.root.unlink('f');
    f.unref();
    expect(fs.pages).toBeGreaterThan(0);
    child.release();
    mm.unmap(base, GiB2);
    expect(fs.pages).toBe(0);
    expect(ino.data.chunks.size).toBe(0);
  });

  test('size= bounds what stores through a mapping charge: a fault past it is refused', () => {
    setTmpfsMemoryFile(mf);
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 20 * 4096 });
    const ino = fs.root.create('f', 0o600, new Credentials(0, 0)) as TmpfsInode;
    ino.resize(4 * CHUNK);
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapShared(base, 4 * CHUNK, RW, ino.data, 0, '/f');
    expect(mm.handleFault(base)).toBe(true); // 16 pages
    expect(mm.handleFault(base + CHUNK)).toBe(false); // 16 more do not fit
    expect(mm.isBusFault(base + CHUNK)).toBe(true); // SIGBUS, as Linux's shmem
    expect(mm.isBusFault(base + 2 * CHUNK)).toBe(false);
    expect(fs.pages).toBe(20); // the 4 that fitted stay charged
    mm.release();
    ino.dropData();
    expect(fs.pages).toBe(0);
  });
});

const FORK_GUESSES = MemoryManager.forkWriteGuesses;

describe('MemoryManager fork is copy-on-write', () => {
  let mf: MemoryFile;
  let p: ReturnType<typeof fakePlatform>;
  let allocs: jest.SpyInstance;
  beforeEach(() => {
    mf = MemoryFile.create({ maxSize: 1 << 28 });
    p = fakePlatform(mf);
    allocs = jest.spyOn(mf, 'allocate');
    // The plain path: a fault of unknown access maps read-only (the guesses have their own test).
    MemoryManager.forkWriteGuesses = 0;
  });
  afterEach(() => {
    mf.close();
    MemoryManager.forkWriteGuesses = FORK_GUESSES;
  });

  test("a fork child's first unknown faults on shared chunks of writable memory copy at once, a read-only VMA's never, then they map read-only; a full memory file maps as for a read", () => {
    MemoryManager.forkWriteGuesses = FORK_GUESSES;
    const inUse = countInUse();
    const mm = MemoryManager.create(p);
    const base = 0x100000000, ro = 0x200000000;
    mm.mapAnonymous(base, 8 * CHUNK, RW, false);
    mm.mapAnonymous(ro, CHUNK, RW, false);
    for (let c = 0; c < 8; c++) mm.write(base + c * CHUNK, Buffer.from(`chunk ${c}`));
    mm.write(ro, Buffer.from('ro'));
    mm.protect(ro, CHUNK, PROT_READ);
    const child = mm.fork();
    const cs = p.spaces[1];
    expect(inUse()).toBe(9);
    // A read-only VMA: mapped, never copied, no guess spent.
    expect(child.handleFault(ro)).toBe(true);
    expect(inUse()).toBe(9);
    for (let c = 0; c < FORK_GUESSES; c++) {
      expect(child.handleFault(base + c * CHUNK + 8)).toBe(true);
      expect(inUse()).toBe(10 + c); // copied: writable at once
      expect(() => cs.translate(base + c * CHUNK, CHUNK, PROT_WRITE)).not.toThrow();
    }
    expect(child.read(base, 7).toString()).toBe('chunk 0');
    expect(mm.read(base, 7).toString()).toBe('chunk 0');
    // The guesses spent: the next maps read-only, shared.
    expect(child.handleFault(base + FORK_GUESSES * CHUNK)).toBe(true);
    expect(inUse()).toBe(9 + FORK_GUESSES);
    expect(() => cs.translate(base + FORK_GUESSES * CHUNK, 1, PROT_WRITE)).toThrow(MemoryFault);
    child.release();
    mm.release();
  });

  /** inUse counts the chunks taken from the memory file's pool and not given back. */
  function countInUse(): () => number {
    const pool = poolOf(mf);
    const take = jest.spyOn(pool, 'take'), give = jest.spyOn(pool, 'give');
    return () => take.mock.calls.length - give.mock.calls.length;
  }

  test('a fork shares every chunk read-only; the first write in either copies that chunk alone', () => {
    const inUse = countInUse();
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, 8 * CHUNK, RW, false);
    for (let c = 0; c < 8; c++) mm.write(base + c * CHUNK, Buffer.from(`chunk ${c}`));
    expect(inUse()).toBe(8);
    const as = p.spaces[0];
    const before = { ...as.calls };

    const child = mm.fork();
    const cs = p.spaces[1];
    expect(inUse()).toBe(8); // nothing copied, nothing allocated
    // One protect for the parent's run of 8 chunks; the child maps a chunk at its first access.
    expect(as.calls.protect - before.protect).toBe(1);
    expect(as.calls.mapFile - before.mapFile).toBe(0);
    expect(cs.calls.mapFile).toBe(0);
    // The parent maps every page readable, not writable; the child nothing yet.
    expect(() => as.translate(base, 8 * CHUNK, PROT_READ)).not.toThrow();
    expect(() => as.translate(base + 3 * CHUNK + 100, 1, PROT_WRITE)).toThrow(MemoryFault);
    expect(() => cs.translate(base, 1, PROT_READ)).toThrow(MemoryFault);
    // The child's first fault (of unknown access) maps chunk 3 readable, shared; a read
    // fault (a backend that can tell) too.
    expect(child.handleFault(base + 3 * CHUNK + 100)).toBe(true);
    expect(child.handleFault(base + 2 * CHUNK, 'read')).toBe(true);
    expect(inUse()).toBe(8);
    expect(() => cs.translate(base + 2 * CHUNK, 2 * CHUNK, PROT_READ)).not.toThrow();
    expect(() => cs.translate(base + 3 * CHUNK + 100, 1, PROT_WRITE)).toThrow(MemoryFault);
    // A write fault there then copies chunk 3 only; the parent still reads its old value.
    expect(child.handleFault(base + 3 * CHUNK + 100)).toBe(true);
    expect(inUse()).toBe(9);
    child.write(base + 3 * CHUNK, Buffer.from('CHILD'));
    expect(inUse()).toBe(9);
    expect(child.read(base + 3 * CHUNK, 7).toString()).toBe('CHILD 3');
    expect(mm.read(base + 3 * CHUNK, 7).toString()).toBe('chunk 3');
    expect(() => cs.translate(base + 3 * CHUNK, CHUNK, PROT_WRITE)).not.toThrow();
    expect(() => cs.translate(base + 4 * CHUNK, 1, PROT_WRITE)).toThrow(MemoryFault);
    // The sentry's store into the parent (read(2) into a buffer, say) copies too.
    mm.write(base + 5 * CHUNK, Buffer.from('PARENT'));
    expect(inUse()).toBe(10);
    expect(child.read(base + 5 * CHUNK, 7).toString()).toBe('chunk 5');
    // writeForce (ELF loader, file-backed private pages) breaks the sharing as well.
    child.writeForce(base + 6 * CHUNK, Buffer.from('FORCE'));
    expect(mm.read(base + 6 * CHUNK, 7).toString()).toBe('chunk 6');
    expect(inUse()).toBe(11);
    // A second fault on a chunk now owned is a real fault.
    expect(child.handleFault(base + 3 * CHUNK)).toBe(false);
    // An execute fault on a cow chunk of a VMA without PROT_EXEC is not a write: refused;
    // a read fault neither (a backend that can tell).
    expect(mm.handleFault(base + 7 * CHUNK, 'execute')).toBe(false);
    expect(mm.handleFault(base + 7 * CHUNK, 'read')).toBe(false);

    // The child exits: its references go; chunks only the parent holds are remapped
    // writable on its next write without a copy.
    child.release();
    expect(inUse()).toBe(8);
    expect(mm.handleFault(base + 7 * CHUNK)).toBe(true);
    expect(inUse()).toBe(8);
    expect(() => as.translate(base + 7 * CHUNK, CHUNK, PROT_WRITE)).not.toThrow();
    mm.release();
    expect(inUse()).toBe(0);
    expect(allocs.mock.calls.length).toBeLessThanOrEqual(11);
  });

  test('the chunks at the hot addresses (stack, thread pointer) are copied at fork and stay writable in both', () => {
    const inUse = countInUse();
    const mm = MemoryManager.create(p);
    const as = p.spaces[0];
    const base = 0x100000000;
    mm.mapAnonymous(base, 4 * CHUNK, RW, false);
    mm.write(base, Buffer.alloc(4 * CHUNK, 0x73));
    const child = mm.fork([base + 2 * CHUNK + 100, base + 2 * CHUNK + 200, 0x10]); // twice the same chunk, an unmapped address
    const cs = p.spaces[1];
    expect(inUse()).toBe(5); // one copy, for chunk 2
    for (const s of [as, cs]) {
      expect(() => s.translate(base + 2 * CHUNK, CHUNK, PROT_WRITE)).not.toThrow();
      expect(() => s.translate(base + CHUNK, 1, PROT_WRITE)).toThrow(MemoryFault);
    }
    // No fault needed: each side's stores land in its own chunk.
    expect(mm.handleFault(base + 2 * CHUNK)).toBe(false);
    mm.write(base + 2 * CHUNK, Buffer.from('parent'));
    child.write(base + 2 * CHUNK, Buffer.from('child!'));
    expect(mm.read(base + 2 * CHUNK, 6).toString()).toBe('parent');
    expect(child.read(base + 2 * CHUNK, 6).toString()).toBe('child!');
    expect(inUse()).toBe(5);
    child.release();
    mm.release();
    expect(inUse()).toBe(0);
  });

  test('map/partial unmap/mremap/madvise/exit cycles of shared anonymous memory and a tmpfs file leave the chunk count where it started', () => {
    const inUse = countInUse();
    setTmpfsMemoryFile(mf);
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 1 << 24 });
    const ino = fs.root.create('leak', 0o600, new Credentials(0, 0)) as TmpfsInode;
    const mount = new Mount(fs, null, null, 0, 'tmpfs');
    ino.open({ mount, dentry: new Dentry('leak', mount.root, ino) }, O_RDWR).truncate(8 * CHUNK);
    const base = 0x100000000, len = 8 * CHUNK;
    for (let i = 0; i < 4; i++) {
      const mm = MemoryManager.create(p);
      mm.mapAnonymous(base, len, RW, true);
      mm.mapShared(base + TB, len, RW, ino.data, 0, '/leak');
      for (const at of [base, base + TB]) mm.write(at, Buffer.alloc(len, 1 + i));
      const child = mm.fork();
      // Partial unmaps in the middle and at the ends, a move, a discard, in both processes.
      child.unmap(base + CHUNK + PAGE, 2 * CHUNK);
      mm.unmap(base + TB + 3 * CHUNK, CHUNK + PAGE);
      mm.unmap(base, PAGE);
      mm.mapShared(base + 2 * TB, 2 * CHUNK, RW, mm.findVma(base + 6 * CHUNK)!.shared!.mem, 6 * CHUNK);
      mm.unmap(base + 5 * CHUNK, 3 * CHUNK);
      child.discard(base + TB, len);
      expect(child.read(base + TB + 5 * CHUNK, 1)[0]).toBe(1 + i);
      expect(mm.read(base + 2 * TB + CHUNK, 1)[0]).toBe(1 + i);
      if (i % 2) {
        child.release();
        mm.release();
      } else {
        mm.release();
        child.release();
      }
      // Only the file's 8 chunks remain: the shared anonymous memory went with its last mapping.
      expect(inUse()).toBe(8);
      expect(ino.data.chunks.size).toBe(8);
    }
    ino.data.cut(0);
    expect(inUse()).toBe(0);
  });

  test('fork/write/exit cycles (and a grandchild) leave the chunk count where it started', () => {
    const inUse = countInUse();
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, 16 * CHUNK, RW, false);
    mm.write(base, Buffer.alloc(16 * CHUNK, 0x61));
    const start = inUse();
    for (let i = 0; i < 5; i++) {
      const child = mm.fork();
      expect(inUse()).toBe(start); // the fork itself copies nothing
      child.write(base + i * CHUNK, Buffer.from('child'));
      const grandchild = child.fork();
      grandchild.write(base + (i + 1) * CHUNK, Buffer.from('grandchild'));
      expect(child.read(base + (i + 1) * CHUNK, 1).toString()).toBe('a');
      expect(grandchild.read(base + i * CHUNK, 5).toString()).toBe('child');
      expect(mm.read(base + i * CHUNK, 5).toString()).toBe('aaaaa');
      mm.write(base + 15 * CHUNK, Buffer.from(`parent ${i}`));
      expect(child.read(base + 15 * CHUNK, 1).toString()).toBe(i === 0 ? 'a' : 'p');
      // Either may go first.
      if (i % 2) {
        child.release();
        grandchild.release();
      } else {
        grandchild.release();
        child.release();
      }
      expect(inUse()).toBe(start);
    }
    // The parent alone holds everything again; the pages are its own.
    expect(mm.read(base + 3 * CHUNK, 2).toString()).toBe('aa');
    mm.release();
    expect(inUse()).toBe(0);
  });

  test('a private file mapping maps the file\'s own pages in every address space; a write copies one page; cycles leave no chunk', () => {
    const inUse = countInUse();
    setTmpfsMemoryFile(mf);
    const task = {} as Task;
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 1 << 24 });
    const ino = fs.root.create('lib', 0o600, new Credentials(0, 0)) as TmpfsInode;
    const mount = new Mount(fs, null, null, 0, 'tmpfs');
    const f = ino.open({ mount, dentry: new Dentry('lib', mount.root, ino) }, O_RDWR);
    const len = 4 * CHUNK, base = 0x100000000;
    f.write(task, Buffer.alloc(len, 0x61), 0);
    const fileChunks = inUse();
    expect(fileChunks).toBe(4);
    for (let cycle = 0; cycle < 3; cycle++) {
      const spaces = [0, 1, 2].map(() => MemoryManager.create(p));
      for (const mm of spaces) {
        mm.mapPrivateFile(base, len, RW, ino.data, 0, '/lib');
        expect(mm.read(base, len).equals(Buffer.alloc(len, 0x61))).toBe(true);
        // The file's own pages, read-only: nothing copied, nothing allocated.
        expect(spaceOf(mm).translate(base + CHUNK, PAGE, PROT_READ)).toEqual([{ offset: ino.data.chunks.get(1)!.offset, length: PAGE }]);
        expect(() => spaceOf(mm).translate(base + CHUNK, PAGE, PROT_WRITE)).toThrow(MemoryFault);
      }
      expect(inUse()).toBe(fileChunks);
      // Fault-around: one fault maps what the file holds near it (here all 4 chunks).
      const d = MemoryManager.create(p);
      d.mapPrivateFile(base, len, PROT_READ, ino.data, 0, '/lib');
      expect(d.handleFault(base + 5)).toBe(true);
      expect(spaceOf(d).translate(base, len, PROT_READ)).toEqual([0, 1, 2, 3].map((c) => ({ offset: ino.data.chunks.get(c)!.offset, length: CHUNK })).reduce<FileRange[]>((out, r) => {
        const last = out[out.length - 1];
        if (last && last.offset + last.length === r.offset) last.length += r.length;
        else out.push({ ...r });
        return out;
      }, []));
      d.release();
      const [a, b, c] = spaces;
      // A store copies its page alone; the neighbour still shows the file's later writes.
      a.write(base + PAGE + 5, Buffer.from('private'));
      expect(inUse()).toBe(fileChunks + 1);
      f.write(task, Buffer.from('file'), PAGE);
      f.write(task, Buffer.from('file'), 2 * PAGE);
      expect(a.read(base + PAGE, 12).toString()).toBe('aaaaaprivate');
      expect(a.read(base + 2 * PAGE, 4).toString()).toBe('file');
      expect(b.read(base + PAGE, 4).toString()).toBe('file');
      // A fault on a file page mapped read-only in a writable VMA can only be a write: it copies.
      expect(b.handleFault(base + 3 * PAGE)).toBe(true);
      expect(spaceOf(b).translate(base + 3 * PAGE, PAGE, PROT_WRITE)).toHaveLength(1);
      f.write(task, Buffer.from('later'), 3 * PAGE);
      expect(b.read(base + 3 * PAGE, 5).toString()).toBe('aaaaa');
      expect(c.read(base + 3 * PAGE, 5).toString()).toBe('later');
      // A fork shares the copy; the child's write copies it again.
      const child = a.fork();
      expect(child.read(base + PAGE + 5, 7).toString()).toBe('private');
      child.write(base + PAGE + 5, Buffer.from('CHILD'));
      expect(a.read(base + PAGE + 5, 7).toString()).toBe('private');
      for (const mm of [child, ...spaces]) mm.release();
      expect(inUse()).toBe(fileChunks);
      f.write(task, Buffer.alloc(4 * PAGE, 0x61), 0);
    }
    ino.data.cut(0);
    expect(inUse()).toBe(0);
  });

  test('an object chunk stays pinned while a VMA of some address space maps it: partial munmap, fork, truncate and exit unpin it exactly', () => {
    setTmpfsMemoryFile(mf);
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 1 << 24 });
    const ino = fs.root.create('pin', 0o600, new Credentials(0, 0)) as TmpfsInode;
    const mount = new Mount(fs, null, null, 0, 'tmpfs');
    const f = ino.open({ mount, dentry: new Dentry('pin', mount.root, ino) }, O_RDWR);
    f.write({} as Task, Buffer.alloc(4 * CHUNK, 1), 0);
    const mem = ino.data, base = 0x100000000;
    const pinned = () => [0, 1, 2, 3].filter((c) => mem.isPinned(c));
    const mm = MemoryManager.create(p);
    mm.mapShared(base, 4 * CHUNK, PROT_READ, mem, 0, '/pin');
    mm.mapPrivateFile(base + TB, 2 * CHUNK, RW, mem, 2 * CHUNK, '/pin');
    expect(pinned()).toEqual([]); // nothing mapped until touched
    mm.populate(base, 2 * CHUNK);
    mm.populate(base + TB, CHUNK);
    expect(pinned()).toEqual([0, 1, 2]);
    // Unmapping part of a chunk keeps it (its other pages are mapped); all of it unpins it,
    // unless another VMA here still covers it.
    mm.unmap(base + CHUNK, PAGE);
    expect(pinned()).toEqual([0, 1, 2]);
    mm.unmap(base + CHUNK, CHUNK);
    expect(pinned()).toEqual([0, 2]);
    mm.unmap(base + 2 * CHUNK, CHUNK); // chunk 2 is still the private VMA's
    expect(pinned()).toEqual([0, 2]);
    // A child maps nothing at fork: it pins what its accesses map (a read of chunk 3 maps
    // chunk 2 with it: fault-around); each side's unmap and exit drop its own pins only.
    const child = mm.fork();
    mm.unmap(base + TB, 2 * CHUNK);
    expect(pinned()).toEqual([0]); // the child mapped none of chunk 2 at fork
    expect(child.handleFault(base + TB + CHUNK, 'read')).toBe(true);
    expect(pinned()).toEqual([0, 2, 3]);
    child.release();
    expect(pinned()).toEqual([0]);
    // A truncate unmaps and unpins what it cuts; the rest stays.
    mm.populate(base + 3 * CHUNK, PAGE);
    expect(pinned()).toEqual([0, 3]);
    f.truncate(3 * CHUNK);
    expect(pinned()).toEqual([0]);
    mm.release();
    expect(pinned()).toEqual([]);
    ino.data.cut(0);
  });

  test('with the memory file full, a write fault on a shared chunk is refused (SIGSEGV) and munmap still works', () => {
    const small = MemoryFile.create({ maxSize: 4 * CHUNK });
    try {
      const sp = fakePlatform(small);
      const mm = MemoryManager.create(sp);
      const base = 0x100000000;
      mm.mapAnonymous(base, 4 * CHUNK, RW, false);
      mm.write(base, Buffer.alloc(4 * CHUNK, 0x63));
      // A guess of a write finds the memory file full: mapped read-only, as a read would be.
      MemoryManager.forkWriteGuesses = FORK_GUESSES;
      const child = mm.fork();
      expect(child.handleFault(base + CHUNK)).toBe(true); // mapped read-only: a write faults again
      expect(() => sp.spaces[1].translate(base + CHUNK, 1, PROT_WRITE)).toThrow(MemoryFault);
      expect(child.handleFault(base + CHUNK)).toBe(false);
      expect(() => child.write(base + CHUNK, Buffer.from('x'))).toThrow(new LinuxError(Errno.ENOMEM));
      expect(() => child.unmap(base + CHUNK, PAGE)).not.toThrow();
      expect(mm.read(base + CHUNK, 4).toString()).toBe('cccc');
      // Once the child is gone the parent's chunks are its own again: no copy needed.
      child.release();
      expect(mm.handleFault(base + CHUNK)).toBe(true);
      mm.write(base + 2 * CHUNK, Buffer.from('d'));
      mm.release();
    } finally {
      small.close();
    }
  });

  test('mprotect keeps shared chunks read-only; munmap of part of a shared chunk does not zero the other side', () => {
    const mm = MemoryManager.create(p);
    const as = p.spaces[0];
    const base = 0x100000000;
    mm.mapAnonymous(base, 2 * CHUNK, RW, false);
    mm.write(base, Buffer.alloc(2 * CHUNK, 0x62));
    const child = mm.fork();
    const cs = p.spaces[1];
    mm.protect(base, 2 * CHUNK, PROT_READ);
    mm.protect(base, 2 * CHUNK, RW);
    expect(() => as.translate(base, 1, PROT_WRITE)).toThrow(MemoryFault);
    child.protect(base, CHUNK, RW);
    expect(() => cs.translate(base, 1, PROT_WRITE)).toThrow(MemoryFault);
    // The child unmaps half of chunk 0: its part is zeroed in its own copy only.
    child.unmap(base + CHUNK / 2, CHUNK / 2);
    expect(mm.read(base + CHUNK / 2, 4).toString()).toBe('bbbb');
    child.mapAnonymous(base + CHUNK / 2, CHUNK / 2, RW, false);
    expect(child.read(base + CHUNK / 2, 4)).toEqual(Buffer.alloc(4));
    expect(child.read(base, 4).toString()).toBe('bbbb');
    // A read-only VMA's cow chunk is not made writable by a fault.
    mm.protect(base + CHUNK, CHUNK, PROT_READ);
    expect(mm.handleFault(base + CHUNK)).toBe(false);
    // In an executable VMA, an `execute` fault on a cow chunk is a store at the instruction's address.
    mm.protect(base, CHUNK, RW | PROT_EXEC);
    expect(mm.handleFault(base, 'execute')).toBe(true);
    expect(child.read(base, 4).toString()).toBe('bbbb');
    child.release();
    mm.release();
  });
});

describe('MemoryManager.ioViews (read/write straight into application memory)', () => {
  let mf: MemoryFile;
  let p: ReturnType<typeof fakePlatform>;
  beforeEach(() => {
    // Small mapping chunks, so that a few hundred KiB of application memory span several.
    mf = MemoryFile.create({ maxSize: 1 << 26, chunkSize: 4 * CHUNK });
    p = fakePlatform(mf);
  });
  afterEach(() => mf.close());

  const total = (views: Buffer[]) => views.reduce((n, v) => n + v.length, 0);

  test('views cover the range in order, split where the memory file\'s mapping chunks end', () => {
    const mm = MemoryManager.create(p);
    const len = 20 * CHUNK;
    const addr = mm.findFree(len);
    mm.mapAnonymous(addr, len, RW, false);
    const start = addr + 3 * PAGE + 5, n = len - 4 * PAGE;
    const views = mm.ioViews([{ base: start, len: n }], n, true);
    expect(total(views)).toBe(n);
    expect(views.length).toBeGreaterThanOrEqual(5); // 20 chunks in mapping chunks of 4
    expect(views.every((v) => v.length <= 4 * CHUNK)).toBe(true);
    let k = 0;
    for (const v of views) for (let i = 0; i < v.length; i++) v[i] = (k++ * 7) & 0xff;
    const back = mm.read(start, n);
    expect(back.every((b, i) => b === ((i * 7) & 0xff))).toBe(true);
    // Loads see the same bytes through the same kind of views.
    expect(Buffer.concat(mm.ioViews([{ base: start, len: n }], n, false)).equals(back)).toBe(true);
  });

  test('views stop at the first page without the access; none when the first byte lacks it', () => {
    const mm = MemoryManager.create(p);
    const addr = mm.findFree(8 * PAGE);
    mm.mapAnonymous(addr, 4 * PAGE, RW, false);
    mm.mapAnonymous(addr + 4 * PAGE, 2 * PAGE, PROT_READ, false);
    // [addr+6 pages, addr+8 pages) is unmapped.
    expect(total(mm.ioViews([{ base: addr + 100, len: 8 * PAGE }], 8 * PAGE, true))).toBe(4 * PAGE - 100);
    expect(total(mm.ioViews([{ base: addr + 100, len: 8 * PAGE }], 8 * PAGE, false))).toBe(6 * PAGE - 100);
    expect(mm.ioViews([{ base: addr + 4 * PAGE, len: PAGE }], PAGE, true)).toEqual([]);
    expect(mm.ioViews([{ base: addr + 6 * PAGE, len: PAGE }], PAGE, false)).toEqual([]);
    expect(mm.ioViews([{ base: 2 ** 53, len: PAGE }], PAGE, false)).toEqual([]);
  });

  test('a store through views after fork copies the shared chunk first: the other address space keeps its bytes', () => {
    const parent = MemoryManager.create(p);
    const addr = parent.findFree(4 * CHUNK);
    parent.mapAnonymous(addr, 4 * CHUNK, RW, false);
    parent.write(addr, Buffer.alloc(4 * CHUNK, 'P'));
    const child = parent.fork();
    for (const v of child.ioViews([{ base: addr + 10, len: CHUNK }], CHUNK, true)) v.fill('C');
    expect(parent.read(addr, 4 * CHUNK).every((b) => b === 0x50)).toBe(true);
    for (const v of parent.ioViews([{ base: addr + 2 * CHUNK, len: CHUNK }], CHUNK, true)) v.fill('Q');
    const seen = child.read(addr, 4 * CHUNK);
    expect(seen.subarray(10, 10 + CHUNK).every((b) => b === 0x43)).toBe(true);
    expect(seen.subarray(2 * CHUNK).every((b) => b === 0x50)).toBe(true);
    child.release();
    parent.release();
  });
});

describe('MemoryManager.usageOf (/proc/<pid>/smaps) and rollup (smaps_rollup)', () => {
  let mf: MemoryFile;
  let p: ReturnType<typeof fakePlatform>;
  beforeEach(() => {
    mf = MemoryFile.create({ maxSize: 1 << 28 });
    p = fakePlatform(mf);
  });
  afterEach(() => mf.close());

  test('per VMA to the page where a chunk straddles VMAs; PSS halves what a fork shares; locked VMAs count their PSS; rollup is the sum', () => {
    const mm = MemoryManager.create(p);
    // Three VMAs in one chunk: 4 pages RW, 4 pages read-only, 8 pages RW (locked); all of the chunk populated by one touch.
    const base = 0x100000000;
    mm.mapAnonymous(base, 4 * PAGE, RW, false);
    mm.mapAnonymous(base + 4 * PAGE, 4 * PAGE, PROT_READ, false);
    mm.mapAnonymous(base + 8 * PAGE, 8 * PAGE, RW, false);
    mm.write(base, Buffer.from('x'));
    mm.lock(base + 8 * PAGE, 8 * PAGE, true);
    const [a, b, c] = mm.vmas;
    expect([a, b, c].map((v) => mm.usageOf(v).rss)).toEqual([4 * PAGE, 4 * PAGE, 8 * PAGE]);
    expect([a, b, c].map((v) => mm.usageOf(v).anon)).toEqual([4 * PAGE, 4 * PAGE, 8 * PAGE]);
    expect(mm.usageOf(c)).toMatchObject({ pss: 8 * PAGE, privateDirty: 8 * PAGE, sharedDirty: 0, locked: 8 * PAGE });
    expect(mm.usageOf(a).locked).toBe(0);
    expect(mm.rollup()).toMatchObject({ rss: CHUNK, pss: CHUNK, anon: CHUNK, locked: 8 * PAGE });

    const child = mm.fork();
    const shared = child.usageOf(child.vmas[0]);
    expect(shared).toMatchObject({ rss: 4 * PAGE, pss: 2 * PAGE, sharedDirty: 4 * PAGE, privateDirty: 0 });
    // The child does not inherit the lock.
    expect(child.rollup()).toMatchObject({ rss: CHUNK, pss: CHUNK / 2, locked: 0 });
    const sum = child.vmas.reduce((n, v) => n + child.usageOf(v).pss, 0);
    expect(child.rollup().pss).toBe(sum);
    child.release();
    mm.release();
  });
});

describe('MappingRuns', () => {
  test('with a batch mapper, the runs (adjacent pieces merged) reach it in one call at flush; without one, each run is mapped as it closes', () => {
    const one: [number, FileRange, number][] = [];
    const many: { addr: number; range: FileRange; prot: number }[][] = [];
    const pieces = (runs: MappingRuns) => {
      runs.add(0x10000, 0x11000, 0x5000, RW);
      runs.add(0x11000, 0x12000, 0x6000, RW); // follows in address and offset: merged
      runs.add(0x12000, 0x13000, 0x9000, RW); // not in the file: a new run
      runs.add(0x20000, 0x21000, 0x1000, PROT_READ);
    };
    const plain = new MappingRuns((a, r, p) => one.push([a, r, p]));
    pieces(plain);
    expect(one.length).toBe(2); // two closed runs mapped before the flush
    plain.flush();
    expect(one).toEqual([[0x10000, { offset: 0x5000, length: 0x2000 }, RW], [0x12000, { offset: 0x9000, length: 0x1000 }, RW], [0x20000, { offset: 0x1000, length: 0x1000 }, PROT_READ]]);
    const batched = new MappingRuns(() => { throw new Error('single map while batching'); }, (maps) => many.push(maps));
    pieces(batched);
    expect(many).toEqual([]);
    batched.flush();
    expect(many).toEqual([one.map(([addr, range, prot]) => ({ addr, range, prot }))]);
    // A lone run goes through the single mapper (one call either way).
    const lone: number[] = [];
    const single = new MappingRuns((a) => lone.push(a), () => { throw new Error('batch of one'); });
    single.add(0x30000, 0x31000, 0, RW);
    single.flush();
    expect(lone).toEqual([0x30000]);
  });
});

describe('MemoryManager with a batching address space', () => {
  test("a fork maps, in the child, the code where it resumes (the parent's instruction in a private file VMA that allows execution) in the one batch of its stack copy, and nothing of a private file VMA elsewhere", () => {
    const mf = MemoryFile.create({ maxSize: 1 << 28 });
    try {
      const p = fakePlatform(mf, true);
      setTmpfsMemoryFile(mf);
      const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 1 << 24 });
      const ino = fs.root.create('bin', 0o600, new Credentials(0, 0)) as TmpfsInode;
      const mount = new Mount(fs, null, null, 0, 'tmpfs');
      const f = ino.open({ mount, dentry: new Dentry('bin', mount.root, ino) }, O_RDWR);
      for (let c = 0; c < 2; c++) f.write({} as Task, Buffer.alloc(CHUNK, 0x61 + c), c * CHUNK);
      const text = 0x400000, data = 0x600000, stack = 0x7f0000000000;
      const mm = MemoryManager.create(p);
      mm.mapPrivateFile(text, 2 * CHUNK, PROT_READ | PROT_EXEC, ino.data, 0, '/bin');
      mm.mapPrivateFile(data, 2 * CHUNK, PROT_READ, ino.data, 0, '/bin');
      mm.mapAnonymous(stack, CHUNK, RW, false);
      mm.write(stack, Buffer.from('stack'));
      expect(mm.handleFault(text + CHUNK + 16, 'execute')).toBe(true);
      const child = mm.fork([stack + 8], text + CHUNK + 16);
      const cs = child.as as unknown as BatchingSpace;
      expect({ single: cs.calls.mapFile, batches: cs.batches.length }).toEqual({ single: 0, batches: 1 });
      expect(cs.translate(text + CHUNK, PAGE, PROT_READ | PROT_EXEC)).toEqual([{ offset: ino.data.chunks.get(1)!.offset, length: PAGE }]);
      expect(() => cs.translate(stack, PAGE, RW)).not.toThrow();
      expect(() => cs.translate(data, 1, PROT_READ)).toThrow(MemoryFault);
      // Not executable, or no code address given: nothing of the file is mapped at fork.
      const other = mm.fork([stack + 8], data + 16);
      expect(() => (other.as as unknown as BatchingSpace).translate(data, 1, PROT_READ)).toThrow(MemoryFault);
      expect(() => (other.as as unknown as BatchingSpace).translate(text + CHUNK, 1, PROT_READ)).toThrow(MemoryFault);
      other.release();
      child.release();
      mm.release();
      ino.data.cut(0);
    } finally {
      mf.close();
    }
  });

  test('a file fault maps its page and fault-around\'s neighbours in one batch (one stub stop), even when the chunks are scattered in the memory file', () => {
    const mf = MemoryFile.create({ maxSize: 1 << 28 });
    try {
      const p = fakePlatform(mf, true);
      setTmpfsMemoryFile(mf);
      const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 1 << 24 });
      const ino = fs.root.create('lib', 0o600, new Credentials(0, 0)) as TmpfsInode;
      const mount = new Mount(fs, null, null, 0, 'tmpfs');
      const f = ino.open({ mount, dentry: new Dentry('lib', mount.root, ino) }, O_RDWR);
      const base = 0x100000000;
      // Four chunks of the file, each followed in the memory file by someone else's.
      for (let c = 0; c < 4; c++) {
        f.write({} as Task, Buffer.alloc(CHUNK, 0x61 + c), c * CHUNK);
        mf.allocate(CHUNK);
      }
      const mm = MemoryManager.create(p);
      mm.mapPrivateFile(base, 4 * CHUNK, PROT_READ, ino.data, 0, '/lib');
      const as = mm.as as unknown as BatchingSpace;
      expect(mm.handleFault(base + CHUNK + 5)).toBe(true);
      expect({ single: as.calls.mapFile, batches: as.batches.length }).toEqual({ single: 0, batches: 1 });
      for (let c = 0; c < 4; c++) expect(spaceOf(mm).translate(base + c * CHUNK, CHUNK, PROT_READ)).toEqual([{ offset: ino.data.chunks.get(c)!.offset, length: CHUNK }]);
      expect(mm.read(base + 3 * CHUNK, 1)[0]).toBe(0x64);
      mm.release();
      ino.data.cut(0);
    } finally {
      mf.close();
    }
  });
});

describe('MemoryManager.translate (its own address translation for copies)', () => {
  let mf: MemoryFile;
  let p: ReturnType<typeof fakePlatform>;
  beforeEach(() => {
    mf = MemoryFile.create({ maxSize: 1 << 28 });
    p = fakePlatform(mf);
    MemoryManager.forkWriteGuesses = 0;
  });
  afterEach(() => {
    mf.close();
    MemoryManager.forkWriteGuesses = FORK_GUESSES;
  });

  /** faultAt returns the address translate's MemoryFault names (or 'none' when it translates). */
  function faultAt(mm: MemoryManager, addr: number, length: number, want: Prot): number | 'none' {
    try {
      mm.translate(addr, length, want);
      return 'none';
    } catch (e) {
      if (!(e instanceof MemoryFault)) throw e;
      return e.address;
    }
  }

  /** tmpfsFile makes a tmpfs file of `size` bytes of `fill` (its data is the MemObject to map). */
  function tmpfsFile(size: number, fill: number): TmpfsInode {
    setTmpfsMemoryFile(mf);
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 1 << 24 });
    const ino = fs.root.create('f', 0o600, new Credentials(0, 0)) as TmpfsInode;
    const mount = new Mount(fs, null, null, 0, 'tmpfs');
    ino.open({ mount, dentry: new Dentry('f', mount.root, ino) }, O_RDWR).write({} as Task, Buffer.alloc(size, fill), 0);
    return ino;
  }

  test('private memory: its chunks, as the platform maps them; a hole, a gap and a missing protection fault at their first byte', () => {
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, 4 * CHUNK, RW, false);
    mm.mapAnonymous(base + 4 * CHUNK, CHUNK, PROT_READ, false);
    // base + 5 chunks .. + 6 chunks is a gap; then PROT_NONE.
    mm.mapAnonymous(base + 6 * CHUNK, CHUNK, 0, false);
    mm.write(base + CHUNK - 3, Buffer.from('across'));
    mm.read(base + 4 * CHUNK, 1);
    const ranges = mm.translate(base + 100, 2 * CHUNK - 200, PROT_READ | PROT_WRITE);
    expect(ranges.reduce((n, r) => n + r.length, 0)).toBe(2 * CHUNK - 200);
    expect(ranges).toEqual(spaceOf(mm).translate(base + 100, 2 * CHUNK - 200, PROT_READ | PROT_WRITE));
    expect(mm.read(base + CHUNK - 3, 6).toString()).toBe('across');
    expect(faultAt(mm, base + CHUNK, 2 * CHUNK, PROT_READ)).toBe(base + 2 * CHUNK); // chunk 2 never touched: a hole
    expect(faultAt(mm, base + 4 * CHUNK, 1, PROT_READ)).toBe('none');
    expect(faultAt(mm, base + 4 * CHUNK + 8, 1, PROT_WRITE)).toBe(base + 4 * CHUNK + 8);
    expect(faultAt(mm, base + 4 * CHUNK, CHUNK + 1, PROT_READ)).toBe(base + 5 * CHUNK); // the gap
    expect(faultAt(mm, base + 6 * CHUNK, 1, 0)).toBe(base + 6 * CHUNK); // a VMA, but nothing behind it (never populated)
    expect(() => mm.read(base + 6 * CHUNK, 1)).toThrow(new LinuxError(Errno.EFAULT));
    expect(() => mm.write(base + 4 * CHUNK, Buffer.from('x'))).toThrow(new LinuxError(Errno.EFAULT));
    expect(faultAt(mm, -PAGE, 1, PROT_READ)).toBe(-PAGE);
    expect(mm.translate(base, 0, PROT_WRITE)).toEqual([]);
    // The last VMA found is a hint only: gone, or another VMA at its index, it answers nothing.
    expect(faultAt(mm, base + 100, 1, PROT_READ)).toBe('none');
    mm.unmap(base, 4 * CHUNK);
    expect(faultAt(mm, base + 100, 1, PROT_READ)).toBe(base + 100);
    expect(faultAt(mm, base + 4 * CHUNK, 1, PROT_READ)).toBe('none');
    mm.release();
  });

  test('after fork, a shared chunk translates for loads only: a store through write() owns (copies) it first', () => {
    const parent = MemoryManager.create(p);
    const base = 0x100000000;
    parent.mapAnonymous(base, 2 * CHUNK, RW, false);
    parent.write(base, Buffer.alloc(2 * CHUNK, 'P'));
    const child = parent.fork();
    const shared = parent.translate(base, CHUNK, PROT_READ);
    expect(child.translate(base, CHUNK, PROT_READ)).toEqual(shared);
    expect(faultAt(child, base + 5, 1, PROT_WRITE)).toBe(base + 5);
    expect(faultAt(parent, base + 5, 1, PROT_WRITE)).toBe(base + 5); // the parent's copy is shared too
    child.write(base + 5, Buffer.from('child'));
    const own = child.translate(base, CHUNK, PROT_WRITE);
    expect(own).toHaveLength(1);
    expect(own[0].offset).not.toBe(shared[0].offset);
    expect(parent.translate(base, CHUNK, PROT_READ)).toEqual(shared); // the parent kept the old chunk
    expect(parent.read(base + 5, 5).toString()).toBe('PPPPP');
    expect(child.read(base + 5, 5).toString()).toBe('child');
    // The chunk the child did not write is still the one memory behind both.
    expect(child.translate(base + CHUNK, CHUNK, PROT_READ)).toEqual(parent.translate(base + CHUNK, CHUNK, PROT_READ));
    child.release();
    parent.release();
  });

  test('shared memory translates to the object\'s chunks, the same in every address space mapping it', () => {
    const a = MemoryManager.create(p);
    const base = 0x100000000;
    a.mapAnonymous(base, 3 * CHUNK, RW, true);
    a.write(base + CHUNK + 10, Buffer.from('shared'));
    const b = a.fork();
    b.read(base + CHUNK, 1); // populated (mapped) in b too
    expect(b.translate(base + CHUNK, CHUNK, PROT_WRITE)).toEqual(a.translate(base + CHUNK, CHUNK, PROT_WRITE));
    b.write(base + CHUNK + 10, Buffer.from('SHARED'));
    expect(a.read(base + CHUNK + 10, 6).toString()).toBe('SHARED');
    expect(faultAt(a, base, 1, PROT_READ)).toBe(base); // chunk 0 of the object never touched
    b.release();
    a.release();
  });

  test('a private file mapping: the file\'s pages for loads, a store copies its page, which then translates to the copy', () => {
    const ino = tmpfsFile(2 * CHUNK, 0x61);
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapPrivateFile(base, 2 * CHUNK, RW, ino.data, 0, '/f');
    mm.read(base, 2 * CHUNK);
    const file = ino.data.chunks.get(0)!.offset;
    expect(mm.translate(base + PAGE, PAGE, PROT_READ)).toEqual([{ offset: file + PAGE, length: PAGE }]);
    expect(faultAt(mm, base + PAGE + 1, 1, PROT_WRITE)).toBe(base + PAGE + 1); // the file's own page
    mm.write(base + PAGE + 1, Buffer.from('copy'));
    const copy = mm.translate(base + PAGE, PAGE, PROT_WRITE);
    expect(copy).toHaveLength(1);
    expect(copy[0].offset).not.toBe(file + PAGE);
    expect(spaceOf(mm).translate(base + PAGE, PAGE, PROT_WRITE)).toEqual(copy);
    // Its neighbours are still the file's (and the file's bytes unchanged).
    expect(mm.translate(base, 3 * PAGE, PROT_READ)).toEqual([{ offset: file, length: PAGE }, copy[0], { offset: file + 2 * PAGE, length: PAGE }]);
    expect(mm.read(base + PAGE, 6).toString()).toBe('acopya');
    expect(mf.readBytes(file + PAGE, 6).toString()).toBe('aaaaaa');
    mm.release();
    ino.data.cut(0);
  });

  test('a shared file mapping ends at the file\'s last page: past it translate faults, read() is EFAULT, views stop', () => {
    const ino = tmpfsFile(PAGE + 100, 0x62); // two pages
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapShared(base, 4 * PAGE, RW, ino.data, 0, '/f');
    expect(mm.read(base + PAGE + 99, 1)[0]).toBe(0x62);
    expect(mm.read(base + PAGE + 100, 1)[0]).toBe(0); // the last page's tail reads zeros
    expect(faultAt(mm, base, 4 * PAGE, PROT_READ)).toBe(base + 2 * PAGE);
    expect(() => mm.read(base + 2 * PAGE, 1)).toThrow(new LinuxError(Errno.EFAULT));
    expect(() => mm.read(base + PAGE, 2 * PAGE)).toThrow(new LinuxError(Errno.EFAULT));
    expect(() => mm.write(base + 3 * PAGE, Buffer.from('x'))).toThrow(new LinuxError(Errno.EFAULT));
    expect(mm.ioViews([{ base: base + PAGE, len: 3 * PAGE }], 3 * PAGE, true).reduce((n, v) => n + v.length, 0)).toBe(PAGE);
    mm.release();
    ino.data.cut(0);
  });

  test('writeForce stores through the same translation, ignoring protections: it owns a shared chunk, copies a file page, stops at a file\'s end', () => {
    const ino = tmpfsFile(PAGE + 100, 0x63); // two pages
    const parent = MemoryManager.create(p);
    const anon = 0x100000000, file = 0x200000000, shared = 0x300000000;
    parent.mapAnonymous(anon, CHUNK, RW, false);
    parent.write(anon, Buffer.from('parent'));
    parent.protect(anon, CHUNK, PROT_READ);
    parent.mapPrivateFile(file, 4 * PAGE, PROT_READ, ino.data, 0, '/f');
    parent.mapShared(shared, 4 * PAGE, PROT_READ, ino.data, 0, '/f');
    const child = parent.fork();
    child.writeForce(anon, Buffer.from('child'));
    expect(child.read(anon, 6).toString()).toBe('childt');
    expect(parent.read(anon, 6).toString()).toBe('parent');
    child.writeForce(file + PAGE, Buffer.from('copy'));
    expect(child.read(file + PAGE, 5).toString()).toBe('copyc');
    expect(ino.data.chunks.get(0) && mf.readBytes(ino.data.chunks.get(0)!.offset + PAGE, 4).toString()).toBe('cccc');
    expect(() => child.writeForce(file + 2 * PAGE, Buffer.from('x'))).toThrow(new LinuxError(Errno.EFAULT));
    expect(() => child.writeForce(shared + 2 * PAGE - 1, Buffer.from('xy'))).toThrow(new LinuxError(Errno.EFAULT));
    child.release();
    parent.release();
    ino.data.cut(0);
  });

  test('copies need nothing from the platform: an address space that maps nothing still reads and writes', () => {
    const blank = { mapFile() {}, unmap() {}, protect() {}, isMapped: () => false, release() {} };
    const platform = { ...p, newAddressSpace: () => blank };
    const mm = MemoryManager.create(platform);
    const base = 0x100000000;
    mm.mapAnonymous(base, 2 * CHUNK, RW, false);
    mm.write(base + CHUNK - 2, Buffer.from('path\0'));
    expect(mm.read(base + CHUNK - 2, 4).toString()).toBe('path');
    expect(mm.readString(base + CHUNK - 2)).toBe('path');
    mm.release();
  });

  test('readString: across VMAs and chunks, up to the NUL only, ENAMETOOLONG past max, EFAULT at a gap before the NUL', () => {
    const mm = MemoryManager.create(p);
    const base = 0x100000000;
    mm.mapAnonymous(base, CHUNK, RW, false);
    mm.mapAnonymous(base + CHUNK, CHUNK, RW, false);
    mm.protect(base + CHUNK, CHUNK, PROT_READ); // two VMAs, two chunks; the second never touched yet
    // base + 2 chunks is a gap.
    const text = Buffer.from('abcé/next'); // 10 bytes, 'é' (2 bytes) cut by the chunk boundary
    const at = base + CHUNK - 4;
    mm.write(at, text.subarray(0, 4));
    mm.writeForce(base + CHUNK, Buffer.concat([text.subarray(4), Buffer.from([0])]));
    expect(mm.readString(at)).toBe('abcé/next');
    expect(mm.readString(at, 10)).toBe('abcé/next');
    expect(() => mm.readString(at, 9)).toThrow(new LinuxError(Errno.ENAMETOOLONG));
    // A NUL on the last byte before the gap is found; a string running into the gap is EFAULT.
    mm.writeForce(base + 2 * CHUNK - 3, Buffer.from('eo\0'));
    expect(mm.readString(base + 2 * CHUNK - 3)).toBe('eo');
    mm.writeForce(base + 2 * CHUNK - 3, Buffer.from('eox'));
    expect(() => mm.readString(base + 2 * CHUNK - 3)).toThrow(new LinuxError(Errno.EFAULT));
    expect(() => mm.readString(base + 2 * CHUNK)).toThrow(new LinuxError(Errno.EFAULT));
    expect(() => mm.readString(0)).toThrow(new LinuxError(Errno.EFAULT));
    mm.release();
  });
});
