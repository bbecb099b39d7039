import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

  describe('file mappings (bin/tvisor\'s bundle load)', () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heap-map-'));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    // Sizes around a page: the wrapper's tail in the file's last page, or spilling past it.
    test.each([0, 1, 4093, 4094, 4096, 10_000])('mapSource of a %i-byte file is the wrapper around its text, and the mapping outlives the file\'s unlink', (size) => {
      const file = path.join(dir, `src-${size}`);
      const text = Array.from({ length: size }, (_, i) => String.fromCharCode(32 + ((i * 7) % 95))).join('');
      fs.writeFileSync(file, text, 'latin1');
      const s = loadHeapAddon().mapSource(file, '(function () {', '\n})');
      fs.rmSync(file);
      expect(s).toBe(`(function () {${text}\n})`);
    });

    test('mapSource compiles and runs as a script, with a code cache made from it', () => {
      const vm = require('node:vm') as typeof import('node:vm');
      const file = path.join(dir, 'script.js');
      fs.writeFileSync(file, 'exports.answer = () => 6 * 7;');
      const wrapped = loadHeapAddon().mapSource(file, '(function (exports) {', '\n})')!;
      const cache = new vm.Script(wrapped).createCachedData();
      fs.writeFileSync(`${file}.cache`, cache);
      const script = new vm.Script(wrapped, { cachedData: loadHeapAddon().mapBytes(`${file}.cache`) });
      expect(script.cachedDataRejected).toBe(false);
      const exports: { answer?: () => number } = {};
      script.runInThisContext()(exports);
      expect(exports.answer!()).toBe(42);
    });

    test('mapBytes is the file\'s bytes; a missing file or a directory is an error naming the path', () => {
      const file = path.join(dir, 'bytes');
      const data = Buffer.from(Array.from({ length: 9000 }, (_, i) => i & 0xff));
      fs.writeFileSync(file, data);
      const b = loadHeapAddon().mapBytes(file);
      expect(b.equals(data)).toBe(true);
      expect(() => loadHeapAddon().mapBytes(path.join(dir, 'missing'))).toThrow(`${path.join(dir, 'missing')}: No such file or directory`);
      expect(() => loadHeapAddon().mapBytes(dir)).toThrow(`${dir}: not a regular file`);
    });
  });
});
