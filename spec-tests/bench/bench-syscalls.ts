/**
 * bench-syscalls.ts is `make bench-syscalls`: it runs the static microbenchmark
 * build/programs/bench-syscalls natively and as a container's init under runc, runsc
 * (`--network=none`, its default platform) and tvisor, all in this one run, and prints one
 * table of per-operation times with tvisor's ratio to runsc against the sentry issue's
 * targets. A runtime that cannot run here shows "n/a: <reason>".
 *
 * With BASELINE=<commit> (make bench-syscalls BASELINE=...), that commit's build runs as one
 * more column, and a second table compares each tvisor/runsc ratio with the baseline's.
 *
 * walk-10k-cold is a separate run of the program per runtime and pass (`-w DIR`): 10,000
 * files made on the host in a fresh directory, bind-mounted at /walk, each stat'ed once by
 * a container that has never looked them up (its runtime's dentry cache is cold).
 *
 * Environment: BENCH_SECONDS_PER_OP (default 0.3) is the time budget of each operation in
 * one run of the program; BENCH_PASSES (default 3) is how many times each runtime runs it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { baseline, regressionVerdict, REGRESSION_BOUND } from './baseline';
import { RUNTIMES, RunResult, Runtime, programBinary, runNative, runUnder, runtimeSkipReason } from '../behaviour/runner';

const PROGRAM = 'bench-syscalls';
/** OPS are the benchmark's operations, in its output order. */
const OPS = ['getppid', 'open+close', 'pread-4k', 'stat', 'fork+wait', 'fork+wait-256m', 'pipe-pingpong', 'flock', 'futex-pingpong', 'clock_gettime', 'walk-10k-cold'];
/** WALK_OP is the cold walk, run apart (bench-syscalls -w). */
const WALK_OP = 'walk-10k-cold';
/** TARGETS are the issue's bounds on tvisor's time as a fraction of runsc's. */
const TARGETS: Record<string, number> = { getppid: 0.25, 'pread-4k': 0.3, 'open+close': 0.5, 'fork+wait': 0.4, 'fork+wait-256m': 0.3, 'walk-10k-cold': 0.7 };
/** NATIVE_TARGETS are the issue's bounds on tvisor's time as a multiple of the native run's. */
const NATIVE_TARGETS: Record<string, number> = { clock_gettime: 2 };
/** WALK_FILES and WALK_PER_DIR shape the cold walk's tree (as bench-syscalls.c reads it). */
const WALK_FILES = 10_000, WALK_PER_DIR = 100;

/** withWalkTree makes the cold walk's 10,000 files in a fresh host directory, runs `fn`
 * with it, and removes it. */
