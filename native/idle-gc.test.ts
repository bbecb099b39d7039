import { collectNow, scheduleIdleGc } from './idle-gc';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('idle collection (native/idle-gc.ts)', () => {
  test('collectNow runs a full collection: an unreachable object graph is gone after it', async () => {
    let ref: WeakRef<object> | undefined;
    (() => {
      const garbage = Array.from({ length: 10_000 }, (_, i) => ({ i, s: `x${i}` }));
      ref = new WeakRef(garbage);
    })();
    // A WeakRef keeps its target until the job that made it ends.
    await tick();
    collectNow();
    await tick();
    expect(ref?.deref()).toBeUndefined();
  });

  test('an idle process collects once, however often it is scheduled', async () => {
    const said: string[] = [];
    scheduleIdleGc((m) => said.push(m));
    scheduleIdleGc((m) => said.push(`second: ${m}`));
    // The event loop idles here: the first window finds it so (the wait is a bound, not a figure).
    for (let i = 0; i < 100 && said.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^idle: collected the heap in [0-9.]+ ms$/);
  });
});
