/**
 * Vma is one virtual memory area of an application: a page-aligned address range with
 * protections and a kind. Anonymous memory is allocated lazily in chunks (see mm.ts):
 * private memory per address space, shared memory per MemObject (shared.ts: a SharedAnon
 * or a tmpfs file's data), which fork shares.
 */
import type { MemObject } from './shared';

export const PAGE = 4096;
export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_GROWSDOWN = 0x100,
  MAP_DENYWRITE = 0x800, MAP_EXECUTABLE = 0x1000, MAP_LOCKED = 0x2000, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000,
  MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000, MAP_HUGETLB = 0x40000, MAP_FIXED_NOREPLACE = 0x100000;

/**
 * VSYSCALL_MAPS_LINE is the vsyscall page's line in /proc/<pid>/maps, as Linux shows it in
 * its default xonly mode (the sentry emulates the page: kernel/vsyscall.ts).
 */
export const VSYSCALL_MAPS_LINE = `ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0${' '.repeat(18)}[vsyscall]`;

/** Vma is one mapped range. */
export interface Vma {
  start: number;
  end: number;
  prot: number;
  /**
   * shared is set for MAP_SHARED: the object mapped (writes are seen by every process
   * mapping it, and by read() of a tmpfs file) and the offset of `start` in it, the same
   * for shared anonymous memory and tmpfs files (a shared futex keys by (mem, offset)).
   */
  shared: { mem: MemObject; offset: number } | null;
  /**
   * file is set for a MAP_PRIVATE mapping of a file that has a MemObject (a gofer file's
   * page cache, a tmpfs file's data): its pages map the object's read-only, and the first
   * write to one copies it into a private chunk (mm.ts: copy-on-write of file pages), so
   * pages never written see the file's later changes. `shared` is null for such a VMA: it
   * is private memory in every other respect.
   */
  file?: { mem: MemObject; offset: number };
  /** name is what /proc/<pid>/maps shows ('[heap]', '[stack]', a path, or ''). */
  name: string;
  /** offset is the file offset of start, for /proc/<pid>/maps. */
  fileOffset: number;
  /**
   * noWrite is set for a shared file mapping that may never become writable (the file
   * was opened read-only, or is write-sealed): mprotect(PROT_WRITE) fails with EACCES.
   */
  noWrite?: boolean;
  /**
   * special marks the vDSO's [vvar] and [vdso] (mm/vdso.ts): shared objects that
   * /proc/<pid>/maps shows as private, as Linux shows its special mappings.
   */
  special?: boolean;
  /** noExec is set for a mapping of a file on a noexec mount (Linux clears VM_MAYEXEC):
   * mprotect(PROT_EXEC) fails with EACCES. */
  noExec?: boolean;
  /** noreserve is set for MAP_NORESERVE: making it writable is not accounted (overcommit). */
  noreserve?: boolean;
  /** dontFork is set by madvise(MADV_DONTFORK): a fork's child does not get the range. */
  dontFork?: boolean;
  /** locked is set by mlock/mlockall (Linux's VM_LOCKED): counted against RLIMIT_MEMLOCK, not inherited by fork. */
  locked?: boolean;
}

/**
 * mergeable tells whether VMA b, starting where a ends, may join a into one VMA, as
 * Linux's vma_merge joins them: alike in every attribute, where an object mapped (shared,
 * or a private file's) must be the same object at contiguous offsets, and a file's offset
 * (a VMA named by a path) must follow on. Attributes are compared field by
 * field over both VMAs' keys, so that a field added to Vma keeps unlike VMAs apart
 * (objects compare by identity unless they are { mem, offset } pairs).
 */
export function mergeable(a: Vma, b: Vma): boolean {
  if (a.end !== b.start) return false;
  const len = a.end - a.start;
  const fa = a as unknown as Record<string, unknown>, fb = b as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k === 'start' || k === 'end') continue;
    const x = fa[k], y = fb[k];
    if (k === 'fileOffset') {
      // A file's (its name is its path) must follow on; anonymous memory's is 0.
      if (!(y === (x as number) + len || (x === 0 && y === 0 && !a.name.startsWith('/')))) return false;
    } else if (isObjectRange(x) || isObjectRange(y)) {
      if (!isObjectRange(x) || !isObjectRange(y) || x.mem !== y.mem || y.offset !== x.offset + len) return false;
    } else if ((x ?? false) !== (y ?? false)) return false;
  }
  return true;
}

function isObjectRange(v: unknown): v is { mem: unknown; offset: number } {
  return typeof v === 'object' && v !== null && 'mem' in v && typeof (v as { offset?: unknown }).offset === 'number';
}

export function pageDown(n: number): number {
  return n - (n % PAGE);
}

export function pageUp(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}
