/**
 * mappings records which memory-file range backs each mapped page of an address space,
 * with its protection. The backends keep one of what they mapped for their own needs
 * (AddressSpace.isMapped; the ptrace backend's mprotect of the mapped runs alone), and
 * the platform tests translate through one (testing/translate.ts). The sentry translates
 * through its memory manager instead (sentry/mm), which knows what backs every address.
 *
 * Invariant: entries are sorted by start, page-aligned and never overlap.
 */
import { PAGE_SIZE, type FileRange, type Prot } from '../platform';
import { MemoryFault } from './copy';

/** Mapping is one contiguous mapped region. */
export interface Mapping {
  start: number;
  end: number;
  /** offset is the memory-file offset backing `start`. */
  offset: number;
  prot: Prot;
}

/** MappingTable is the sorted list of an address space's mappings. */
export class MappingTable {
  private entries: Mapping[] = [];

  /** map records `range` at `addr` with `prot`, replacing any mapping there. */
  map(addr: number, range: FileRange, prot: Prot): void {
    checkAligned(addr, range.length);
    this.unmap(addr, range.length);
    const i = this.firstEndingAfter(addr);
    this.entries.splice(i, 0, { start: addr, end: addr + range.length, offset: range.offset, prot });
  }

  /** unmap removes [addr, addr+length), splitting mappings that straddle its edges. */
  unmap(addr: number, length: number): void {
    checkAligned(addr, length);
    this.splitAt(addr);
    this.splitAt(addr + length);
    this.entries = this.entries.filter((m) => m.end <= addr || m.start >= addr + length);
  }

  /** protect sets `prot` on the mapped parts of [addr, addr+length). */
  protect(addr: number, length: number, prot: Prot): void {
    checkAligned(addr, length);
    this.splitAt(addr);
    this.splitAt(addr + length);
    for (const m of this.entries) if (m.start >= addr && m.end <= addr + length) m.prot = prot;
  }

  /** mappedRuns returns the mapped parts of [addr, addr+length) as address runs, adjacent mappings merged. */
  mappedRuns(addr: number, length: number): { start: number; end: number }[] {
    const end = addr + length;
    const runs: { start: number; end: number }[] = [];
    for (let i = this.firstEndingAfter(addr); i < this.entries.length && this.entries[i].start < end; i++) {
      const m = this.entries[i];
      const lo = Math.max(addr, m.start), hi = Math.min(end, m.end);
      const last = runs[runs.length - 1];
      if (last && last.end === lo) last.end = hi;
      else runs.push({ start: lo, end: hi });
    }
    return runs;
  }

  /**
   * translate returns the file ranges backing [addr, addr+length), each allowing `want`;
   * it returns the address of the first byte that is unmapped or lacks `want` instead.
   */
  translate(addr: number, length: number, want: Prot): FileRange[] | { faultAt: number } {
    const out: FileRange[] = [];
    let at = addr;
    const end = addr + length;
    for (let i = this.firstEndingAfter(addr); at < end; i++) {
      const m = this.entries[i];
      if (!m || m.start > at || (m.prot & want) !== want) return { faultAt: at };
      const n = Math.min(end, m.end) - at;
      const off = m.offset + (at - m.start);
      const last = out[out.length - 1];
      if (last && last.offset + last.length === off) last.length += n;
      else out.push({ offset: off, length: n });
      at += n;
    }
    return out;
  }

  /**
   * translateOrFault is translate as a Translator answers it (copy.ts): an address or length that
   * is not a safe non-negative integer, a hole or a missing protection throws MemoryFault
   * (which the copy helpers turn into EFAULT).
   */
  translateOrFault(addr: number, length: number, want: Prot): FileRange[] {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr < 0 || length < 0) throw new MemoryFault(addr, want);
    const r = this.translate(addr, length, want);
    if ('faultAt' in r) throw new MemoryFault(r.faultAt, want);
    return r;
  }

  /** list returns a copy of the mappings in address order. */
  list(): Mapping[] {
    return this.entries.map((m) => ({ ...m }));
  }

  private splitAt(addr: number): void {
    const i = this.firstEndingAfter(addr);
    const m = this.entries[i];
    if (!m || m.start >= addr) return;
    this.entries.splice(i, 1, { ...m, end: addr }, { ...m, start: addr, offset: m.offset + (addr - m.start) });
  }

  /** firstEndingAfter returns the index of the first mapping with end > addr. */
  private firstEndingAfter(addr: number): number {
    return firstEndingAfter(this.entries, addr);
  }
}

/**
 * firstEndingAfter returns the index of the first range with end > addr in `ranges`,
 * sorted and non-overlapping (binary search; ranges.length when there is none). Shared by
 * the address-space mirrors here and the sentry's memory manager.
 */
export function firstEndingAfter(ranges: readonly { end: number }[], addr: number): number {
  let lo = 0, hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].end <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function checkAligned(addr: number, length: number): void {
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr % PAGE_SIZE || length % PAGE_SIZE || addr < 0 || length <= 0) {
    throw new RangeError(`mapping [0x${addr.toString(16)}, +0x${length.toString(16)}): not page-aligned`);
  }
}
