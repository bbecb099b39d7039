import { MemoryFile } from '../../platform';
import { CHUNK, ChunkPool } from './shared';

describe('ChunkPool', () => {
  let mf: MemoryFile;
  beforeEach(() => {
    jest.useFakeTimers();
    mf = MemoryFile.create({ maxSize: 1 << 30 });
  });
  afterEach(() => {
    jest.useRealTimers();
    mf.close();
  });

  test('keeps freed chunks past its bound for a moment, then gives the oldest back to the file together', () => {
    const pool = new ChunkPool(mf);
    const n = 1024 + 40;
    const taken = Array.from({ length: n }, () => pool.take(false, true));
    expect(mf.usedBytes).toBe(n * CHUNK);
    const freeAll = jest.spyOn(mf, 'freeAll');
    for (const r of taken) pool.give(r);
    // Nothing is punched yet: a truncate followed by a rewrite reuses every chunk.
    expect(mf.usedBytes).toBe(n * CHUNK);
    expect(pool.freeBytes).toBe(n * CHUNK);
    const again = pool.take(true);
    expect(again).toEqual(taken[n - 1]);
    expect(mf.usedBytes).toBe(n * CHUNK);
    pool.give(again);
    jest.advanceTimersByTime(1000);
    // One call for the 40 oldest; the pool keeps its bound.
    expect(freeAll).toHaveBeenCalledTimes(1);
    expect(freeAll.mock.calls[0][0]).toEqual(taken.slice(0, 40));
    expect(mf.usedBytes).toBe(1024 * CHUNK);
    expect(pool.freeBytes).toBe(1024 * CHUNK);
  });
});
