/**
 * MemoryManager is one application address space as the sentry keeps it: its VMAs, its
 * brk, and the memory-file pages behind them, mirrored into the platform's AddressSpace.
 *
 * Private anonymous memory is allocated lazily in 64 KiB chunks, aligned on 64 KiB of
 * the address: a chunk gets a memory-file range the first time a page of it is touched
 * (a fault from the application, or a copy by the sentry), and each VMA's part of the
 * chunk is mapped with that VMA's protection. munmap zeroes or frees the pages it drops,
 * so a later mapping there reads zeros. fork copies every populated chunk (no
 * copy-on-write yet: its cost is one memcpy per populated chunk).
 *
 * Invariant: `vmas` is sorted, page-aligned, non-overlapping; every populated chunk
 * overlaps at least one VMA; a chunk's pages are mapped exactly where VMAs cover it.
 */
import { copyIn, copyInString, copyOut, MemoryFault, PROT_EXEC, PROT_READ, PROT_WRITE, type AddressSpace, type FileRange, type MemoryFile, type Platform } from '../../platform';
import { Errno, fail, LinuxError } from '../kernel/errors';
import { PAGE, pageDown, pageUp, type Vma } from './vma';

const CHUNK = 64 * 1024;
/** POOL_CHUNKS bounds the freed chunks kept for reuse (64 MiB). */
const POOL_CHUNKS = 1024;

/**
 * ChunkPool keeps freed chunks of a memory file for reuse, so that fork and exit do not
 * punch holes in the file and fault fresh pages in again for every process. A reused
 * chunk is dirty: it is zeroed unless the caller overwrites all of it.
 */
class ChunkPool {
  private readonly free: FileRange[] = [];

  constructor(private readonly mf: MemoryFile) {}

  take(zero: boolean): FileRange {
    const r = this.free.pop();
    if (!r) return this.mf.allocate(CHUNK);
    if (zero) this.mf.fill(r.offset, CHUNK, 0);
    return r;
  }

  give(r: FileRange): void {
    if (this.free.length < POOL_CHUNKS) this.free.push(r);
    else this.mf.free(r);
  }
}

const pools = new WeakMap<MemoryFile, ChunkPool>();

function poolOf(mf: MemoryFile): ChunkPool {
  let p = pools.get(mf);
  if (!p) pools.set(mf, (p = new ChunkPool(mf)));
  return p;
}

/** copyRange copies length bytes inside the memory file (view to view when possible). */
function copyRange(mf: MemoryFile, src: number, dst: number, length: number): void {
  try {
    mf.view(src, length).copy(mf.view(dst, length));
  } catch {
    mf.writeBytes(dst, mf.readBytes(src, length));
  }
}

/** MemoryManager is one address space. */
export class MemoryManager {
  vmas: Vma[] = [];
  private readonly chunks = new Map<number, FileRange>();
  brkStart = 0;
  brk = 0;
  /** argv/env ranges of the initial stack, for /proc/<pid>/cmdline and environ. */
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  /** exe is the path of the executable, for /proc/<pid>/exe. */
  exe = '';
  private users = 1;

  constructor(readonly platform: Platform, readonly as: AddressSpace) {}

  static create(platform: Platform): MemoryManager {
    return new MemoryManager(platform, platform.newAddressSpace());
  }

  get mmapTop(): number {
    // Below the stack region (8 MiB reserved under the top) with a gap.
    return pageDown(this.platform.maxUserAddress - 0x10000000);
  }

  /** findVma returns the VMA containing addr. */
  findVma(addr: number): Vma | undefined {
    for (const v of this.vmas) if (addr >= v.start && addr < v.end) return v;
    return undefined;
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
    return !this.vmas.some((v) => v.start < addr + len && addr < v.end);
  }

  /**
   * mapAnonymous creates a VMA at [addr, addr+length) replacing what was there.
   * `shared` allocates a backing range up front.
   */
  mapAnonymous(addr: number, length: number, prot: number, shared: boolean, name = ''): void {
    this.checkRange(addr, length);
    this.unmap(addr, length);
    const vma: Vma = { start: addr, end: addr + length, prot, shared: null, name, fileOffset: 0 };
    if (shared) {
      const backing = this.platform.memoryFile.allocate(length);
      vma.shared = { backing, refs: { n: 1 } };
      this.as.mapFile(addr, backing, prot);
    }
    this.insert(vma);
    if (!shared) this.remapChunks(addr, addr + length);
  }

