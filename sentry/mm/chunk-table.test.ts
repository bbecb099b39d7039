/**
 * ChunkTable: fork shares segments; a write to a shared segment copies it (one more
 * reference per chunk in it); release drops each record's last reference exactly once.
 */
import { ChunkTable, type PrivateChunk } from './chunk-table';

const rec = (offset: number): PrivateChunk => ({ range: { offset, length: 65536 }, refs: 1 });

describe('ChunkTable', () => {
  test('fork shares segments; changing one copies it alone; every record is dropped once at the end', () => {
    const a = new ChunkTable();
    const records = Array.from({ length: 200 }, (_, i) => rec(i * 65536));
    records.forEach((r, i) => a.set(1000 + i, r)); // 200 chunks over 4 segments
    expect(a.size).toBe(200);
    const b = a.fork();
    // Forking touches no record: the segments are shared, counted once each.
    expect(records.every((r) => r.refs === 1)).toBe(true);
    expect(b.size).toBe(200);
    expect(b.get(1100)).toBe(records[100]);
    expect(a.isShared(1100) && b.isShared(1100)).toBe(true);

    // b replaces chunk 1100: its segment (chunks 1088..1151) is copied, the others stay shared.
    const fresh = rec(999 * 65536);
    const old = b.replace(1100, fresh);
    expect(old).toBe(records[100]);
    expect(old.refs).toBe(2); // a's segment and b's copy, until b drops its reference
    old.refs--;
    expect(b.get(1100)).toBe(fresh);
    expect(a.get(1100)).toBe(records[100]);
    expect(b.isShared(1100)).toBe(false);
    expect(b.isShared(1101)).toBe(true); // its record is in both copies of the segment
    expect(b.isShared(1000)).toBe(true); // a segment still shared
    expect(records.filter((r) => r.refs === 2).length).toBe(63);

    // b takes a chunk out of a shared segment: a keeps it.
    const taken = b.take(1000)!;
    taken.refs--;
    expect(b.has(1000)).toBe(false);
    expect(a.get(1000)).toBe(records[0]);
    expect(b.keys()).toEqual([...Array.from({ length: 199 }, (_, i) => 1001 + i)]);

    const dropped: PrivateChunk[] = [];
    const drop = (r: PrivateChunk) => {
      if (--r.refs === 0) dropped.push(r);
    };
    b.release(drop);
    expect(dropped).toEqual([fresh]);
    a.release(drop);
    expect(dropped.length).toBe(201);
    expect(new Set(dropped).size).toBe(201);
    expect(a.size).toBe(0);
  });
});
