/**
 * file-memory: the memory a file's mappings map, for the files that have one: a gofer
 * regular file's page cache (fsimpl/gofer/page-cache.ts) and a tmpfs regular file's data
 * (fsimpl/tmpfs). mmap maps it (MAP_SHARED as the file's own memory, MAP_PRIVATE
 * copy-on-write: mm.ts), and so does execve for an executable's segments; any other file
 * has none (mmap copies it, or refuses MAP_SHARED).
 */
import type { MemoryFile } from '../../platform';
import type { MemObject } from '../mm/shared';
import type { FileDescription } from '../vfs/file';
import { GoferFile } from './gofer/gofer-fs';
import { TmpfsFile } from './tmpfs/tmpfs';

/** hasFileMemory tells whether f is a file whose mappings map its memory (fileMemory gives it). */
export function hasFileMemory(f: FileDescription): f is GoferFile | TmpfsFile {
  return (f instanceof GoferFile || f instanceof TmpfsFile) && f.inode.isRegular;
}

/**
 * fileMemory returns the memory of a file that hasFileMemory: a tmpfs file's data, or the
 * gofer file's page cache (made when it has none), which fills from `f` and, when
 * `writeBack` (a shared mapping of a writable description), writes back through it.
 */
export function fileMemory(mf: MemoryFile, f: GoferFile | TmpfsFile, writeBack: boolean): MemObject {
  if (f instanceof TmpfsFile) return f.inode.data;
  const cache = f.inode.cacheFor(mf, f.stat().size);
  cache.use(f, true, writeBack && f.writable);
  return cache;
}
