/**
 * bench-io.ts is `make bench-io`: file I/O throughput (build/programs/bench-io) as a
 * container's init under runc, runsc (`--network=none`, its default platform) and tvisor,
 * all in this one run, on a tmpfs mount and on the rootfs (a directory of the bundle's
 * busybox rootfs: a gofer file under tvisor and runsc): sequential write then read of a
 * file in 4 KiB and in 1 MiB blocks, and random 4 KiB reads. It prints MB/s per runtime
 * with tvisor's ratios to runsc and to runc against issue 10's targets (every ratio to
 * runsc >= 1x; 1 MiB blocks on tmpfs >= 0.5x runc). A runtime that cannot run here shows
 * "n/a: <reason>". Figures only: nothing here is a test.
 *
 * Environment: BENCH_IO_MIB (default 256) is the file's size in MiB; BENCH_IO_RUNS (default
 * 1) runs every column that many times, in rounds (each round runs every column once, so
 * that a burst of load on the shared machine falls on all of them), and shows each
 * figure's median. With BASELINE=<commit>
 * (`make bench-io BASELINE=...`, baseline.ts) that commit's tvisor is measured too, in the
 * same run, and each figure shows as a multiple of the baseline's (higher is better).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { programBinary, runUnder, runtimeSkipReason, type Runtime } from '../behaviour/runner';
import { baseline } from './baseline';

const PROGRAM = 'bench-io';
const OPS = ['write-4k', 'read-4k', 'write-1m', 'read-1m', 'randread-4k'];
const PLACES = [
  { name: 'tmpfs', dir: '/bench-tmpfs' },
  { name: 'rootfs', dir: '/bench-rootfs' },
];
const RUNTIMES: Runtime[] = ['runc', 'runsc', 'tvisor'];

/** run measures one runtime (`bin`: another build of it) in one place; MB/s per op, or why there are none. */
function run(rt: Runtime, dir: string, mib: number, bin?: string): Map<string, number> | string {
  const skip = runtimeSkipReason(rt);
  if (skip) return skip;
  const r = runUnder(rt, PROGRAM, [dir, String(mib)], {
    bin,
    timeoutMs: 1_800_000,
    editSpec: (spec) => {
      spec.mounts.push({ destination: '/bench-tmpfs', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', `size=${2 * mib + 64}m`] });
    },
  });
  if (r.timedOut) return 'timed out';
  if (r.status !== 0) return `exit status ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`;
  const out = new Map<string, number>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const m = /^(\S+) (\d+\.\d) MB\/s$/.exec(line);
    if (!m) return `unexpected output line ${JSON.stringify(line)}`;
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/** medianOf gives each op's median over the runs of one column; a run that failed makes the column n/a with its reason. */
function medianOf(got: (Map<string, number> | string)[]): Map<string, number> | string {
  const failed = got.find((g): g is string => typeof g === 'string');
  if (failed !== undefined) return failed;
  const out = new Map<string, number>();
  for (const op of OPS) {
    const xs = (got as Map<string, number>[]).map((m) => m.get(op)).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (xs.length > 0) out.set(op, xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2);
  }
  return out;
}

function main(): number {
  if (!fs.existsSync(programBinary(PROGRAM))) {
    process.stderr.write(`bench-io: ${programBinary(PROGRAM)} is missing (run make)\n`);
    return 1;
  }
  const mib = Number(process.env.BENCH_IO_MIB ?? '256');
  console.log(`bench-io: ${os.cpus().length} CPUs, kernel ${os.release()}, a ${mib} MiB file, MB/s (10^6 bytes per second)`);
  const base = baseline();
  const columns: { name: string; rt: Runtime; bin?: string }[] = RUNTIMES.map((rt) => ({ name: rt, rt }));
  if (base) columns.push({ name: base.label, rt: 'tvisor', bin: base.bin });
  const runs = Math.max(1, Number(process.env.BENCH_IO_RUNS ?? '1') || 1);
  if (runs > 1) console.log(`each figure is the median of ${runs} runs, taken in rounds`);
  for (const place of PLACES) {
    const rounds: (Map<string, number> | string)[][] = [];
    for (let i = 0; i < runs; i++) {
      rounds.push(columns.map((c) => {
        const t0 = Date.now();
        const got = run(c.rt, place.dir, mib, c.bin);
        process.stderr.write(`bench-io: ${place.name} ${c.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        return got;
      }));
    }
    const cols = columns.map((_, k) => medianOf(rounds.map((r) => r[k])));
    console.log(`\n${place.name}:`);
    const rows = [['op', ...columns.map((c) => c.name), 'tvisor/runsc', 'tvisor/runc', ...(base ? [`tvisor/${base.label}`] : []), 'target']];
    const [runc, runsc, tvisor, before] = cols.map((c) => (typeof c === 'string' ? undefined : c));
    for (const op of OPS) {
      const cell = (c: Map<string, number> | string) => (typeof c === 'string' ? 'n/a' : (c.get(op)?.toFixed(1) ?? '-'));
      const ratio = (a?: number, b?: number) => (a !== undefined && b ? `${(a / b).toFixed(2)}x` : '-');
      const target = place.name === 'tmpfs' && op.endsWith('-1m') ? '>= 1x runsc, >= 0.5x runc' : '>= 1x runsc';
      const vsBase = base ? [ratio(tvisor?.get(op), before?.get(op))] : [];
      rows.push([op, ...cols.map(cell), ratio(tvisor?.get(op), runsc?.get(op)), ratio(tvisor?.get(op), runc?.get(op)), ...vsBase, target]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    cols.forEach((c, i) => { if (typeof c === 'string') console.log(`${columns[i].name}: n/a: ${c}`); });
  }
  return 0;
}

process.exitCode = main();
