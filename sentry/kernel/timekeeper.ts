/**
 * timekeeper arms every deadline the sentry keeps (a blocked task's timeout, alarm(2),
 * setitimer) on Node's timers. Node takes at most 2^31-1 ms (24.8 days) in one timer: a
 * longer delay fires after 1 ms with a TimeoutOverflowWarning, so `sleep 3650d` would end
 * at once and a re-armed wait would spin and flood the log. The timekeeper arms a long
 * deadline in steps of at most MAX_TIMER_MS and fires only when the deadline is reached.
 *
 * A Deadline is a record (its time, its action), not a bare closure: it can be listed,
 * read back (alarm's remaining seconds) and disarmed. Deadlines are on the Date.now clock
 * in milliseconds; an infinite or NaN deadline never fires.
 *
 * It also reads the clocks of clock_gettime(2) that do not depend on a task (nowNs), on
 * the clock the vDSO's data page publishes (vdso-clock.ts).
 */
import { Errno, fail } from './errors';
import { VdsoClock } from './vdso-clock';
import { atProcessStart } from '../../native/snapshot';

/** MAX_TIMER_MS is the longest delay Node's setTimeout accepts (2^31-1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** HostTimers is what the timekeeper needs from the host (Node's timers; fakes in tests). */
export interface HostTimers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const nodeTimers: HostTimers = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Deadline is one armed timeout: when it fires and what it does. */
export class Deadline {
  /** handle is the host timer of the current step, undefined once fired or disarmed. */
  handle: unknown;

  constructor(readonly at: number, readonly fire: () => void) {}

  /** armed tells whether the deadline is still to fire. */
  get armed(): boolean {
    return this.handle !== undefined;
  }
}

/** Timekeeper arms and disarms deadlines over a host's timers. */
export class Timekeeper {
  constructor(private readonly host: HostTimers = nodeTimers) {}

  /** now is the timekeeper's clock (ms). */
  now(): number {
    return this.host.now();
  }

  /** arm returns a deadline that calls fire at `at` (ms on the now() clock), or at once if past. */
  arm(at: number, fire: () => void): Deadline {
    const d = new Deadline(at, fire);
    if (!Number.isNaN(at) && at !== Infinity) this.step(d);
    return d;
  }

  /** armIn arms a deadline `ms` from now. */
  armIn(ms: number, fire: () => void): Deadline {
    return this.arm(this.now() + ms, fire);
  }

  /** disarm cancels a deadline (nothing when it already fired, or for null). */
  disarm(d: Deadline | null | undefined): void {
    if (!d || d.handle === undefined) return;
    this.host.clear(d.handle);
    d.handle = undefined;
  }

  /** remaining returns the ms left before a deadline fires (0 when fired or disarmed). */
  remaining(d: Deadline | null | undefined): number {
    return d && d.armed ? Math.max(0, d.at - this.now()) : 0;
  }

  private step(d: Deadline): void {
    const left = Math.max(0, d.at - this.now());
    d.handle = this.host.set(() => {
      if (d.at - this.now() > 0 && left >= MAX_TIMER_MS) {
        this.step(d);
        return;
      }
      d.handle = undefined;
      d.fire();
    }, Math.min(left, MAX_TIMER_MS));
  }
}

/** timekeeper is the sentry's one timekeeper. */
export const timekeeper = new Timekeeper();

/** The clocks of clock_gettime(2) that do not depend on a task. */
export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5,
  CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7, CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;

/** start is the host's monotonic clock at the sandbox's boot (ns): the sentry's process start. */
let start = 0n;
/** realtimeBase is CLOCK_REALTIME minus the host's monotonic clock (ns): fixed at start, moved by settime. */
let realtimeBase = 0n;
// At the process's start, also when it starts from a snapshot made at build time.
atProcessStart(() => {
  start = process.hrtime.bigint();
  realtimeBase = BigInt(Date.now()) * 1000000n - start;
});

/**
 * vdsoClock is the sandbox's CLOCK_MONOTONIC once the TSC is calibrated (vdso-clock.ts):
 * the line the vDSO reads too. Before (and without a usable TSC) it is the host's
 * monotonic clock from the sandbox's boot.
 */
export const vdsoClock = new VdsoClock(
  (hostNs) => hostNs - start + 1000000000n,
  () => realtimeBase + start - 1000000000n,
);

/**
 * nowNs returns clock `id` in nanoseconds (EINVAL for a clock it does not know).
 * CLOCK_REALTIME is the host's wall clock at the sentry's start carried on by the
 * sandbox's monotonic clock, so it never goes backwards within the sandbox (a step of the
 * host's clock is not seen; NTP's slewing is, as both clocks share it). The monotonic
 * clocks count from the sandbox's boot (1 s at boot, as a fresh Linux reads shortly
 * after), on the TSC line the vDSO serves (vdsoClock) once it is calibrated.
 */
export function nowNs(id: number): bigint {
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_TAI:
      return vdsoClock.mono() + realtimeBase + start - 1000000000n;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
      return vdsoClock.mono();
    default:
      return fail(Errno.EINVAL);
  }
}

/** setRealtimeNs moves the sandbox's CLOCK_REALTIME to `ns` (the host's clock is untouched; the vDSO's page follows). */
export function setRealtimeNs(ns: bigint): void {
  realtimeBase = ns - vdsoClock.mono() - start + 1000000000n;
  vdsoClock.publish();
}

/** deadlineOf converts a time `ns` on clock `id` to a deadline on the timekeeper's clock (ms). */
export function deadlineOf(id: number, ns: bigint): number {
  return timekeeper.now() + Number(ns - nowNs(id)) / 1e6;
}
