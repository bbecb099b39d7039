/**
 * walk-phases.ts: the cold walk's time by phase (`make bench-syscalls BENCH_PHASES=1`).
 * The walk runs once more per tvisor platform with TVISOR_PHASES=<file> (native/phases.ts):
 * the sentry and the gofer each append their sums to the file at their end, and this
 * prints them per stat of the walk: how many times each phase ran and how long it took.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PHASES_ENV } from '../../native/phases';
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
 * runtime hands it on to the sandbox), turns it off again, and waits (up to 5 s) for the
 * sums of both the sentry and the gofer, which may write theirs after the runtime exits. */
export function withPhases(run: () => RunResult): PhasedRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walk-phases-'));
  const file = path.join(dir, 'phases');
  process.env[PHASES_ENV] = file;
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
