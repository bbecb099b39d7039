/**
 * types holds the loader's interfaces to the rest of the sentry and its error type. The
 * loader never touches a task or the VFS: it reads the executable through ExecFile and
 * writes the image through LoaderMemory, which the sentry's memory manager implements
 * (and tests fake with a sparse page map).
 */
import { Errno } from '../../native/libc';

/** ExecFile is the executable being loaded: read-only access by offset. */
export interface ExecFile {
  size: number;
  /** path names the file in /proc/<pid>/maps (the segments of an unnamed file show no name). */
  path?: string;
  /** readAt returns `length` bytes at `offset` (the loader checks bounds against size first). */
  readAt(offset: number, length: number): Buffer;
  /** mappable, when set, is what LoaderMemory.mapFile maps the file's pages from (opaque to the loader). */
  mappable?: unknown;
}

/** LoaderMemory is where the loader puts the image: the sentry's memory manager implements it. */
export interface LoaderMemory {
  /**
   * mapAnonymous reserves [addr, addr+length) (page aligned) with prot, zero-filled; fixed:
   * must be exactly there. name and fileOffset are what /proc/<pid>/maps shows for it (the
   * file a segment comes from).
   */
  mapAnonymous(addr: bigint, length: number, prot: number, name?: string, fileOffset?: number): void;
  /**
   * mapFile, when there, maps [addr, addr+length) (page aligned) with prot onto `file`'s
   * pages from fileOffset (page aligned), copy-on-write, as Linux maps a segment: it tells
   * whether it could (false: the file has nothing to map from, the loader copies).
   */
  mapFile?(addr: bigint, length: number, prot: number, file: ExecFile, fileOffset: number): boolean;
  /** write copies bytes into already-mapped memory, ignoring prot. */
  write(addr: bigint, data: Buffer): void;
  /** findFree returns a free page-aligned address for length bytes at or above hint (for PIE and the interpreter). */
  findFree(length: number, hint: bigint): bigint;
}

/** LoaderError is a failed exec with the errno execve(2) returns for it. */
export class LoaderError extends Error {
  constructor(readonly errno: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoaderError';
  }
}

/** loaderFail throws LoaderError(errno, message). */
export function loaderFail(errno: number, message: string): never {
  throw new LoaderError(errno, message);
}

export { Errno };

/** ELIBBAD (80) is execve's error for an interpreter that is not a valid ELF (not in libc.ts's Errno). */
export const ELIBBAD = 80;

/** PAGE_SIZE is the x86-64 page size. */
export const PAGE_SIZE = 4096;
const PAGE_MASK = BigInt(PAGE_SIZE - 1);

/** pageDown rounds an address down to a page boundary. */
export function pageDown(a: bigint): bigint {
  return a & ~PAGE_MASK;
}

/** pageUp rounds an address up to a page boundary. */
export function pageUp(a: bigint): bigint {
  return (a + PAGE_MASK) & ~PAGE_MASK;
}

/** TASK_SIZE is one past the highest x86-64 user address (4-level paging), as Linux's TASK_SIZE_MAX. */
export const TASK_SIZE = 0x7ffffffff000n;
