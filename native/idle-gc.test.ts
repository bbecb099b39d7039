import { collectNow, scheduleIdleGc } from './idle-gc';
import { CODE_CACHE_TRAIN_ENV } from './code-cache';

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
    expect(scheduleIdleGc((m) => said.push(m))).toBe(true);
    expect(scheduleIdleGc((m) => said.push(`second: ${m}`))).toBe(false);
    // The event loop idles here: the first window finds it so (the wait is a bound, not a figure).
    for (let i = 0; i < 100 && said.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^idle: collected the heap in [0-9.]+ ms, window [0-9]+$/);
  });

  test('once it has run, scheduling arms one more collection (a pod member\'s start), again coalesced while pending', async () => {
    const said: string[] = [];
    for (let round = 1; round <= 2; round++) {
      expect(scheduleIdleGc((m) => said.push(m))).toBe(true);
      expect(scheduleIdleGc((m) => said.push(`coalesced: ${m}`))).toBe(false);
      for (let i = 0; i < 100 && said.length < round; i++) await new Promise((r) => setTimeout(r, 50));
      expect(said).toHaveLength(round);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(said).toEqual([expect.stringMatching(/^idle: collected/), expect.stringMatching(/^idle: collected/)]);
  });

  test('a call while one is pending measures its window again: the collection comes a window after it at least', async () => {
    const said: string[] = [];
    expect(scheduleIdleGc((m) => said.push(m))).toBe(true);
    // The first window's check sees this call and measures another window before collecting.
    expect(scheduleIdleGc()).toBe(false);
    for (let i = 0; i < 100 && said.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(said).toHaveLength(1);
    expect(Number(/window ([0-9]+)$/.exec(said[0])?.[1])).toBeGreaterThanOrEqual(2);
  });

  test.each([
    ['the event loop\'s utilisation', 'loop'],
    ['the main thread\'s CPU time (the gofer\'s way)', 'cpu'],
  ] as const)('measured by %s, a busy main thread puts the collection off until it idles', async (_what, measure) => {
    const said: string[] = [];
    // Busy 90% of the time on the main thread: every 10 ms, a 9 ms spin.
    const spin = setInterval(() => { const until = Date.now() + 9; while (Date.now() < until); }, 10);
    try {
      expect(scheduleIdleGc((m) => said.push(m), measure)).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      expect(said).toEqual([]);
    } finally {
      clearInterval(spin);
    }
    for (let i = 0; i < 200 && said.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(said).toEqual([expect.stringMatching(/^idle: collected/)]);
  });

  test('a process of the build\'s code-cache training never collects (its cache would lack what the collection flushed)', () => {
    process.env[CODE_CACHE_TRAIN_ENV] = '1';
    try {
      expect(scheduleIdleGc()).toBe(false);
    } finally {
      delete process.env[CODE_CACHE_TRAIN_ENV];
    }
  });
});
