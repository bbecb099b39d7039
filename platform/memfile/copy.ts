/**
 * copy moves bytes between the sentry and application memory through the memory file:
 * a Translator says which ranges of the file lie behind an application address, and the
 * bytes are read or written in the sentry's own mapping of the file. No syscall is made.
 *
 * The sentry's Translator is its memory manager (sentry/mm: MemoryManager, which copies
 * through its own translation and uses no helper here); the platform tests translate
 * through a table of what they mapped (platform/testing/translate.ts).
 *
 * Protections are the application's: copyIn needs PROT_READ, copyOut PROT_WRITE, so a
 * read(2) into a read-only buffer fails with MemoryFault just as it would natively.
 */
import { PROT_READ, PROT_WRITE, type FileRange, type Prot } from '../platform';
import type { MemoryFile } from './memory-file';

/** MemoryFault is an application address that is unmapped or lacks the needed access (EFAULT). */
export class MemoryFault extends Error {
  constructor(readonly address: number, readonly want: Prot) {
    super(`application address 0x${address.toString(16)} is not ${want & PROT_WRITE ? 'writable' : 'readable'}`);
    this.name = 'MemoryFault';
  }
}

/**
 * Translator maps application addresses to the memory file: translate returns the file
 * ranges behind [addr, addr+length), in order, each allowing `want`, or throws
 * MemoryFault naming the first address that is unmapped or lacks `want`.
 */
export interface Translator {
  translate(addr: number, length: number, want: Prot): FileRange[];
}

/** copyIn reads `length` bytes at application address `addr`. */
export function copyIn(mf: MemoryFile, as: Translator, addr: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  for (const r of as.translate(addr, length, PROT_READ)) {
    mf.readInto(r.offset, out.subarray(done, done + r.length));
    done += r.length;
  }
  return out;
}

/** copyOut writes `data` at application address `addr`. */
export function copyOut(mf: MemoryFile, as: Translator, addr: number, data: Uint8Array): void {
  let done = 0;
  for (const r of as.translate(addr, data.length, PROT_WRITE)) {
    mf.writeBytes(r.offset, data.subarray(done, done + r.length));
    done += r.length;
  }
}
