/**
 * timerfd is the file of timerfd_create(2): an IntervalTimer whose expirations add up in
 * a counter. A read of at least 8 bytes returns the count (u64) and resets it, blocking
 * (or EAGAIN when non-blocking) while it is 0; the file is readable for poll/epoll while
 * the count is not 0. Closing the last reference disarms the timer.
 */
import { Errno, fail } from '../../kernel/errors';
import { IntervalTimer, type TimerSetting } from '../../kernel/interval-timer';
import type { Task } from '../../kernel/task';
import { Block, WaitQueue } from '../../kernel/waiter';
import { O_RDWR, POLLIN, POLLRDNORM } from '../../vfs/file';
import { AnonFile } from './anon';

/** TFD_TIMER_ABSTIME makes timerfd_settime's value an absolute time on the clock. */
export const TFD_TIMER_ABSTIME = 1;

/** TimerFd is one timerfd description. */
export class TimerFd extends AnonFile {
  private count = 0n;
  private readonly q = new WaitQueue();
  private readonly timer: IntervalTimer;
  /** settimeFlags are the TFD_TIMER_* flags of the last timerfd_settime (fdinfo shows them). */
  private settimeFlags = 0;

  constructor(readonly clock: number, flags: number) {
    super('[timerfd]', O_RDWR | flags);
    this.timer = new IntervalTimer(clock, (n) => {
      this.count += n;
      this.q.notify();
    });
  }

  /** settime arms or disarms the timer (a new setting drops expirations not yet read),
   * absolute when `flags` has TFD_TIMER_ABSTIME; returns the old setting. */
  settime(setting: TimerSetting, flags: number): TimerSetting {
    this.count = 0n;
    this.settimeFlags = flags;
    return this.timer.set(setting, (flags & TFD_TIMER_ABSTIME) !== 0);
  }

  /** fdinfo is what /proc/<pid>/fdinfo adds for a timerfd, in Linux's format
   * (timerfd_show): the clock, the expirations not yet read, the settime flags in octal,
   * the time left and the interval as (seconds, nanoseconds). */
  fdinfo(): string {
    const [interval, left] = this.timer.get();
    const ts = (ns: bigint) => `(${ns / 1_000_000_000n}, ${ns % 1_000_000_000n})`;
    return `clockid: ${this.clock}\nticks: ${this.count}\nsettime flags: 0${this.settimeFlags.toString(8)}\nit_value: ${ts(left)}\nit_interval: ${ts(interval)}\n`;
  }

  /** gettime returns [interval, time left] in ns. */
  gettime(): TimerSetting {
    return this.timer.get();
  }

  override read(_t: Task, dst: Buffer): number | Block {
    if (dst.length < 8) fail(Errno.EINVAL);
    if (this.count === 0n) {
      if (this.nonblocking) fail(Errno.EAGAIN);
      return new Block([this.q]);
    }
    dst.writeBigUInt64LE(this.count, 0);
    this.count = 0n;
    return 8;
  }



  override readiness(): number {
    return this.count > 0n ? POLLIN | POLLRDNORM : 0;
  }

  override get queue(): WaitQueue {
    return this.q;
  }



  protected override release(): void {
    this.timer.disarm();
  }
}
