/**
 * walk-phases.ts: tvisor's time by phase (`make bench-syscalls BENCH_PHASES=1`). The timed
 * ops and each cold walk run once more per tvisor platform with
 * TVISOR_PHASES=syscalls:<file> (native/phases.ts): the sentry and the gofer each append
 * their sums to the file at their end, and this prints them: for the timed ops the
 * scheduler loop's phases per stop and the most frequent syscalls' (printLoop), for a walk
 * every phase per stat (printPhases).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PHASES_ENV, SYSCALLS_MODE } from '../../native/phases';
import type { RunResult } from '../behaviour/runner';

/** Sums are one process's phase sums: phase name to [count, milliseconds]. */
export type Sums = Record<string, [number, number]>;

/** parsePhases takes the `tvisor-phases <process> <pid> <json>` lines of a phases file,
 * summed per process name. */
export function parsePhases(text: string): Map<string, Sums> {
  const out = new Map<string, Sums>();
  for (const line of text.split('\n')) {
    const m = /^tvisor-phases (\S+) \d+ (\{.*\})$/.exec(line);
    if (!m) continue;
    const sums = out.get(m[1]) ?? {};
    for (const [k, [n, ms]] of Object.entries(JSON.parse(m[2]) as Sums)) {
      const s = (sums[k] ??= [0, 0]);
      s[0] += n;
      s[1] += ms;
    }
    out.set(m[1], sums);
  }
  return out;
}

/** PhasedRun is a run and the phase sums its sandbox wrote. */
export interface PhasedRun {
  result: RunResult;
  phases: Map<string, Sums>;
}

/** withPhases runs `run` with the phase switch on in this process's environment (the
 * runtime hands it on to the sandbox; in the per-syscall mode with `syscalls`), turns it
 * off again, and waits (up to 5 s) for the sums of both the sentry and the gofer, which
 * may write theirs after the runtime exits. */
export function withPhases(run: () => RunResult, syscalls = false): PhasedRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walk-phases-'));
  const file = path.join(dir, 'phases');
  process.env[PHASES_ENV] = `${syscalls ? SYSCALLS_MODE : ''}${file}`;
  try {
    const result = run();
    let phases = new Map<string, Sums>();
    for (const until = Date.now() + 5000; Date.now() < until; ) {
      phases = parsePhases(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
      if (phases.has('sentry') && phases.has('gofer')) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    return { result, phases };
  } finally {
    delete process.env[PHASES_ENV];
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * printPhases prints the phases of one run of the walk over `files` files, per process,
 * the costliest first: count per stat, microseconds per stat, microseconds per entry.
 * Phases that ran less than once per 1,000 stats and took under 0.1 µs per stat are left
 * out (start-up).
 */
export function printPhases(label: string, run: PhasedRun, files: number): void {
  const { result: r, phases: got } = run;
  console.log(`\n${label}: the walk's phases per stat (${files} stats; ${r.stdout.trim() || `exit ${r.status}: ${r.stderr.trim()}`})`);
  if (got.size === 0) {
    console.log('  no phase sums came back');
    return;
  }
  const rows: string[][] = [['process', 'phase', 'count/stat', 'us/stat', 'us each']];
  for (const [proc, sums] of got) {
    const entries = Object.entries(sums).sort((a, b) => b[1][1] - a[1][1]);
    for (const [k, [n, ms]] of entries) {
      const perStat = (ms * 1000) / files;
      if (n / files < 0.001 && perStat < 0.1) continue;
      rows.push([proc, k, (n / files).toFixed(3), perStat.toFixed(2), ms > 0 ? ((ms * 1000) / n).toFixed(2) : '-']);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(`  ${row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`);
}

/** us is `ms` per `n` in microseconds, 2 decimals ('-' for none). */
function us(ms: number | undefined, n: number): string {
  return ms === undefined || n <= 0 ? '-' : ((ms * 1000) / n).toFixed(2);
}

/**
 * printLoop prints the sentry's scheduler loop of one run in the per-syscall mode: the
 * mean of each phase per stop (the gap's per gap), the most frequent syscalls with their
 * switch's and handler's means, and the platform's split of its round trips, if any.
 */
export function printLoop(label: string, run: PhasedRun): void {
  const { result: r, phases } = run;
  const s = phases.get('sentry');
  console.log(`\n${label}: the sentry's loop (${r.status === 0 && !r.timedOut ? 'ran' : `exit ${r.status}: ${r.stderr.trim()}`})`);
  if (!s?.['loop:pre']) {
    console.log('  no per-syscall phase sums came back');
    return;
  }
  const stops = s.switch?.[0] ?? 0;
  const bySys = Object.entries(s).filter(([k]) => k.startsWith('sys:'));
  const handled = bySys.reduce((n, [, v]) => n + v[0], 0);
  const handlerMs = bySys.reduce((ms, [, v]) => ms + v[1], 0);
  const gap = s['loop:gap'] ?? [0, 0];
  const per = ['loop:pre', 'switch', 'loop:timers', 'loop:dispatch'].map((k) => `${k.replace('loop:', '')} ${us(s[k]?.[1], stops)}`);
  console.log(`  ${stops} stops, ${handled} syscalls handled, ${gap[0]} slice gaps; us per stop: ${per.join('  ')}  handler ${us(handlerMs, stops)}; gap ${us(gap[1], gap[0])} per gap`);
  const top = bySys.sort((a, b) => b[1][0] - a[1][0]).slice(0, 5).map(([k, [n, ms]]) => {
    const name = k.slice(4);
    return `${name} ${n}: switch ${us(s[`switch:${name}`]?.[1], s[`switch:${name}`]?.[0] ?? 0)} handler ${us(ms, n)}`;
  });
  console.log(`  by syscall, us each: ${top.join('; ')}`);
  const trips = Object.keys(s).find((k) => k.endsWith(':round-trips'));
  if (trips) {
    const platform = trips.slice(0, -':round-trips'.length);
    const n = s[trips][0];
    const steps = Object.entries(s).filter(([k]) => k.startsWith(`${platform}:`) && k !== trips)
      .map(([k, [c, ms]]) => (k.endsWith('Spun') ? `${k.slice(platform.length + 1)} ${((100 * c) / n).toFixed(0)}%` : `${k.slice(platform.length + 1)} ${us(ms, c)}`));
    console.log(`  ${platform}'s split, us per round trip (${n}): ${steps.join('  ')}`);
  }
}
