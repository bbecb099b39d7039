/**
 * vdso-clock is the sandbox's clock read from the time-stamp counter, shared by the
 * sentry and the vDSO (vdso/vdso.c) through the data page ([vvar]), after gVisor's
 * VDSOParamPage: both compute
 *
 *   CLOCK_MONOTONIC = monoBase + ((tsc - tscBase) * mult >> SHIFT)
 *   CLOCK_REALTIME  = the same + realOffset
 *
 * with the same integers, so a clock_gettime answered by the vDSO and one trapped by the
 * sentry agree to the nanosecond and neither ever reads earlier than the other.
 *
 * Calibration: the TSC is used only when the host says it is constant and nonstop
 * (/proc/cpuinfo flags, read once by start(), before the sentry confines itself);
 * otherwise the page stays in VVAR_MODE_SYSCALL and every vDSO call traps. The sentry
 * takes a first sample (TSC, host CLOCK_MONOTONIC) at start-up; at the first exec, at
 * least CALIBRATE_MS later, the TSC's rate is measured against the host's clock and the
 * TSC line takes over from the host's clock (until then the clock was the host's). Every REFRESH_MS the rate is re-measured over the whole time
 * since start-up and the clock is steered back to the host's monotonic clock: the new
 * parameters continue the old line from the current TSC (no jump) with a slope that
 * absorbs the error over the next period, at most MAX_SLEW_PPM off the measured rate.
 *
 * Data page (offsets, little-endian; vdso/vvar.h is the C view, keep both in step):
 *   0 u32 seq  4 u32 mode  8 u64 tscBase  16 u64 mult  24 u32 shift  32 i64 monoBase
 *   40 i64 realBase
 * Writes follow a seqcount: seq becomes odd, the fields are written, seq becomes even.
 * The sentry is the only writer (one JavaScript thread); x86 keeps stores in program
 * order and every store goes to the same buffer, so readers see them in that order.
 */
import { hostFile } from './host-files';
import { readTsc } from '../../native/ptrace/ptrace-native';

/** VVAR_SEQ and the other VVAR_* are the data page's field offsets (vdso/vvar.h). */
export const VVAR_SEQ = 0, VVAR_MODE = 4, VVAR_TSC_BASE = 8, VVAR_MULT = 16, VVAR_SHIFT = 24, VVAR_MONO_BASE = 32, VVAR_REAL_BASE = 40;
/** VVAR_MODE_SYSCALL makes every vDSO call the syscall; VVAR_MODE_TSC serves the clocks from the TSC. */
export const VVAR_MODE_SYSCALL = 0, VVAR_MODE_TSC = 1;

const SHIFT = 32n;
const CALIBRATE_MS = 10;
const REFRESH_MS = 1000;
const MAX_SLEW_PPM = 500n;

/** tscFlagsUsable tells whether /proc/cpuinfo's flags promise a TSC usable as a clock (constant_tsc and nonstop_tsc). */
export function tscFlagsUsable(cpuinfo: string): boolean {
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].split(/\s+/) ?? [];
  return flags.includes('constant_tsc') && flags.includes('nonstop_tsc');
}


/**
 * VDSO_CLOCK_ANNOTATION, set to "syscall" in config.json's annotations (Docker's
 * --annotation), keeps the vDSO from reading the TSC: every vDSO call then traps.
 */
export const VDSO_CLOCK_ANNOTATION = 'dev.tvisor.vdso-clock';

/** ClockSources is what the clock reads: the TSC and the host's monotonic clock (fakes in tests). */
export interface ClockSources {
  tsc(): bigint;
  hostNs(): bigint;
}

const hostSources: ClockSources = { tsc: readTsc, hostNs: () => process.hrtime.bigint() };

/** Sample is a TSC value and the host monotonic time read between two TSC reads. */
interface Sample {
  tsc: bigint;
  ns: bigint;
}

