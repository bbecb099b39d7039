/**
 * oom is the sandbox's memory accounting and its OOM killer, after Linux's memory cgroup:
 * the memory in use is the memory file's allocated pages less the free chunks its pool
 * keeps for reuse (shared.ts), bounded by the container's memory limit (limits.ts; the
 * host's RAM without one). A chunk that would take the use past the limit (a fault
 * populating memory, a copy-on-write break, a tmpfs write) first makes room: the OOM
 * killer kills the process with the biggest resident size, weighed by its oom_score_adj
 * (-1000: never) as Linux's oom_badness does, with SIGKILL, and the allocation is tried
 * again (its size is its RSS, shared pages included, as Linux's get_mm_rss). When that process is the one allocating, it cannot be torn down under its own
 * fault: it is marked (doomed), the allocation fails, and the scheduler kills it before
 * it runs again. Each kill is counted (what `tvisor events` reports as an oom event).
 *
 * /proc/meminfo and sysinfo(2) read their figures from memoryUse, so they agree.
 */
import * as os from 'node:os';
import type { MemoryFile } from '../../platform';
import { Errno, fail } from '../kernel/errors';
import { atProcessStart } from '../../native/snapshot';
import type { Kernel } from '../kernel/kernel';
import type { ThreadGroup } from '../kernel/thread-group';

const PAGE = 4096;

/** OOM_SCORE_ADJ_MIN is the oom_score_adj that exempts a process from the OOM killer. */
export const OOM_SCORE_ADJ_MIN = -1000;

/** sandboxMemory is the sandbox's memory limit (bytes, set by boot) and its OOM-kill count. */
export const sandboxMemory = { limit: 0, oomKills: 0 };
// The host's RAM until the spec's limit is applied: read at the process's start (a
// start-up snapshot must not carry the builder's figure: native/snapshot.ts).
atProcessStart(() => { sandboxMemory.limit = os.totalmem(); });

/** state of the killer: the kernel it picks victims in, the group running now, the group doomed. */
const state: { kernel: Kernel | null; kill: (g: ThreadGroup) => void; running: ThreadGroup | null; doomed: ThreadGroup | null; busy: boolean } = {
  kernel: null, kill: () => {}, running: null, doomed: null, busy: false,
};

/** freeBytesOf tells how many allocated bytes of a memory file are free for reuse (its chunk pool's), set by shared.ts. */
let freeBytesOf: (mf: MemoryFile) => number = () => 0;

/** reclaimer gives back up to `bytes` of memory that can be read again (page caches' clean chunks) and returns how much it gave. */
let reclaimer: (bytes: number) => number = () => 0;

/** setReclaimer installs what makeRoom reclaims before it kills (fsimpl/gofer/page-cache.ts, to avoid an import cycle). */
export function setReclaimer(f: (bytes: number) => number): void {
  reclaimer = f;
}

/** setFreeBytes installs the pool's measure of free bytes (shared.ts, to avoid an import cycle). */
export function setFreeBytes(f: (mf: MemoryFile) => number): void {
  freeBytesOf = f;
}

/** memoryUse returns the sandbox's memory limit (total) and use (used), in bytes. */
export function memoryUse(mf: MemoryFile): { total: number; used: number } {
  const total = sandboxMemory.limit;
  return { total, used: Math.min(total, Math.max(0, mf.usedBytes - freeBytesOf(mf))) };
}

/** installOomKiller makes k's processes the OOM killer's candidates; kill ends one at once (SIGKILL). */
export function installOomKiller(k: Kernel, kill: (g: ThreadGroup) => void): void {
  state.kernel = k;
  state.kill = kill;
}

/** setRunning tells the killer which process is running now (the scheduler, around a task's turn). */
export function setRunning(tg: ThreadGroup | null): void {
  state.running = tg;
}

/**
 * takeDoomed tells whether tg was chosen by the OOM killer while it was allocating; the
 * caller (the scheduler) kills it with SIGKILL. The mark is cleared.
 */
export function takeDoomed(tg: ThreadGroup): boolean {
  if (state.doomed !== tg) return false;
  state.doomed = null;
  return true;
}

/** badness is Linux's oom_badness: resident pages plus oom_score_adj thousandths of the total (null: exempt). */
export function badness(rssBytes: number, adj: number, totalBytes: number): number | null {
  if (adj <= OOM_SCORE_ADJ_MIN) return null;
  return Math.ceil(rssBytes / PAGE) + Math.trunc((adj * Math.ceil(totalBytes / PAGE)) / 1000);
}

/** inUse is the memory file's bytes in use, not clamped to the limit (what a reclaim must lower to count). */
function inUse(mf: MemoryFile): number {
  return mf.usedBytes - freeBytesOf(mf);
}

/**
 * makeRoom is called before `want` more bytes of mf are used: past the limit, clean
 * page-cache chunks are reclaimed (setReclaimer), then the OOM killer kills one process
 * at a time until they fit. ENOMEM when nothing more can be
 * killed now (every candidate is exempt, or the one allocating was chosen: doomed).
 * Each turn of its loop lowers the memory in use, kills a process or fails, so it ends
 * whatever a reclaimer reports.
 */
export function makeRoom(mf: MemoryFile, want: number): void {
  for (let used; (used = memoryUse(mf).used) + want > sandboxMemory.limit;) {
    // Memory that can be read again goes first, as Linux reclaims clean file pages (mapped
    // ones too) before its OOM killer runs; a pass counts only when the use went down.
    const before = inUse(mf);
    reclaimer(used + want - sandboxMemory.limit);
    if (inUse(mf) < before) continue;
    if (state.busy || !state.kernel) fail(Errno.ENOMEM); // an allocation by a dying process
    state.busy = true;
    try {
      if (!killOne(state.kernel)) fail(Errno.ENOMEM);
    } finally {
      state.busy = false;
    }
  }
}

/** killOne kills the OOM killer's choice; false when none, or when it is the running process (doomed). */
function killOne(k: Kernel): boolean {
  let victim: ThreadGroup | null = null, best = -Infinity;
  for (const g of k.groups.values()) {
    if (!g.alive || g.exiting || g.tasks.size === 0 || g === state.doomed) continue;
    const t = g.tasks.values().next().value!;
    const score = badness(t.mm.rssBytes, g.oom.adj, sandboxMemory.limit);
    if (score !== null && score > best) {
      best = score;
      victim = g;
    }
  }
  if (!victim) return false;
  sandboxMemory.oomKills++;
  k.log.warn(`out of memory: killed process ${victim.tgid} (oom_score_adj ${victim.oom.adj}, ${best} pages of badness)`);
  if (victim === state.running) {
    state.doomed = victim;
    return false;
  }
  state.kill(victim);
  return true;
}
