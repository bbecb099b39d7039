import * as v8 from 'node:v8';
import { loadHeapAddon } from './heap-native';

const tick = () => new Promise((r) => setTimeout(r, 0));
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!;

describe('heap addon (native/heap/heap.cc)', () => {
  test('lowMemory collects an unreachable object graph and shrinks the young generation a burst of allocation grew', async () => {
    let ref: WeakRef<object> | undefined;
    let keep: unknown[] = [];
    (() => {
      const garbage = Array.from({ length: 10_000 }, (_, i) => ({ i, s: `x${i}` }));
      ref = new WeakRef(garbage);
      // Short-lived objects enough to grow the young generation past its initial size.
      for (let round = 0; round < 200; round++) keep = Array.from({ length: 5_000 }, (_, i) => ({ i, round }));
    })();
    expect(keep).toHaveLength(5_000);
    keep = [];
    await tick();
    const grown = newSpace().space_size;
    loadHeapAddon().lowMemory();
    await tick();
    expect(ref?.deref()).toBeUndefined();
    expect(newSpace().space_size).toBeLessThan(grown);
  });

  test('threadCpuMs counts the calling thread\'s CPU time: it grows while the thread spins', () => {
    const { threadCpuMs } = loadHeapAddon();
    const before = threadCpuMs();
    const until = Date.now() + 50;
    while (Date.now() < until);
    expect(threadCpuMs()).toBeGreaterThan(before);
  });
});
