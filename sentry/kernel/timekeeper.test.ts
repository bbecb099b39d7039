/**
 * The timekeeper on a fake clock: deadlines past Node's 2^31-1 ms limit fire when due,
 * never at once, and no host timer is ever asked for more than that limit.
 */
import { MAX_TIMER_MS, Timekeeper, type HostTimers } from './timekeeper';

/** FakeHost is a manual clock with a list of pending host timers. */
class FakeHost implements HostTimers {
  t = 1_000_000;
  delays: number[] = [];
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  set(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    // Node's rule: a delay above the limit (or below 1) becomes 1 ms.
    const d = ms > MAX_TIMER_MS || ms < 1 ? 1 : ms;
    const id = ++this.seq;
    this.pending.push({ at: this.t + d, fn, id });
    return id;
  }
  clear(h: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== h);
  }
  /** advance moves the clock by ms, running each timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const next = this.pending[0];
      if (!next || next.at > end) break;
      this.pending.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
  get count(): number {
    return this.pending.length;
  }
}

const DAY = 24 * 3600 * 1000;

describe('Timekeeper', () => {
  test('an alarm of 35 days fires after 35 days, not at once, and never asks for more than 2^31-1 ms', () => {
    const host = new FakeHost();
    const tk = new Timekeeper(host);
    let fired = 0;
    const d = tk.armIn(35 * DAY, () => fired++);
    host.advance(1000);
    expect(fired).toBe(0);
    expect(tk.remaining(d)).toBe(35 * DAY - 1000);
    host.advance(35 * DAY - 1001);
    expect(fired).toBe(0);
    host.advance(1);
    expect(fired).toBe(1);
    expect(d.armed).toBe(false);
    expect(Math.max(...host.delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(host.delays.length).toBe(2);
  });

  test('ten years take a handful of steps, and disarm stops them', () => {
    const host = new FakeHost();
    const tk = new Timekeeper(host);
    let fired = 0;
    const d = tk.armIn(3650 * DAY, () => fired++);
    host.advance(400 * DAY);
    expect(fired).toBe(0);
    expect(host.delays.length).toBe(Math.floor((400 * DAY) / MAX_TIMER_MS) + 1);
    tk.disarm(d);
    expect(host.count).toBe(0);
    host.advance(4000 * DAY);
    expect(fired).toBe(0);
    expect(tk.remaining(d)).toBe(0);
  });

  test('a past deadline fires on the next turn; an infinite one never', () => {
    const host = new FakeHost();
    const tk = new Timekeeper(host);
    const order: string[] = [];
    tk.arm(host.now() - 5, () => order.push('past'));
    const never = tk.arm(Infinity, () => order.push('never'));
    expect(never.armed).toBe(false);
    host.advance(1);
    expect(order).toEqual(['past']);
  });
});