function withWalkTree(fn: (dir: string) => RunResult): RunResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-walk-'));
  try {
    for (let i = 0; i < WALK_FILES; i++) {
      const sub = path.join(dir, `d${Math.floor(i / WALK_PER_DIR)}`);
      if (i % WALK_PER_DIR === 0) fs.mkdirSync(sub);
      fs.writeFileSync(path.join(sub, `f${i}`), '');
    }
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** eachOp runs every timed op in a container of its own, then the cold walk, as one
 * result: a baseline build may hang or fail on an op its kernel did not have yet (a futex
 * shared between processes), and that op alone is then left out, said on stderr. */
function eachOp(label: string, runOne: (op: string) => RunResult, walk: (dir: string) => RunResult): RunResult {
  let stdout = '';
  const leftOut = (what: string, r: RunResult) => process.stderr.write(`bench-syscalls: ${label}: ${what} left out (${r.timedOut ? 'timed out' : `exit status ${r.status}`})\n`);
  for (const op of OPS.filter((o) => o !== WALK_OP)) {
    const r = runOne(op);
    if (r.status === 0 && !r.timedOut) stdout += r.stdout;
    else leftOut(op, r);
  }
  const w = withWalkTree(walk);
  if (w.status === 0 && !w.timedOut) stdout += w.stdout;
  else leftOut(WALK_OP, w);
  return { stdout, stderr: '', status: 0, timedOut: false };
}

/** andWalk runs the timed ops, then the cold walk in a run of its own, as one result. */
function andWalk(ops: () => RunResult, walk: (dir: string) => RunResult): RunResult {
  const a = ops();
  if (a.status !== 0 || a.timedOut) return a;
  const b = withWalkTree(walk);
  return b.status !== 0 || b.timedOut ? b : { ...b, stdout: a.stdout + b.stdout, stderr: a.stderr + b.stderr };
}

/** Column is one runtime's figures (median microseconds per op over the passes, and
 * every pass's figure), or why there are none. */
interface Column {
  name: string;
  us?: Map<string, number>;
  passes?: Map<string, number[]>;
  na?: string;
}

/** parse reads `<op> <value> us` lines; anything else makes the run unusable. */
function parse(r: RunResult): Map<string, number> | string {
  if (r.timedOut) return 'timed out';
  if (r.status !== 0) return `exit status ${r.status}: ${firstLine(r.stderr) || firstLine(r.stdout) || 'no output'}`;
  const us = new Map<string, number>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const m = /^(\S+) (\d+\.\d+) us$/.exec(line);
    if (!m) return `unexpected output line ${JSON.stringify(line)}`;
    us.set(m[1], Number(m[2]));
  }
  return us;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** measureAll runs every runtime once per pass, interleaved (so a slow phase of the
 * machine hits them alike), and keeps each op's median over the passes. A runtime that
 * fails in any pass is n/a. */
function measureAll(runs: { name: string; skip?: string; run: () => RunResult }[], passes: number): Column[] {
  const cols: Column[] = runs.map((r) => ({ name: r.name, na: r.skip, passes: new Map() }));
  for (let p = 0; p < passes; p++) {
    runs.forEach((r, i) => {
      const col = cols[i];
      if (col.na) return;
      const t0 = Date.now();
      const got = parse(r.run());
      process.stderr.write(`bench-syscalls: pass ${p + 1}/${passes} ${r.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      if (typeof got === 'string') {
        col.na = got;
        return;
      }
      for (const [op, v] of got) col.passes!.set(op, [...(col.passes!.get(op) ?? []), v]);
    });
  }
  for (const col of cols) {
    if (!col.na) col.us = new Map([...col.passes!].map(([op, vs]) => [op, median(vs)]));
  }
  return cols;
}

/** runscPlatform reads runsc's default platform from `runsc flags` (printed on stderr). */
function runscPlatform(): string {
  const r = spawnSync(RUNTIMES.runsc.bin, ['flags'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  const flags = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return /-platform string\n[^\n]*\(default "([^"]+)"\)/.exec(flags)?.[1] ?? 'unknown';
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(3);
}

/** printTable prints rows in columns, the first left-aligned, and returns the widths. */
function printTable(rows: string[][]): number[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd());
  return widths;
}

function main(): number {
  if (!fs.existsSync(programBinary(PROGRAM))) {
    process.stderr.write(`bench-syscalls: ${programBinary(PROGRAM)} is missing (run make)\n`);
    return 1;
  }
  const seconds = process.env.BENCH_SECONDS_PER_OP ?? '0.3';
  const passes = Number(process.env.BENCH_PASSES ?? '3');
  const args = ['-t', seconds];
  const timeoutMs = 90_000;
  const base = baseline();
  const columns = measureAll(
    [
      { name: 'native', run: () => andWalk(() => runNative(PROGRAM, args, { timeoutMs }), (dir) => runNative(PROGRAM, ['-w', dir], { timeoutMs })) },
      ...(['runc', 'runsc', 'tvisor'] as Runtime[]).map((rt) => ({
        name: rt,
        skip: runtimeSkipReason(rt),
        run: () => andWalk(() => runUnder(rt, PROGRAM, args, { timeoutMs }), (dir) => runUnder(rt, PROGRAM, ['-w', '/walk'], { timeoutMs, mounts: [{ source: dir, destination: '/walk' }] })),
      })),
      ...(base ? [{
        name: base.label,
        skip: runtimeSkipReason('tvisor'),
        run: () => eachOp(base.label, (op) => runUnder('tvisor', PROGRAM, [...args, op], { timeoutMs: 20_000, bin: base.bin }),
          (dir) => runUnder('tvisor', PROGRAM, ['-w', '/walk'], { timeoutMs, bin: base.bin, mounts: [{ source: dir, destination: '/walk' }] })),
      }] : []),
    ],
    passes,
  );
  const [native, , runsc, tvisor, before] = columns;

  console.log(`bench-syscalls: ${os.cpus().length} CPUs, kernel ${os.release()}, ${seconds} s per op and runtime`);
  console.log(`runsc: ${RUNTIMES.runsc.flags.join(' ')}, platform ${runscPlatform()} (its default)`);
  console.log(`microseconds per operation: median of ${passes} interleaved passes, each the median of 5 rounds\n`);
  const header = ['op', ...columns.map((c) => c.name), 'tvisor/runsc', 'target', 'met'];
  const rows: string[][] = [header];
  for (const op of OPS) {
    const cells = columns.map((c) => (c.us ? fmt(c.us.get(op)) : 'n/a'));
    const t = tvisor.us?.get(op);
    const s = runsc.us?.get(op);
    const ratio = t !== undefined && s !== undefined && s > 0 ? t / s : undefined;
    const n = native.us?.get(op);
    const nativeTarget = NATIVE_TARGETS[op];
    // An op whose target is a multiple of native (the vDSO's clock_gettime) is judged on that.
    const target = nativeTarget ?? TARGETS[op];
    const judged = nativeTarget === undefined ? ratio : t !== undefined && n !== undefined && n > 0 ? t / n : undefined;
    const met = target === undefined ? '' : judged === undefined ? 'n/a' : judged <= target ? 'met' : 'not met';
    const targetText = target === undefined ? '' : nativeTarget === undefined ? `<= ${target}x` : `<= ${target}x native (${judged === undefined ? '-' : judged.toFixed(2)}x)`;
    rows.push([op, ...cells, ratio === undefined ? '-' : `${ratio.toFixed(2)}x`, targetText, met]);
  }
  const widths = printTable(rows);
  const spread = columns.filter((c) => c.us && c.name !== 'native' && c.name !== 'runc');
  if (spread.length) {
    console.log('\nrange over the passes (min..max):');
    for (const op of OPS) {
      const ranges = spread.map((c) => {
        const vs = c.passes!.get(op) ?? [];
        return `${c.name} ${fmt(Math.min(...vs))}..${fmt(Math.max(...vs))}`;
      });
      console.log(`  ${op.padEnd(widths[0])}  ${ranges.join('   ')}`);
    }
  }
  if (before) {
    console.log(`\nagainst the baseline ${before.name}: tvisor/runsc now and then (each ratio may be at most ${REGRESSION_BOUND}x its baseline)`);
    const brows = [['op', 'now', 'baseline', 'now/baseline', 'verdict']];
    for (const op of OPS) {
      const s = runsc.us?.get(op);
      const now = s && tvisor.us?.get(op) !== undefined ? tvisor.us.get(op)! / s : undefined;
      const then = s && before.us?.get(op) !== undefined ? before.us.get(op)! / s : undefined;
      brows.push([op, now === undefined ? '-' : `${now.toFixed(2)}x`, then === undefined ? '-' : `${then.toFixed(2)}x`,
        now !== undefined && then ? `${(now / then).toFixed(2)}x` : '-', regressionVerdict(now, then)]);
    }
    printTable(brows);
  }
  for (const c of columns) if (c.na) console.log(`\n${c.name}: n/a: ${c.na}`);
  return 0;
}

process.exitCode = main();
