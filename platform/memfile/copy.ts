/**
 * copy moves bytes between the sentry and application memory through the memory file:
 * an address is translated by the address space's mapping table, then read or written
 * in the sentry's own mapping of the file. No syscall is made.
 *
 * Protections are the application's: copyIn needs PROT_READ, copyOut PROT_WRITE, so a
 * read(2) into a read-only buffer fails with MemoryFault just as it would natively.
 */
import { PROT_READ, PROT_WRITE, type AddressSpace, type Prot } from '../platform';
import type { MemoryFile } from './memory-file';

/** MemoryFault is an application address that is unmapped or lacks the needed access (EFAULT). */
export class MemoryFault extends Error {
  constructor(readonly address: number, readonly want: Prot) {
    super(`application address 0x${address.toString(16)} is not ${want & PROT_WRITE ? 'writable' : 'readable'}`);
    this.name = 'MemoryFault';
  }
}

/** Translator is the part of an address space the copy helpers need. */
export type Translator = Pick<AddressSpace, 'translate'>;

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

/**
 * copyInString reads a NUL-terminated string at `addr` of at most `maxLength` bytes
 * (without the NUL), page by page so that it never touches memory past the terminator.
 * It returns undefined when no NUL is found within maxLength.
 */
export function copyInString(mf: MemoryFile, as: Translator, addr: number, maxLength: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let total = 0;
  for (let at = addr; total <= maxLength;) {
    const n = Math.min(4096 - (at % 4096), maxLength + 1 - total);
    const chunk = copyIn(mf, as, at, n);
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      parts.push(chunk.subarray(0, nul));
      return Buffer.concat(parts);
    }
    parts.push(chunk);
    total += n;
    at += n;
  }
  return undefined;
}
