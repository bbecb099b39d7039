/**
 * memory-file is the sandbox's memory file: one memfd from which all application memory
 * is allocated, mapped into the sentry as well so that the sentry reads and writes
 * application memory with plain loads and stores (no syscall per copy).
 *
 * The file grows with ftruncate as allocations need it. The sentry maps it in chunks of
 * `chunkSize` bytes (32 MiB), each mapped whole on first use (pages past the end of the
 * file are never touched) and exposed as a Buffer through koffi.view; a copy that spans
 * two chunks is split. Mappings last until close(), after which every view is invalid.
 * V8 counts a view's whole length as external memory: a view past 64 MiB made V8 run a
 * full mark-compact at once (~2-3 ms of every sandbox's start-up), 32 MiB ones do not.
 */
import koffi from '../../native/koffi';
import { check, lastErrno, libcFunc } from '../../native/libc';
import { PAGE_SIZE, type FileRange } from '../platform';
import { RangeAllocator } from './allocator';

const MFD_CLOEXEC = 1;
const PROT_RW = 3;
const MAP_SHARED = 1;
const MAP_NORESERVE = 0x4000;
const FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2;
const GROW_STEP = 2 * 1024 * 1024;
const MADV_POPULATE_WRITE = 23, EINVAL = 22;
/** populateWorks is cleared once the host refuses MADV_POPULATE_WRITE as unknown (before Linux 5.14). */
let populateWorks = true;

/** MemoryFileOptions tunes a MemoryFile. */
export interface MemoryFileOptions {
  /** name shows in /proc/<pid>/maps of the sentry and the stubs. */
  name?: string;
  /** maxSize bounds the file (default 64 GiB). */
  maxSize?: number;
  /** chunkSize is the sentry-side mapping granularity (default 32 MiB, a power of two). */
  chunkSize?: number;
}

/** MemoryFile is a memfd plus its allocator and the sentry's mapping of it. */
export class MemoryFile {
  private readonly allocator = new RangeAllocator();
  private readonly chunks: Buffer[] = [];
  private readonly chunkPtrs: unknown[] = [];
  private fileSize = 0;
  private closed = false;

  private constructor(readonly fd: number, readonly maxSize: number, readonly chunkSize: number) {}

  /** MemoryFile.create makes a new, empty memory file. */
  static create(opts: MemoryFileOptions = {}): MemoryFile {
    const chunkSize = opts.chunkSize ?? 32 << 20;
    if (chunkSize < PAGE_SIZE || (chunkSize & (chunkSize - 1)) !== 0) throw new RangeError(`memory file: chunk size ${chunkSize} is not a power of two`);
    // SAFETY: memfd_create copies the name; the fd is close-on-exec (stubs get it by dup2).
    const fd = check('memfd_create', libcFunc('int memfd_create(const char *name, unsigned int flags)')(opts.name ?? 'tvisor-memory', MFD_CLOEXEC));
    return new MemoryFile(fd, opts.maxSize ?? 64 * 2 ** 30, chunkSize);
  }

  /** size is the current length of the file. */
  get size(): number {
    return this.fileSize;
  }

  /** usedBytes is the total length of allocated ranges. */
  get usedBytes(): number {
    return this.allocator.used;
  }

  /** allocate returns a zero-filled page-aligned range of at least `length` bytes. */
  allocate(length: number): FileRange {
    this.assertOpen();
    const r = this.allocator.allocate(length);
    if (r.offset + r.length > this.maxSize) {
      this.allocator.free(r);
      throw new Error(`memory file: out of space (${length} bytes wanted, limit ${this.maxSize})`);
    }
    if (r.offset + r.length > this.fileSize) {
      const size = Math.min(this.maxSize, Math.ceil((r.offset + r.length) / GROW_STEP) * GROW_STEP);
      // SAFETY: growing a memfd we own; new pages read as zeros.
      check('ftruncate', libcFunc('int ftruncate(int fd, int64_t length)')(this.fd, size));
      this.fileSize = size;
    }
    return r;
  }

  /** free returns `range` to the allocator and releases its pages (they read as zeros again). */
  free(range: FileRange): void {
    this.freeAll([range]);
  }

  /**
   * freeAll is free of several ranges with one hole punched per run of adjacent ones: a
   * truncated file or an exiting process gives back thousands of chunks, mostly
   * neighbours in the file, and a fallocate per chunk cost 25 us each here.
   */
  freeAll(ranges: readonly FileRange[]): void {
    this.assertOpen();
    const sorted = ranges.length > 1 ? [...ranges].sort((a, b) => a.offset - b.offset) : ranges;
    let run: FileRange | null = null;
    for (const r of sorted) {
      this.allocator.free(r);
      if (run && run.offset + run.length === r.offset) run.length += r.length;
      else {
        if (run) this.punch(run);
        run = { offset: r.offset, length: r.length };
      }
    }
    if (run) this.punch(run);
  }

  private punch(range: FileRange): void {
    // SAFETY: punching a hole in our own memfd; any mapping of it now reads zeros there.
    check('fallocate', libcFunc('int fallocate(int fd, int mode, int64_t offset, int64_t len)')(
      this.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, range.offset, range.length));
  }

