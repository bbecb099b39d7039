/**
 * idle-gc.ts: a sandbox process collects its start's garbage once it is idle (the sentry:
 * its boot's and each pod member's start's; the gofer: its start's).
 *
 * A start leaves several MiB of dead objects on V8's heap (the bundle's evaluation, the
 * spec, the boot's buffers) and a young generation grown by the boot's allocations, which
 * V8 keeps until a later GC, seconds after start or never in an idle sandbox.
 * scheduleIdleGc arranges for one collection, V8's memory-reducing one (LowMemoryNotification,
 * native/heap/heap.cc), followed by glibc's malloc_trim(0) for the C heap, at the first
 * moment the process has been idle for a short window after start: V8 and malloc_trim
 * give the pages back to the OS themselves (madvise/munmap, on the confined processes'
 * allowlists).
 *
 * Measured with `make profile-memory` (5 idle busybox `sleep` sandboxes, 2 s after their
 * start, interleaved rounds, load 3-5), kB of USS per process:
 * - sentry: a plain full GC (the `gc` of --expose-gc, which this module used before)
 *   13917-14110 for 17-19 ms of CPU; LowMemoryNotification 10594-10600 for 42-48 ms;
 *   MemoryPressureNotification(kCritical) 10917-10920 for 34-41 ms; v8.queryObjects (the
 *   only JavaScript call that makes V8 reduce memory) 12454 for 162 ms. The difference is
 *   mostly the young generation (V8's new space 1030-1286 kB after a plain GC, 268 after
 *   LowMemoryNotification) and bytecode of boot-only functions (code 2829 -> 2641 kB).
 * - gofer: no collection 7909-8170; LowMemoryNotification 6576-6598; a plain GC (which
 *   needs node:vm for its `gc` function) 7560.
 *
 * Idle is measured per window: for the sentry from Node's event-loop utilisation
 * (performance.eventLoopUtilization: libuv's idle time), so it needs no hook in the
 * sentry's syscall path; for the gofer, which waits in poll(2) from JavaScript
 * (gofer/server/server.ts) and so never looks idle to libuv, from its main thread's CPU
 * time (`busy: 'cpu'`). A window whose process was busy less than IDLE_UTILISATION of
 * its time is idle. A busy window puts the check off by another window (doubled after
 * STEADY_TRIES), at most MAX_TRIES times. Nothing runs on the start's critical path: one
 * unreferenced timer.
 *
 * Re-arming: a call while a collection is pending adds none, but restarts its current
 * window (the collection comes after the work that call announced: a member's start
 * is followed by its init's ELF load); a call after it ran (or was given up) arms one
 * more. The sentry arms it at its init's
 * start, and again at each pod member's start (sentry/main.ts): a member's create and
 * start (its mounts, its 9P connection, its ELF load) leave garbage of the same kind as
 * the boot's, long after the first collection ran (a pod's sentry collects at its pause
 * container's start, before any member arrives). The gofer arms it once, when it starts
 * serving (gofer/main.ts). It is never armed per exec or per syscall: the collections
 * are bounded by the runtime's starts, one per start at most, and a busy process gives
 * each one up after MAX_TRIES windows.
 *
 * Code caches: the collection may flush bytecode, which a code cache written after it
 * would then lack (bin/tvisor writes a missing cache at exit with what the process
 * compiled): a pending cache is written first, and a process of the build's training run
 * (native/code-cache.ts) never collects. No V8 flag changes, so no cache is rejected.
 * Each collection is counted in the phase sums as `idle-gc` (native/phases.ts), and said
 * in the debug log when one is given.
 */
import { phaseAdd, phasesDump } from './phases';
import { libcFunc } from './libc';
import { CODE_CACHE_TRAIN_ENV, writeCodeCacheNow } from './code-cache';
import { loadHeapAddon } from './heap/heap-native';

/** IDLE_WINDOW_MS is the first window after start whose idleness is measured. */
export const IDLE_WINDOW_MS = 200;
/** IDLE_UTILISATION is the share of a window the process may be busy for it to count as idle. */
export const IDLE_UTILISATION = 0.05;
/** STEADY_TRIES is how many windows are measured before each next one is doubled (a boot's work is over within a second). */
export const STEADY_TRIES = 5;
/** MAX_TRIES bounds the windows measured before the collection is given up (the last one ends ~14 s after start). */
export const MAX_TRIES = 10;

