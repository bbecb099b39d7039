import { VdsoClock, VVAR_MODE, VVAR_MODE_SYSCALL, VVAR_MODE_TSC, VVAR_MONO_BASE, VVAR_MULT, VVAR_REAL_BASE, VVAR_SEQ, VVAR_SHIFT, VVAR_TSC_BASE, tscFlagsUsable } from './vdso-clock';

/** FakeSources is a TSC at `hz` ticks per second of a host clock that tests move by hand. */
class FakeSources {
  ns = 5_000_000_000n;
  constructor(private readonly hz: bigint, private readonly tscAt0 = 1_000_000n) {}
  tsc = (): bigint => this.tscAt0 + (this.ns * this.hz) / 1_000_000_000n;
  hostNs = (): bigint => this.ns;
}

/** readPage computes CLOCK_MONOTONIC from a data page as vdso.c does. */
function pageMono(p: Buffer, tsc: bigint): bigint {
  const base = p.readBigUInt64LE(VVAR_TSC_BASE);
  const d = tsc > base ? tsc - base : 0n;
  return p.readBigInt64LE(VVAR_MONO_BASE) + ((d * p.readBigUInt64LE(VVAR_MULT)) >> BigInt(p.readUInt32LE(VVAR_SHIFT)));
}

describe('VdsoClock', () => {
  const hostMono = (ns: bigint) => ns - 4_000_000_000n;
  const realOffset = () => 1_700_000_000_000_000_000n;

  test('unusable TSC: the page says syscall and the clock is the host\'s', () => {
    const src = new FakeSources(3_000_000_000n);
    const c = new VdsoClock(hostMono, realOffset, src, false);
    const page = Buffer.alloc(4096);
    c.attach(page);
    expect(page.readUInt32LE(VVAR_MODE)).toBe(VVAR_MODE_SYSCALL);
    expect(page.readUInt32LE(VVAR_SEQ) % 2).toBe(0);
    expect(c.mono()).toBe(1_000_000_000n);
    c.stop();
  });

  test('calibrated at attach: the page and the sentry give the same nanoseconds, tracking the host clock', () => {
    const src = new FakeSources(2_500_000_000n);
    const c = new VdsoClock(hostMono, realOffset, src, true);
    c.start();
    src.ns += 20_000_000n; // 20 ms later, the first exec
    const page = Buffer.alloc(4096);
    c.attach(page);
    c.stop();
    expect(page.readUInt32LE(VVAR_MODE)).toBe(VVAR_MODE_TSC);
    expect(c.active).toBe(true);
    for (const step of [0n, 1n, 999_999_999n, 3_000_000_000n]) {
      src.ns += step;
      const mono = c.mono();
      expect(pageMono(page, src.tsc())).toBe(mono);
      // Within 1 us of the host's clock (the fake TSC is exact).
      expect(Number(mono - hostMono(src.ns))).toBeLessThanOrEqual(1000);
      expect(Number(hostMono(src.ns) - mono)).toBeLessThanOrEqual(1000);
      expect(page.readBigInt64LE(VVAR_REAL_BASE) - page.readBigInt64LE(VVAR_MONO_BASE)).toBe(realOffset());
    }
  });

  test('a refresh continues the line (never back) and steers a drifting TSC back to the host clock', () => {
    const src = new FakeSources(3_000_000_000n);
    const c = new VdsoClock(hostMono, realOffset, src, true);
    c.start();
    src.ns += 10_000_000n;
    const page = Buffer.alloc(4096);
    c.attach(page);
    c.stop();
    // The host clock now runs 200 ppm slower than the TSC says: the TSC line gets ahead.
    let last = c.mono();
    const seq0 = page.readUInt32LE(VVAR_SEQ);
    for (let i = 0; i < 20; i++) {
      src.ns += 1_000_000_000n;
      const tscNow = src.tsc();
      src.ns -= 200_000n; // the host saw 200 us less of this second
      const before = pageMono(page, tscNow);
      c.calibrate();
      c.stop();
      const after = pageMono(page, tscNow);
      expect(after).toBe(before); // continuity at the refresh (same TSC, same time)
      expect(after).toBeGreaterThanOrEqual(last);
      last = after;
    }
    expect(page.readUInt32LE(VVAR_SEQ)).toBeGreaterThan(seq0);
    expect(page.readUInt32LE(VVAR_SEQ) % 2).toBe(0);
    // After 20 s the measured rate has followed the host and the error is small again.
    expect(Math.abs(Number(c.mono() - hostMono(src.ns)))).toBeLessThan(50_000);
  });

  test('tscFlagsUsable wants constant_tsc and nonstop_tsc', () => {
    expect(tscFlagsUsable('processor\t: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc rdtscp\n')).toBe(true);
    expect(tscFlagsUsable('flags\t\t: fpu tsc constant_tsc\n')).toBe(false);
    expect(tscFlagsUsable('')).toBe(false);
  });
});
