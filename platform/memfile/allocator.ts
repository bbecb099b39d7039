/**
 * allocator hands out page-aligned ranges of the memory file: first fit over a sorted
 * free list, growing the file at its end when nothing fits. Freed ranges merge with their
 * neighbours. It only does arithmetic; MemoryFile applies the growth and releases pages.
 */
import { PAGE_SIZE, type FileRange } from '../platform';

/** RangeAllocator tracks which page ranges of a file are in use. */
export class RangeAllocator {
  /** free ranges below `end`, sorted by offset, never adjacent (merged). */
  private readonly freeList: FileRange[] = [];
  /** end is one past the highest offset ever allocated. */
  end = 0;
  /** used counts allocated bytes. */
  used = 0;

  /** allocate returns a free range of `length` bytes (rounded up to pages). */
  allocate(length: number): FileRange {
    if (!Number.isSafeInteger(length) || length <= 0) throw new RangeError(`memory file: cannot allocate ${length} bytes`);
    const len = roundUp(length);
    for (let i = 0; i < this.freeList.length; i++) {
      const f = this.freeList[i];
      if (f.length < len) continue;
      const r = { offset: f.offset, length: len };
      if (f.length === len) this.freeList.splice(i, 1);
      else this.freeList[i] = { offset: f.offset + len, length: f.length - len };
      this.used += len;
      return r;
    }
    const r = { offset: this.end, length: len };
    this.end += len;
    this.used += len;
    return r;
  }

  /** free returns `range` (as allocate gave it, or a page-aligned part of it). */
  free(range: FileRange): void {
    const { offset, length } = range;
    if (offset % PAGE_SIZE || length % PAGE_SIZE || length <= 0 || offset + length > this.end) {
      throw new RangeError(`memory file: cannot free [${offset}, +${length})`);
    }
    let i = 0;
    while (i < this.freeList.length && this.freeList[i].offset < offset) i++;
    const prev = this.freeList[i - 1];
    const next = this.freeList[i];
    if ((prev && prev.offset + prev.length > offset) || (next && offset + length > next.offset)) {
      throw new Error(`memory file: double free of [${offset}, +${length})`);
    }
    this.used -= length;
    let start = offset, len = length, at = i, remove = 0;
    if (prev && prev.offset + prev.length === offset) { start = prev.offset; len += prev.length; at = i - 1; remove++; }
    if (next && offset + length === next.offset) { len += next.length; remove++; }
    this.freeList.splice(at, remove, { offset: start, length: len });
  }

  /** freeRanges returns a copy of the free list (for tests and statistics). */
  freeRanges(): FileRange[] {
    return this.freeList.map((r) => ({ ...r }));
  }
}

/** roundUp rounds n up to a whole number of pages. */
export function roundUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}