/** pending tells whether a collection is armed and not yet run or given up. */
let pending = false;
/** restart tells the pending collection's next check to measure its window again (a call came meanwhile). */
let restart = false;

/**
 * collectNow runs V8's memory-reducing collection (full GCs until one frees nothing more,
 * the young generation shrunk) and gives the C heap's free pages back to the OS; it
 * returns the milliseconds it took.
 */
export function collectNow(): number {
  const t0 = monoMs();
  // The collection may flush bytecode a code cache still to be written would want.
  writeCodeCacheNow('flags');
  loadHeapAddon().lowMemory();
  // SAFETY: malloc_trim(size_t pad) takes no pointer; it returns 1 when memory was released.
  libcFunc('int malloc_trim(size_t pad)')(0);
  return monoMs() - t0;
}

/**
 * monoMs is the host's monotonic clock in ms, read without the global `performance`:
 * its first use loads node:perf_hooks, 1.5-1.7 ms of a process's CPU here, which the
 * gofer uses for nothing else (the sentry loads it anyway, for its syscall times).
 */
function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** IdleMeasure says how a window's busyness is read: 'loop' from libuv's event-loop utilisation, 'cpu' from the main thread's CPU time. */
export type IdleMeasure = 'loop' | 'cpu';

/** busyMeter returns a function that gives the share of the time since its last call (or since it was made) the process was busy. */
function busyMeter(measure: IdleMeasure): () => number {
  if (measure === 'cpu') {
    const { threadCpuMs } = loadHeapAddon();
    let cpu = threadCpuMs(), at = monoMs();
    return () => {
      const c = threadCpuMs(), t = monoMs();
      const busy = t > at ? (c - cpu) / (t - at) : 1;
      cpu = c;
      at = t;
      return busy;
    };
  }
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return busy;
  };
}

/**
 * scheduleIdleGc arranges for this process to collect once, at the first window from now
 * in which it was busy less than IDLE_UTILISATION of the time (see the module's comment),
 * its busyness read as `measure` says. `debug` takes the line that says it ran (and in which window it
 * did). A call while one is pending arms none (its window is measured again); a call after it ran (or was given up)
 * arms the next. It returns whether this call armed one (never in a process of the build's code-cache training).
 */
export function scheduleIdleGc(debug?: (msg: string) => void, measure: IdleMeasure = 'loop'): boolean {
  if (process.env[CODE_CACHE_TRAIN_ENV] === '1') return false;
  if (pending) {
    restart = true;
    return false;
  }
  let busyNow: () => number;
  try {
    busyNow = busyMeter(measure);
  } catch (e) {
    // No thread CPU clock (the addon missing): the process runs on without a collection.
    debug?.(`idle: no collection: ${(e as Error).message}`);
    return false;
  }
  pending = true;
  restart = false;
  let window = IDLE_WINDOW_MS, tries = 0, checks = 0;
  const check = () => {
    const busy = busyNow();
    checks++;
    if (restart) {
      restart = false;
      setTimeout(check, window).unref();
      return;
    }
    if (busy <= IDLE_UTILISATION) {
      pending = false;
      try {
        const ms = collectNow();
        phaseAdd('idle-gc', ms);
        // Written now: a gofer is often killed at the sandbox's end before it writes its sums.
        phasesDump();
        debug?.(`idle: collected the heap in ${ms.toFixed(1)} ms, window ${checks}`);
      } catch (e) {
        // A process that cannot collect (no addon, no malloc_trim) runs on as before.
        debug?.(`idle: no collection: ${(e as Error).message}`);
      }
      return;
    }
    if (++tries >= MAX_TRIES) {
      pending = false;
      debug?.(`idle: no collection: the process stayed busy for ${tries} windows`);
      return;
    }
    if (tries >= STEADY_TRIES) window *= 2;
    setTimeout(check, window).unref();
  };
  setTimeout(check, window).unref();
  return true;
}