/** VdsoClock keeps the TSC clock's parameters and the data pages that publish them. */
export class VdsoClock {
  /** active is true once calibrated: mono() reads the TSC line, else the host's clock. */
  active = false;
  private tscBase = 0n;
  private monoBase = 0n;
  private mult = 0n;
  private first: Sample | null = null;
  private readonly pages: Buffer[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param hostMono converts a host monotonic time (ns) to the sandbox's CLOCK_MONOTONIC.
   * @param realOffset returns CLOCK_REALTIME - CLOCK_MONOTONIC (moved by clock_settime).
   */
  constructor(
    private readonly hostMono: (hostNs: bigint) => bigint,
    private readonly realOffset: () => bigint,
    private readonly src: ClockSources = hostSources,
    /** usable says whether the TSC may be used; by default start() reads /proc/cpuinfo. */
    private usable?: boolean,
  ) {}

  /** mono returns the sandbox's CLOCK_MONOTONIC (ns): the TSC line once calibrated. */
  mono(): bigint {
    if (!this.active) return this.hostMono(this.src.hostNs());
    return this.at(this.src.tsc());
  }

  private at(tsc: bigint): bigint {
    const d = tsc > this.tscBase ? tsc - this.tscBase : 0n;
    return this.monoBase + ((d * this.mult) >> SHIFT);
  }

  /**
   * attach adds a data page (a view of the memory file) to keep current, and writes it
   * now: calibrated (at least CALIBRATE_MS after start(), waiting out the rest) so that
   * the first process already reads the TSC line.
   */
  attach(page: Buffer): void {
    this.pages.push(page);
    this.start();
    if (this.first && !this.active && !this.timer) {
      const until = this.first.ns + BigInt(CALIBRATE_MS) * 1000000n;
      while (this.src.hostNs() < until) { /* at most CALIBRATE_MS, once, when exec follows start() at once */ }
      this.calibrate();
    }
    this.publish();
  }

  /**
   * start takes the first calibration sample (once; nothing when the TSC is unusable, or
   * `useTsc` is false: the container's annotation): the sentry calls it at start-up.
   */
  start(useTsc = true): void {
    if (!useTsc) this.usable = false;
    // Read once, at start-up: before the sentry confines itself (no /proc afterwards).
    this.usable ??= tscFlagsUsable(hostFile('/proc/cpuinfo') ?? '');
    if (!this.usable || this.first) return;
    try {
      this.first = this.sample();
    } catch {
      this.first = null; // no native addon (a unit test): the host's clock, and syscalls
    }
  }

  /** stop ends the refreshes (tests). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** sample reads the TSC and the host clock as close together as it can (best of 5). */
  private sample(): Sample {
    let best: Sample | null = null, width = 0n;
    for (let i = 0; i < 5; i++) {
      const a = this.src.tsc(), ns = this.src.hostNs(), b = this.src.tsc();
      // The later TSC: at b the host clock read at least ns, so the line never starts ahead of it.
      if (!best || b - a < width) [best, width] = [{ tsc: b, ns }, b - a];
    }
    return best!;
  }

  /** calibrate measures the rate, re-bases the line, publishes it, and schedules the next refresh. */
  calibrate(): void {
    const first = this.first!;
    const s = this.sample();
    if (s.tsc <= first.tsc || s.ns <= first.ns) {
      // The TSC did not advance with the host's clock: leave every call to the syscall.
      this.active = false;
      this.publish();
      return;
    }
    // mult such that (tsc delta * mult) >> SHIFT is ns, measured over all the time since start.
    const rate = ((s.ns - first.ns) << SHIFT) / (s.tsc - first.tsc);
    const target = this.hostMono(s.ns);
    let mult = rate;
    if (this.active) {
      // Continue the line from here and steer toward the host's clock over the next period.
      const now = this.at(s.tsc);
      const err = target - now;
      const period = BigInt(REFRESH_MS) * 1000000n;
      let adj = (rate * err) / period;
      const cap = (rate * MAX_SLEW_PPM) / 1000000n;
      if (adj > cap) adj = cap;
      if (adj < -cap) adj = -cap;
      mult = rate + adj;
      this.monoBase = now;
    } else {
      this.monoBase = target;
    }
    this.tscBase = s.tsc;
    this.mult = mult;
    this.active = true;
    this.publish();
    this.timer = setTimeout(() => this.calibrate(), REFRESH_MS);
    this.timer.unref();
  }

  /** publish writes the current parameters to every data page under the seqcount. */
  publish(): void {
    if (this.pages.length === 0) return;
    const real = this.active ? this.monoBase + this.realOffset() : 0n;
    this.seq = (this.seq + 2) >>> 0;
    for (const p of this.pages) {
      p.writeUInt32LE((this.seq - 1) >>> 0, VVAR_SEQ);
      p.writeUInt32LE(this.active ? VVAR_MODE_TSC : VVAR_MODE_SYSCALL, VVAR_MODE);
      p.writeBigUInt64LE(this.tscBase, VVAR_TSC_BASE);
      p.writeBigUInt64LE(this.mult, VVAR_MULT);
      p.writeUInt32LE(Number(SHIFT), VVAR_SHIFT);
      p.writeBigInt64LE(this.monoBase, VVAR_MONO_BASE);
      p.writeBigInt64LE(real, VVAR_REAL_BASE);
      p.writeUInt32LE(this.seq, VVAR_SEQ);
    }
  }
}