  private checkRange(addr: number, length: number): void {
    if (addr % PAGE !== 0 || length <= 0 || length % PAGE !== 0) fail(Errno.EINVAL);
    if (addr < this.platform.minUserAddress || addr + length > this.platform.maxUserAddress) fail(Errno.ENOMEM);
  }

  private insert(vma: Vma): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i].start < vma.start) i++;
    this.vmas.splice(i, 0, vma);
  }

  /** unmap removes [addr, addr+length) from every VMA, splitting those that straddle it. */
  unmap(addr: number, length: number): void {
    const end = addr + length;
    const kept: Vma[] = [];
    let touched = false;
    for (const v of this.vmas) {
      if (v.end <= addr || v.start >= end) {
        kept.push(v);
        continue;
      }
      touched = true;
      if (v.start < addr) kept.push(this.slice(v, v.start, addr));
      if (v.end > end) kept.push(this.slice(v, end, v.end));
      if (v.shared && v.start >= addr && v.end <= end && --v.shared.refs.n === 0) this.platform.memoryFile.free(v.shared.backing);
    }
    if (!touched) return;
    this.vmas = kept;
    this.as.unmap(addr, length);
    this.dropChunks(addr, end);
  }

  private slice(v: Vma, start: number, end: number): Vma {
    const out: Vma = { ...v, start, end, fileOffset: v.fileOffset + (start - v.start) };
    if (v.shared) {
      out.shared = { backing: { offset: v.shared.backing.offset + (start - v.start), length: end - start }, refs: v.shared.refs };
      v.shared.refs.n++;
    }
    return out;
  }

  /** dropChunks zeroes (or frees, when no VMA uses them any more) the chunk pages of [start, end). */
  private dropChunks(start: number, end: number): void {
    const mf = this.platform.memoryFile;
    for (let c = Math.floor(start / CHUNK); c * CHUNK < end; c++) {
      const range = this.chunks.get(c);
      if (!range) continue;
      const cStart = c * CHUNK;
      const stillUsed = this.vmas.some((v) => !v.shared && v.start < cStart + CHUNK && cStart < v.end);
      if (!stillUsed) {
        poolOf(mf).give(range);
        this.chunks.delete(c);
      } else {
        const lo = Math.max(start, cStart), hi = Math.min(end, cStart + CHUNK);
        mf.fill(range.offset + (lo - cStart), hi - lo, 0);
      }
    }
  }

  /** protect changes the protection of [addr, addr+length), which must be fully mapped. */
  protect(addr: number, length: number, prot: number): void {
    const end = addr + length;
    // Linux applies what it can and fails with ENOMEM on a hole; we check first.
    const mapped = this.vmas.filter((v) => v.start < end && v.end > addr).reduce((n, v) => n + Math.min(end, v.end) - Math.max(addr, v.start), 0);
    if (mapped < length) fail(Errno.ENOMEM);
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= addr || v.start >= end) {
        out.push(v);
        continue;
      }
      if (v.start < addr) out.push(this.slice(v, v.start, addr));
      const mid = this.slice(v, Math.max(v.start, addr), Math.min(v.end, end));
      mid.prot = prot;
      out.push(mid);
      if (v.end > end) out.push(this.slice(v, end, v.end));
      if (v.shared && --v.shared.refs.n === 0) this.platform.memoryFile.free(v.shared.backing);
    }
    this.vmas = out;
    this.as.protect(addr, length, prot);
  }

  /** populate makes sure every page of [addr, addr+length) inside a VMA has memory behind it. */
  populate(addr: number, length: number): void {
    const end = addr + length;
    let lo = -1, hi = -1;
    for (let c = Math.floor(addr / CHUNK); c * CHUNK < end; c++) {
      if (this.chunks.has(c)) continue;
      const cStart = c * CHUNK;
      if (!this.vmas.some((v) => !v.shared && v.start < cStart + CHUNK && cStart < v.end)) continue;
      this.chunks.set(c, poolOf(this.platform.memoryFile).take(true));
      if (lo < 0) lo = cStart;
      hi = cStart + CHUNK;
    }
    if (lo >= 0) this.remapChunks(lo, hi);
  }

  /**
   * remapChunks maps the populated chunks of [start, end) where private VMAs cover them.
   * Pieces that follow each other in the address space, in the memory file and in
   * protection go in one mapping: a fresh file hands out consecutive chunks, so loading a
   * 1.5 MB program text costs one mmap in the stub rather than 24 (each a ptrace round trip).
   */
  private remapChunks(from: number, to: number): void {
    // Whole chunks: every VMA's part of each chunk touched by [from, to) is mapped again.
    const start = Math.floor(from / CHUNK) * CHUNK, end = Math.ceil(to / CHUNK) * CHUNK;
    let run: { lo: number; hi: number; offset: number; prot: number } | null = null;
    const flush = () => {
      if (run) this.as.mapFile(run.lo, { offset: run.offset, length: run.hi - run.lo }, run.prot);
      run = null;
    };
    for (const v of this.vmas) {
      if (v.shared || v.end <= start || v.start >= end) continue;
      for (let c = Math.floor(Math.max(v.start, start) / CHUNK); c * CHUNK < Math.min(v.end, end); c++) {
        const range = this.chunks.get(c);
        if (!range) {
          flush();
          continue;
        }
        const cStart = c * CHUNK;
        const lo = Math.max(v.start, cStart, start), hi = Math.min(v.end, cStart + CHUNK, end);
        const offset = range.offset + (lo - cStart);
        const r = run as { lo: number; hi: number; offset: number; prot: number } | null;
        if (r && r.hi === lo && r.offset + (r.hi - r.lo) === offset && r.prot === v.prot) r.hi = hi;
        else {
          flush();
          run = { lo, hi, offset, prot: v.prot };
        }
      }
      flush();
    }
  }

  /**
   * handleFault answers an application page fault: memory not yet populated is
   * populated (true: resume the task); a real access violation returns false.
   */
  handleFault(addr: number): boolean {
    const v = this.findVma(addr);
    if (!v || v.prot === 0) return false;
    const c = Math.floor(addr / CHUNK);
    if (v.shared || this.chunks.has(c)) return false;
    this.populate(pageDown(addr), PAGE);
    return true;
  }

  // --- copy-in/copy-out for syscalls -------------------------------------------------

  private ensure(addr: number, length: number, want: number): void {
    if (length === 0) return;
    if (!Number.isSafeInteger(addr) || addr < 0 || addr + length > this.platform.maxUserAddress) fail(Errno.EFAULT);
    for (let at = addr; at < addr + length;) {
      const v = this.findVma(at);
      if (!v || (v.prot & want) !== want) fail(Errno.EFAULT);
      at = v.end;
    }
    this.populate(addr, length);
  }

  /** read copies length bytes from application memory (EFAULT when not readable). */
  read(addr: number | bigint, length: number): Buffer {
    const a = Number(addr);
    this.ensure(a, length, PROT_READ);
    try {
      return copyIn(this.platform.memoryFile, this.as, a, length);
    } catch (e) {
      if (e instanceof MemoryFault) throw new LinuxError(Errno.EFAULT);
      throw e;
    }
  }

  /** write copies data into application memory (EFAULT when not writable). */
  write(addr: number | bigint, data: Uint8Array): void {
    const a = Number(addr);
    this.ensure(a, data.length, PROT_WRITE);
    try {
      copyOut(this.platform.memoryFile, this.as, a, data);
    } catch (e) {
      if (e instanceof MemoryFault) throw new LinuxError(Errno.EFAULT);
      throw e;
    }
  }

  /** writeForce copies data ignoring protections (the ELF loader, signal frames on a read-only page are not allowed: use write). */
  writeForce(addr: number, data: Uint8Array): void {
    this.ensure(addr, data.length, 0);
    const mf = this.platform.memoryFile;
    let done = 0;
    while (done < data.length) {
      const at = addr + done;
      const c = Math.floor(at / CHUNK);
      const v = this.findVma(at)!;
      const n = Math.min(data.length - done, (c + 1) * CHUNK - at, v.end - at);
      const base = v.shared ? v.shared.backing.offset + (at - v.start) : this.chunks.get(c)!.offset + (at - c * CHUNK);
      mf.writeBytes(base, data.subarray(done, done + n));
      done += n;
    }
  }

  /** readString reads a NUL-terminated string of at most max bytes (ENAMETOOLONG beyond). */
  readString(addr: number | bigint, max = 4096): string {
    const a = Number(addr);
    if (a === 0) fail(Errno.EFAULT);
    // Populate page by page as the string is read.
    const v = this.findVma(a);
    if (!v || !(v.prot & PROT_READ)) fail(Errno.EFAULT);
    this.populate(a, Math.min(max + 1, v.end - a));
    try {
      const b = copyInString(this.platform.memoryFile, this.as, a, max);
      if (b === undefined) fail(Errno.ENAMETOOLONG);
      return b.toString('utf8');
    } catch (e) {
      if (e instanceof MemoryFault) {
        // The string may continue into the next VMA: populate it and try once more.
        this.populate(a, max + 1);
        const b = copyInString(this.platform.memoryFile, this.as, a, max);
        if (b === undefined) fail(Errno.ENAMETOOLONG);
        return b.toString('utf8');
      }
      throw e;
    }
  }

  // --- brk ---------------------------------------------------------------------------

  /** setBrk implements brk(2): it returns the new (or unchanged) break. */
  setBrk(addr: number): number {
    if (addr < this.brkStart) return this.brk;
    const oldEnd = pageUp(this.brk), newEnd = pageUp(addr);
    if (newEnd > oldEnd) {
      if (!this.isFree(oldEnd, newEnd - oldEnd)) return this.brk;
      if (newEnd > this.mmapTop) return this.brk;
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

  /** fork returns a copy of this address space in a new platform address space. */
  fork(): MemoryManager {
    const child = MemoryManager.create(this.platform);
    const mf = this.platform.memoryFile;
    Object.assign(child, { brkStart: this.brkStart, brk: this.brk, argStart: this.argStart, argEnd: this.argEnd, envStart: this.envStart, envEnd: this.envEnd, exe: this.exe });
    for (const v of this.vmas) {
      const copy: Vma = { ...v };
      if (v.shared) {
        v.shared.refs.n++;
        child.as.mapFile(v.start, v.shared.backing, v.prot);
      }
      child.vmas.push(copy);
    }
    const pool = poolOf(mf);
    for (const [c, range] of this.chunks) {
      const dst = pool.take(false);
      copyRange(mf, range.offset, dst.offset, CHUNK);
      child.chunks.set(c, dst);
      child.remapChunks(c * CHUNK, (c + 1) * CHUNK);
    }
    return child;
  }

  /** ref counts a user (CLONE_VM threads share one manager). */
  ref(): this {
    this.users++;
    return this;
  }

  /** release frees everything when the last user goes. */
  release(): void {
    if (--this.users > 0) return;
    const mf = this.platform.memoryFile;
    const pool = poolOf(mf);
    for (const range of this.chunks.values()) pool.give(range);
    this.chunks.clear();
    for (const v of this.vmas) if (v.shared && --v.shared.refs.n === 0) mf.free(v.shared.backing);
    this.vmas = [];
    this.as.release();
  }

  /** residentBytes is the memory populated so far (for /proc status and the benchmarks). */
  get residentBytes(): number {
    return this.chunks.size * CHUNK;
  }

  /** describe renders /proc/<pid>/maps. */
  describe(): string {
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    return this.vmas.map((v) => {
      const p = `${v.prot & PROT_READ ? 'r' : '-'}${v.prot & PROT_WRITE ? 'w' : '-'}${v.prot & PROT_EXEC ? 'x' : '-'}${v.shared ? 's' : 'p'}`;
      return `${hex(v.start)}-${hex(v.end)} ${p} ${hex(v.fileOffset)} 00:00 0 ${v.name ? `${' '.repeat(10)}${v.name}` : ''}`.trimEnd();
    }).join('\n') + (this.vmas.length ? '\n' : '');
  }
}
