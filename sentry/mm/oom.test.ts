/**
 * The OOM killer (oom.ts) on a fake kernel: past the limit it kills the biggest process
 * (weighed by oom_score_adj, -1000 exempt) until the allocation fits, dooms the running
 * process instead of tearing it down under its own fault, and counts each kill.
 */
import type { MemoryFile } from '../../platform';
import { Errno, LinuxError } from '../kernel/errors';
import type { Kernel } from '../kernel/kernel';
import type { ThreadGroup } from '../kernel/thread-group';
import { badness, installOomKiller, makeRoom, memoryUse, sandboxMemory, setReclaimer, setRunning, takeDoomed } from './oom';

const MiB = 2 ** 20;

describe('OOM killer', () => {
  let used: number;
  const mf = { get usedBytes() { return used; } } as unknown as MemoryFile;
  let groups: Map<number, ThreadGroup>;
  let killed: number[];
  const group = (tgid: number, rss: number, adj = 0) => {
    const g = { tgid, alive: true, exiting: false, oom: { adj, min: 0 }, tasks: new Set([{ mm: { residentBytes: rss, rssBytes: rss } }]) } as unknown as ThreadGroup;
    groups.set(tgid, g);
    return g;
  };
  beforeEach(() => {
    used = 0;
    groups = new Map();
    killed = [];
    sandboxMemory.limit = 64 * MiB;
    sandboxMemory.oomKills = 0;
    const k = { groups, log: { warn() {} } } as unknown as Kernel;
    installOomKiller(k, (g) => {
      killed.push(g.tgid);
      groups.delete(g.tgid);
      used -= (g.tasks.values().next().value as unknown as { mm: { residentBytes: number } }).mm.residentBytes;
    });
  });
  afterEach(() => {
    setRunning(null);
    setReclaimer(() => 0);
  });

  test('under the limit nothing is killed; past it the biggest goes, then the next until it fits', () => {
    group(1, 1 * MiB);
    group(2, 40 * MiB);
    group(3, 20 * MiB);
    used = 61 * MiB;
    makeRoom(mf, 3 * MiB);
    expect(killed).toEqual([]);
    makeRoom(mf, 4 * MiB);
    expect(killed).toEqual([2]);
    used = 64 * MiB;
    makeRoom(mf, 20 * MiB);
    expect(killed).toEqual([2, 3]);
    expect(sandboxMemory.oomKills).toBe(2);
    expect(memoryUse(mf)).toEqual({ total: 64 * MiB, used: 44 * MiB });
  });

  test('oom_score_adj weighs the choice; -1000 is never chosen: ENOMEM when nothing else is left', () => {
    group(1, 8 * MiB, 500); // 2048 + 500/1000 of 16384 pages
    group(2, 40 * MiB, -1000);
    group(3, 30 * MiB);
    expect(badness(8 * MiB, 500, 64 * MiB)).toBe(2048 + 8192);
    used = 64 * MiB;
    expect(() => makeRoom(mf, 40 * MiB)).toThrow(new LinuxError(Errno.ENOMEM));
    expect(killed).toEqual([1, 3]);
    expect(groups.has(2)).toBe(true);
  });

  test('the running process, when biggest, is doomed (the scheduler kills it), not torn down under its fault', () => {
    const big = group(1, 50 * MiB);
    group(2, 5 * MiB);
    used = 64 * MiB;
    setRunning(big);
    expect(() => makeRoom(mf, 1 * MiB)).toThrow(new LinuxError(Errno.ENOMEM));
    expect(killed).toEqual([]);
    expect(takeDoomed(groups.get(2)!)).toBe(false);
    expect(takeDoomed(big)).toBe(true);
    expect(takeDoomed(big)).toBe(false); // taken once
    expect(sandboxMemory.oomKills).toBe(1);
  });

  test('reclaim goes before the killer; a reclaim that reports progress but lowers nothing falls through to the killer instead of looping', () => {
    group(1, 40 * MiB);
    group(2, 10 * MiB);
    used = 64 * MiB;
    let calls = 0;
    setReclaimer((bytes) => {
      calls++;
      used -= bytes; // gives back what is asked
      return bytes;
    });
    makeRoom(mf, 2 * MiB);
    expect({ killed, calls, used }).toEqual({ killed: [], calls: 1, used: 62 * MiB });
    // A reclaimer that claims what it never gave back (a chunk refaulted at once, say).
    used = 64 * MiB;
    calls = 0;
    setReclaimer(() => {
      calls++;
      return 1 * MiB;
    });
    makeRoom(mf, 2 * MiB);
    expect({ killed, calls }).toEqual({ killed: [1], calls: 1 });
  });
});