  /**
   * populate makes the sentry's mapping of `range` resident and writable in one call
   * (madvise MADV_POPULATE_WRITE, Linux 5.14) before the sentry stores into fresh pages:
   * a page fault per 4 KiB page of a memfd costs twice the copy it precedes here (a 1 MiB
   * tmpfs write: 590 MB/s faulting, 1,200 MB/s populated first). Best effort: on a kernel
   * without it, or when the host cannot give the pages now, the stores fault as before.
   */
  populate(range: FileRange): void {
    if (!populateWorks) return;
    this.checkRange(range.offset, range.length);
    for (let done = 0; done < range.length;) {
      const at = range.offset + done;
      const n = Math.min(range.length - done, this.chunkSize - (at % this.chunkSize));
      // SAFETY: the view is a page-aligned part of our own shared mapping of the memfd,
      // below the file's size (checkRange); populating only allocates its pages.
      if (libcFunc('int madvise(void *addr, size_t length, int advice)')(this.view(at, n), n, MADV_POPULATE_WRITE) !== 0) {
        if (lastErrno() === EINVAL) populateWorks = false;
        return;
      }
      done += n;
    }
  }

  /** view returns a Buffer over [offset, offset+length) of the file without copying; it must not span chunks. */
  view(offset: number, length: number): Buffer {
    this.checkRange(offset, length);
    const c = Math.floor(offset / this.chunkSize);
    const at = offset - c * this.chunkSize;
    if (at + length > this.chunkSize) throw new RangeError(`memory file: view [${offset}, +${length}) spans two chunks`);
    return this.chunk(c).subarray(at, at + length);
  }

  /**
   * views returns Buffers over the given ranges of the file, in order, without copying: one
   * per range, split where a range crosses from one chunk of the sentry's mapping to the
   * next (the scatter list of a read or write straight into application memory).
   */
  views(ranges: readonly FileRange[]): Buffer[] {
    const out: Buffer[] = [];
    for (const r of ranges) {
      this.checkRange(r.offset, r.length);
      for (let done = 0; done < r.length;) {
        const at = r.offset + done;
        const n = Math.min(r.length - done, this.chunkSize - (at % this.chunkSize));
        out.push(this.view(at, n));
        done += n;
      }
    }
    return out;
  }

  /** readBytes copies [offset, offset+length) of the file into a new Buffer. */
  readBytes(offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    this.readInto(offset, out);
    return out;
  }

  /** readInto copies out.length bytes at `offset` into `out`. */
  readInto(offset: number, out: Uint8Array): void {
    this.checkRange(offset, out.length);
    for (let done = 0; done < out.length;) {
      const n = Math.min(out.length - done, this.chunkSize - ((offset + done) % this.chunkSize));
      out.set(this.view(offset + done, n), done);
      done += n;
    }
  }

  /** writeBytes copies `data` into the file at `offset`. */
  writeBytes(offset: number, data: Uint8Array): void {
    this.checkRange(offset, data.length);
    const c = Math.floor(offset / this.chunkSize), at = offset - c * this.chunkSize;
    if (at + data.length <= this.chunkSize) {
      // Within one chunk of the sentry's mapping (a syscall's struct, a path): no view made.
      this.chunk(c).set(data, at);
      return;
    }
    for (let done = 0; done < data.length;) {
      const n = Math.min(data.length - done, this.chunkSize - ((offset + done) % this.chunkSize));
      this.view(offset + done, n).set(data.subarray(done, done + n));
      done += n;
    }
  }

  /** fill writes `length` copies of byte `value` at `offset`. */
  fill(offset: number, length: number, value = 0): void {
    this.checkRange(offset, length);
    for (let done = 0; done < length;) {
      const n = Math.min(length - done, this.chunkSize - ((offset + done) % this.chunkSize));
      this.view(offset + done, n).fill(value);
      done += n;
    }
  }

  /** close unmaps the sentry's views and closes the memfd (stubs keep their own references). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const munmap = libcFunc('int munmap(void *addr, size_t length)');
    for (const p of this.chunkPtrs) {
      // SAFETY: p came from our mmap of chunkSize bytes; views over it die with it.
      if (p) munmap(p, this.chunkSize);
    }
    this.chunks.length = 0;
    libcFunc('int close(int fd)')(this.fd);
  }

  private chunk(c: number): Buffer {
    let b = this.chunks[c];
    if (b) return b;
    this.assertOpen();
    const mmap = libcFunc('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
    // SAFETY: a fresh shared mapping of our memfd chosen by the kernel; only pages below
    // the file size are ever touched (checkRange), so no access can SIGBUS.
    const p = mmap(null, this.chunkSize, PROT_RW, MAP_SHARED | MAP_NORESERVE, this.fd, c * this.chunkSize);
    if (!p || koffi.address(p) === 0xffffffffffffffffn) throw new Error(`memory file: mmap of chunk ${c} failed`);
    b = Buffer.from(koffi.view(p, this.chunkSize));
    this.chunkPtrs[c] = p;
    this.chunks[c] = b;
    return b;
  }

  private checkRange(offset: number, length: number): void {
    this.assertOpen();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.fileSize) {
      throw new RangeError(`memory file: range [${offset}, +${length}) is outside the file (size ${this.fileSize})`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('memory file: closed');
  }
}
