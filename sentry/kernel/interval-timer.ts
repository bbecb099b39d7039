/**
 * IntervalTimer is a timer on one of the task-independent clocks (CLOCK_REALTIME,
 * MONOTONIC, BOOTTIME): armed at an absolute time on its clock and then every interval,
 * it counts expirations and reports them to its owner (a timerfd, a POSIX timer). Each
 * expiry is one deadline on the timekeeper; a periodic timer is re-armed from its
 * scheduled expiry (not from when it was noticed), and the expirations missed while the
 * sentry was busy are counted, as Linux's hrtimer_forward does.
 */
import { Errno, fail } from './errors';
import { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, deadlineOf, nowNs, timekeeper, type Deadline } from './timekeeper';

/** TimerSetting is [interval, value] in ns, as struct itimerspec (value 0: disarmed). */
export type TimerSetting = [interval: bigint, value: bigint];

/** checkTimerClock fails with EINVAL unless `id` is a clock an IntervalTimer can run on. */
export function checkTimerClock(id: number): number {
  if (id !== CLOCK_REALTIME && id !== CLOCK_MONOTONIC && id !== CLOCK_BOOTTIME) fail(Errno.EINVAL);
  return id;
}

/** readItimerspec reads a struct itimerspec as [interval, value] in ns (EINVAL when malformed). */
export function readItimerspec(b: Buffer): TimerSetting {
  const ns = (off: number): bigint => {
    const sec = b.readBigInt64LE(off), nsec = b.readBigInt64LE(off + 8);
    if (sec < 0n || nsec < 0n || nsec >= 1000000000n) fail(Errno.EINVAL);
    return sec * 1000000000n + nsec;
  };
  return [ns(0), ns(16)];
}

/** itimerspec encodes [interval, value] (ns) as a struct itimerspec. */
export function itimerspec([interval, value]: TimerSetting): Buffer {
  const b = Buffer.alloc(32);
  [interval, value].forEach((ns, i) => {
    b.writeBigInt64LE(ns / 1000000000n, 16 * i);
    b.writeBigInt64LE(ns % 1000000000n, 16 * i + 8);
  });
  return b;
}

/** IntervalTimer is one armed-or-not timer on a clock. */
export class IntervalTimer {
  /** next is the clock time (ns) of the next expiry; 0n: disarmed. */
  private next = 0n;
  private interval = 0n;
  private deadline: Deadline | null = null;

  /** onExpire is told how many expirations happened at once (>= 1). */
  constructor(readonly clock: number, private readonly onExpire: (count: bigint) => void) {}

  /** armed tells whether the timer will expire again. */
  get armed(): boolean {
    return this.next !== 0n;
  }

  /** get returns [interval, time left] (ns); time left is 0 when disarmed. */
  get(): TimerSetting {
    if (!this.armed) return [this.interval, 0n];
    const left = this.next - nowNs(this.clock);
    // Due but not yet noticed: Linux reports the smallest non-zero value then.
    return [this.interval, left > 0n ? left : 1n];
  }

  /** set arms the timer (value > 0: relative, or absolute on the clock) or disarms it; returns the old setting. */
  set([interval, value]: TimerSetting, absolute: boolean): TimerSetting {
    const old = this.get();
    this.disarm();
    this.interval = interval;
    if (value === 0n) return old;
    let at = absolute ? value : nowNs(this.clock) + value;
    if (at <= 0n) at = 1n;
    this.next = at;
    this.arm();
    return old;
  }

  /** disarm stops the timer (its interval is kept for get()). */
  disarm(): void {
    timekeeper.disarm(this.deadline);
    this.deadline = null;
    this.next = 0n;
  }

  private arm(): void {
    this.deadline = timekeeper.arm(deadlineOf(this.clock, this.next), () => this.fire());
  }

  private fire(): void {
    this.deadline = null;
    const now = nowNs(this.clock);
    if (now < this.next) {
      // The host's timer ran early against the clock (ms rounding): wait the rest.
      this.arm();
      return;
    }
    let count = 1n;
    if (this.interval > 0n) {
      count += (now - this.next) / this.interval;
      this.next += count * this.interval;
      this.arm();
    } else {
      this.next = 0n;
    }
    this.onExpire(count);
  }
}
