/**
 * syscall-stamps is a debug switch: where the sentry's time goes between two switches into
 * a task (the scheduler's loop, kernel/sched.ts). With TVISOR_SYSCALL_STAMPS=<file> in the
 * sentry's environment (the runtime passes it on, as TVISOR_PROFILE), the scheduler takes
 * a performance.now() stamp at each phase boundary and, when init exits, one line of
 * per-phase means is appended to that file (opened when this module loads, before the
 * sentry confines itself). Without the variable each stamp costs one boolean test.
 *
 * Phases (microseconds per trapped stop unless said):
 * - pre: from the top of the task's loop to the switch: the OOM check, signal delivery, the
 *   slice's clock, the task's context;
 * - switch: Context.switch, the platform's round trip (it includes the application's own
 *   run between two stops); under systrap split by the platform's own stamps;
 * - timers: checkCpuTimers after the switch;
 * - dispatch: runSyscall without the handler (instruction check, seccomp profile, table,
 *   strace, accounting); handler: the syscall's handler itself;
 * - gap: per slice, from the end of a slice that left its task runnable (its 10 ms were up)
 *   to the start of the next slice (Node's event loop, setImmediate, the run queue); the
 *   time after a slice whose task blocked or exited is idle time and is not counted.
 */
import { openSync, writeSync } from 'node:fs';
import { atProcessStart } from '../../native/snapshot';

/** SYSCALL_STAMPS_ENV names the file the summary is appended to; the runtime passes it on. */
export const SYSCALL_STAMPS_ENV = 'TVISOR_SYSCALL_STAMPS';

/** Phase indexes the sums. */
export const Phase = { Pre: 0, Switch: 1, Timers: 2, Dispatch: 3, Handler: 4, Gap: 5 } as const;
const NAMES = ['pre', 'switch', 'timers', 'dispatch', 'handler', 'gap'];

/** PlatformStamps splits the switch phase: the platform's own sums (ns) and their count. */
export type PlatformStamps = Record<string, number>;

let fd = -1;

/** stampsOn tells whether the stamps are taken (TVISOR_SYSCALL_STAMPS opened in this process). */
export let stampsOn = false;

// Read at each process start (not in the start-up snapshot, which would keep the builder's).
atProcessStart(() => {
  const file = process.env[SYSCALL_STAMPS_ENV];
  fd = -1;
  if (file) {
    try {
      fd = openSync(file, 'a', 0o600);
    } catch {
      fd = -1; // no file: no stamps
    }
  }
  stampsOn = fd >= 0;
});

const sums = new Float64Array(NAMES.length);
const counts = new Float64Array(NAMES.length);
let lastSliceEnd = 0;

/** addStamp adds `ms` (performance.now() units) to a phase. */
export function addStamp(phase: number, ms: number): void {
  sums[phase] += ms;
  counts[phase]++;
}

/** handlerByNr and switchByNr sum the handler phase, and the switch phase that ended in
 * a syscall, per syscall number: [sum ms, count]. */
const handlerByNr = new Map<number, [number, number]>();
const switchByNr = new Map<number, [number, number]>();

function addByNr(m: Map<number, [number, number]>, nr: number, ms: number): void {
  const e = m.get(nr);
  if (e) {
    e[0] += ms;
    e[1]++;
  } else {
    m.set(nr, [ms, 1]);
  }
}

/** addHandlerStamp adds a handler's time to the handler phase and to its syscall's sums. */
export function addHandlerStamp(nr: number, ms: number): void {
  addStamp(Phase.Handler, ms);
  addByNr(handlerByNr, nr, ms);
}

/** addSwitchStamp adds a switch's time to the switch phase and, when it stopped at syscall `nr` (else -1), to that syscall's sums. */
export function addSwitchStamp(nr: number, ms: number): void {
  addStamp(Phase.Switch, ms);
  if (nr >= 0) addByNr(switchByNr, nr, ms);
}

/** topByNr shows the 3 most frequent syscalls of m with their means (us) and counts. */
function topByNr(m: Map<number, [number, number]>): string {
  const top = [...m].sort((a, b) => b[1][1] - a[1][1]).slice(0, 3);
  return top.map(([nr, [ms, n]]) => `${nr}=${((ms * 1e3) / n).toFixed(2)}(${n})`).join(' ');
}

/** sliceStarted records the gap since the previous slice ended (call only when stampsOn). */
export function sliceStarted(now: number): void {
  if (lastSliceEnd > 0) addStamp(Phase.Gap, now - lastSliceEnd);
  lastSliceEnd = 0;
}

/** sliceEnded marks the end of a slice that left its task runnable (`now`), or one after which no gap is counted (0); call only when stampsOn. */
export function sliceEnded(now: number): void {
  lastSliceEnd = now;
}

/** stampsSummary is the one-line summary of the sums so far (and the platform's split, if any). */
export function stampsSummary(platform: string, split?: PlatformStamps): string {
  const parts = NAMES.map((n, i) => `${n}=${counts[i] ? ((sums[i] * 1e3) / counts[i]).toFixed(2) : '-'}`);
  const stops = counts[Phase.Switch];
  let line = `syscall-stamps platform=${platform} stops=${stops} handled=${counts[Phase.Handler]} slice-gaps=${counts[Phase.Gap]} means in us (gap: per gap, the others per stop): ${parts.join(' ')}`;
  line += ` | by syscall nr, us(count): switch ${topByNr(switchByNr)}; handler ${topByNr(handlerByNr)}`;
  if (split && split.count > 0) {
    // *Spun are counts of round trips (shown as a share of them); the others ns sums.
    const per = Object.entries(split).filter(([k]) => k !== 'count').map(([k, v]) => (k.endsWith('Spun') ? `${k}=${((100 * v) / split.count).toFixed(0)}%` : `${k}=${(v / split.count / 1e3).toFixed(2)}`));
    line += ` | ${platform} split (us, ${split.count} round trips): ${per.join(' ')}`;
  }
  return line;
}

/** writeStamps appends the summary to the stamps file (call only when stampsOn). */
export function writeStamps(platform: string, split?: PlatformStamps): void {
  try {
    writeSync(fd, `${stampsSummary(platform, split)}\n`);
  } catch {
    // the file is gone: debug figures only
  }
}
