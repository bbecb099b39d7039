/**
 * idle-gc.ts: the sentry collects its boot garbage (and a pod member's start's) once it is idle.
 *
 * A sentry's start leaves several MiB of dead objects on V8's heap (the bundle's
 * evaluation, the spec, the boot's buffers) that V8 keeps until a later GC, seconds
 * after start or never in an idle sandbox (an idle busybox `sleep`'s sentry: 19.0 MiB USS
 * 1 and 5 s after start without this, 15.6 MiB with it; V8 alone got there ~12 s in). scheduleIdleGc arranges for one
 * full GC, followed by glibc's malloc_trim(0) for the C heap, at the first moment the
 * process's event loop has been idle for a short window after start: V8 gives the
 * pages of a full GC back to the OS itself, malloc_trim gives back the C heap's free
 * pages (both through madvise/munmap, on the confined processes' allowlists).
 *
 * Idle is read from Node's event-loop utilisation (performance.eventLoopUtilization:
 * libuv's idle time), so it needs no hook in the sentry's syscall path: a window whose
 * loop was busy less than IDLE_UTILISATION of its time is idle (a sentry whose
 * application makes syscalls is busy; one whose tasks sleep or wait is not). A busy
 * window puts the check off by another window (doubled after STEADY_TRIES), at most
 * MAX_TRIES times. Nothing runs on the start's critical path: one unreferenced timer.
 *
 * Re-arming: a call while a collection is pending adds none, but restarts its current
 * window (the collection comes after the work that call announced: a member's start
 * is followed by its init's ELF load); a call after it ran (or was given up) arms one
 * more. The sentry arms it at its init's
 * start, and again at each pod member's start (sentry/main.ts): a member's create and
 * start (its mounts, its 9P connection, its ELF load) leave garbage of the same kind as
 * the boot's, long after the first collection ran (a pod's sentry collects at its pause
 * container's start, before any member arrives). It is never armed per exec or per
 * syscall: the collections are bounded by the runtime's starts, one per start at most,
 * and a busy sentry gives each one up after MAX_TRIES windows.
 *
 * The sentry only: measured, the gofer's idle USS did not go down (7.6-7.9 MB either way
 * with malloc_trim alone; 8.2-8.7 MB with the GC, which loads node:v8 and node:vm and
 * builds a context for a heap that holds little garbage). The gofer also waits in poll(2)
 * from JavaScript (gofer/server/server.ts), so libuv's utilisation would not see it idle.
 *
 * The GC itself: Node 20 offers no call for a full collection without --expose-gc, so
 * the flag is set at run time (v8.setFlagsFromString) and the `gc` function taken from a
 * fresh context (vm.runInNewContext), which is dropped with the function once used.
 * node:v8 and node:vm are loaded only then. Each collection is counted in the phase
 * sums as `idle-gc` (native/phases.ts), and said in the debug log when one is given.
 */
import { phaseAdd } from './phases';
import { libcFunc } from './libc';
import { writeCodeCacheNow } from './code-cache';

/** IDLE_WINDOW_MS is the first window after start whose idleness is measured. */
export const IDLE_WINDOW_MS = 200;
/** IDLE_UTILISATION is the share of a window the event loop may be busy for it to count as idle. */
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
 * collectNow runs one full, compacting GC and gives the C heap's free pages back to the
 * OS; it returns the milliseconds it took.
 */
export function collectNow(): number {
  const t0 = performance.now();
  const v8 = require('node:v8') as typeof import('node:v8');
  const vm = require('node:vm') as typeof import('node:vm');
  // A code cache written after this would carry other flags and be rejected at every
  // later start: one still to be written is written first.
  writeCodeCacheNow('flags');
  v8.setFlagsFromString('--expose-gc');
  // A fresh context has the `gc` function the flag installs; it and its context are
  // garbage once this call returns.
  (vm.runInNewContext('gc') as () => void)();
  // SAFETY: malloc_trim(size_t pad) takes no pointer; it returns 1 when memory was released.
  libcFunc('int malloc_trim(size_t pad)')(0);
  return performance.now() - t0;
}

/**
 * scheduleIdleGc arranges for this process to collect once, at the first window from now
 * in which its event loop's utilisation stayed under IDLE_UTILISATION (see the module's
 * comment). `debug` takes the line that says it ran (and in which window it did). A call while one is pending arms
 * none (its window is measured again); a call after it ran (or was given up) arms the next. It returns whether this
 * call armed one.
 */
export function scheduleIdleGc(debug?: (msg: string) => void): boolean {
  if (pending) {
    restart = true;
    return false;
  }
  pending = true;
  restart = false;
  let window = IDLE_WINDOW_MS, tries = 0, checks = 0;
  let last = performance.eventLoopUtilization();
  const check = () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
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
        debug?.(`idle: collected the heap in ${ms.toFixed(1)} ms, window ${checks}`);
      } catch (e) {
        // A process that cannot collect (no malloc_trim, a flag refused) runs on as before.
        debug?.(`idle: no collection: ${(e as Error).message}`);
      }
      return;
    }
    if (++tries >= MAX_TRIES) {
      pending = false;
      debug?.(`idle: no collection: the event loop stayed busy for ${tries} windows`);
      return;
    }
    if (tries >= STEADY_TRIES) window *= 2;
    setTimeout(check, window).unref();
  };
  setTimeout(check, window).unref();
  return true;
}
