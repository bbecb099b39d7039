/**
 * chunk-table: the private chunks of an address space (MemoryManager), by chunk number,
 * in segments of SEGMENT chunks that fork shares between parent and child instead of
 * copying them, so that fork costs a reference per segment, not per chunk.
 *
 * Two levels of sharing, both counted: a segment (one array of chunk records) is used by
 * `users` tables, and a chunk record by `refs` segments. A table never changes a segment
 * that another table uses: it copies the segment first (exclusive), which gives each chunk
 * in it one more reference. A chunk is shared (copy-on-write) while its segment has more
 * than one user or its record more than one reference.
 */
import type { FileRange } from '../../platform';

/** SEGMENT is the number of chunks a segment holds (4 MiB of 64 KiB chunks). */
const SEGMENT = 64;

/**
 * PrivateChunk is a memory-file chunk and the number of segments holding it. `pages` (a
 * bit per page of the chunk) marks the pages a private file mapping (Vma.file) has copied
 * here: that VMA's other pages map the file's object instead. Pages of anonymous VMAs
 * are the chunk's whatever the bits say.
 */
export interface PrivateChunk {
  range: FileRange;
  refs: number;
  pages?: number;
}

/** Segment is SEGMENT slots of chunk records and the number of tables using it. */
interface Segment {
  slots: (PrivateChunk | undefined)[];
  count: number;
  users: number;
}

/** ChunkTable maps chunk numbers to PrivateChunk records (see the module comment). */
export class ChunkTable {
  private segments = new Map<number, Segment>();
  /** size is the number of chunks in the table. */
  size = 0;

  /** get returns chunk c's record (shared or not: never change it in place). */
  get(c: number): PrivateChunk | undefined {
    return this.segments.get(Math.floor(c / SEGMENT))?.slots[c % SEGMENT];
  }

  /** has tells whether chunk c is populated. */
  has(c: number): boolean {
    return this.get(c) !== undefined;
  }

  /** isShared tells whether chunk c is held by another table too (copy-on-write). */
  isShared(c: number): boolean {
    const s = this.segments.get(Math.floor(c / SEGMENT));
    return !!s && (s.users > 1 || (s.slots[c % SEGMENT]?.refs ?? 0) > 1);
  }

  /**
   * sharers counts the tables holding chunk c (0 when it is absent): its segment's users,
   * plus one for each other segment holding its record (each taken as one table: exact
   * unless those segments are shared too, which only a fork after a segment copy makes).
   */
  sharers(c: number): number {
    const s = this.segments.get(Math.floor(c / SEGMENT));
    const chunk = s?.slots[c % SEGMENT];
    return chunk ? s!.users + chunk.refs - 1 : 0;
  }

  /** set stores a fresh record (refs 1, owned by this table) for chunk c, which must be empty. */
  set(c: number, chunk: PrivateChunk): void {
    const s = this.exclusive(c);
    if (s.slots[c % SEGMENT]) throw new Error(`chunk ${c} is populated already`);
    s.slots[c % SEGMENT] = chunk;
    s.count++;
    this.size++;
  }

  /**
   * replace puts `chunk` in c's slot instead of its record, which it returns with this
   * table's reference still counted (the caller drops it).
   */
  replace(c: number, chunk: PrivateChunk): PrivateChunk {
    const s = this.exclusive(c);
    const old = s.slots[c % SEGMENT]!;
    s.slots[c % SEGMENT] = chunk;
    return old;
  }

  /** take removes chunk c and returns its record, this table's reference still counted. */
  take(c: number): PrivateChunk | undefined {
    if (!this.get(c)) return undefined;
    const n = Math.floor(c / SEGMENT);
    const s = this.exclusive(c);
    const old = s.slots[c % SEGMENT]!;
    s.slots[c % SEGMENT] = undefined;
    this.size--;
    if (--s.count === 0) this.segments.delete(n);
    return old;
  }

  /** keys returns the populated chunk numbers, ascending. */
  keys(): number[] {
    return this.entries().keys;
  }

  /** entries returns the populated chunk numbers, ascending, and their records. */
  entries(): { keys: number[]; chunks: PrivateChunk[] } {
    const keys: number[] = [], chunks: PrivateChunk[] = [];
    for (const n of [...this.segments.keys()].sort((a, b) => a - b)) {
      const slots = this.segments.get(n)!.slots;
      for (let i = 0; i < SEGMENT; i++) {
        const chunk = slots[i];
        if (chunk) {
          keys.push(n * SEGMENT + i);
          chunks.push(chunk);
        }
      }
    }
    return { keys, chunks };
  }

  /** fork returns a table holding the same chunks, sharing every segment. */
  fork(): ChunkTable {
    const t = new ChunkTable();
    for (const s of this.segments.values()) s.users++;
    t.segments = new Map(this.segments);
    t.size = this.size;
    return t;
  }

  /** release empties the table, calling drop for each record whose reference it gives up. */
  release(drop: (chunk: PrivateChunk) => void): void {
    for (const s of this.segments.values()) {
      if (--s.users > 0) continue;
      for (const chunk of s.slots) if (chunk) drop(chunk);
    }
    this.segments.clear();
    this.size = 0;
  }

  /** exclusive returns c's segment (created if missing), copied first when another table uses it. */
  private exclusive(c: number): Segment {
    const n = Math.floor(c / SEGMENT);
    let s = this.segments.get(n);
    if (!s) {
      s = { slots: new Array<PrivateChunk | undefined>(SEGMENT).fill(undefined), count: 0, users: 1 };
      this.segments.set(n, s);
    } else if (s.users > 1) {
      s.users--;
      s = { slots: s.slots.slice(), count: s.count, users: 1 };
      for (const chunk of s.slots) if (chunk) chunk.refs++;
      this.segments.set(n, s);
    }
    return s;
  }
}
