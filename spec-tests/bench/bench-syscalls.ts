/**
 * bench-syscalls.ts is `make bench-syscalls`: it runs the static microbenchmark
 * build/programs/bench-syscalls natively and as a container's init under runc, runsc
 * (`--network=none`, its default platform) and tvisor, all in this one run, and prints one
 * table of per-operation times with tvisor's ratio to runsc against the sentry issue's
 * targets, and tvisor on the systrap platform as one more column (tvisor-systrap, with its
 * ratio to runsc last). The tvisor column (and a BASELINE's) runs on ptrace, named
 * explicitly: the columns stay comparable with earlier runs now that the default is
 * systrap where it works. A runtime that cannot run here shows "n/a: <reason>".
 *
 * With BASELINE=<commit> (make bench-syscalls BASELINE=...), that commit's build runs as one
 * more column, and a second table compares each tvisor/runsc ratio with the baseline's.
 *
 * The cold walks are separate runs of the program per runtime and pass (`-w DIR`): 10,000
 * files stat'ed once each by a container that has never looked them up (its runtime's
 * dentry cache is cold), in 100 directories: walk-10k-cold on the container's rootfs
 * (made afresh, read-only, the files under /walk), walk-10k-cold-bind under a bind mount
 * of a fresh host directory at /walk (which tvisor revalidates at every lookup).
 *
 * With BENCH_PHASES=1, after the table, the timed ops and each cold walk run once more per
 * tvisor platform (ptrace, systrap) with the sandbox's phase sums on in the per-syscall
 * mode (TVISOR_PHASES=syscalls:<file>, native/phases.ts; the table's own runs never have
 * them on), and this prints (walk-phases.ts) the timed ops' scheduler loop per stop (pre,
 * switch, timers, dispatch, handler, the event-loop gap, the commonest syscalls, systrap's
 * split of the round trip) and each walk's time per stat by phase: the trap, the handler,
 * path resolution, listings and lookups, each 9P round trip, the codec on both sides, the
 * gofer's handlers and host calls. BENCH_PHASES=only prints those alone, without the
 * table. BENCH_STAMPS=1 (the old name) is BENCH_PHASES=1.
 *
 * Environment: BENCH_SECONDS_PER_OP (default 0.3) is the time budget of each operation in
 * one run of the program; BENCH_PASSES (default 3) is how many times each runtime runs it;
 * BENCH_OPS (a comma-separated list of ops) measures those ops only.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { baseline, regressionVerdict, REGRESSION_BOUND } from './baseline';
import { RUNTIMES, RunResult, Runtime, programBinary, runNative, runUnder, runtimeSkipReason, tvisorOnPlatform, type RunOptions } from '../behaviour/runner';
import { makeRootfs } from '../behaviour/bundle';
import { printLoop, printPhases, withPhases } from './walk-phases';

const PROGRAM = 'bench-syscalls';
/** OPS are the benchmark's operations, in its output order. */
const ALL_OPS = ['getppid', 'open+close', 'pread-4k', 'stat', 'fork+wait', 'fork+wait-256m', 'pipe-pingpong', 'flock', 'futex-pingpong', 'clock_gettime', 'mmap-private-x4', 'mmap-private-x4-mem', 'walk-10k-cold', 'walk-10k-cold-bind'];
/** KIB_OPS are the figures in KiB rather than microseconds (memory taken: bench-syscalls.c). */
const KIB_OPS = new Set(['mmap-private-x4-mem']);
/** OPS are the ops measured: BENCH_OPS's, else all. */
const OPS = process.env.BENCH_OPS ? ALL_OPS.filter((o) => process.env.BENCH_OPS!.split(',').includes(o)) : ALL_OPS;
/** WALKS are the cold walks, each run apart (bench-syscalls -w): the op and whether its
 * tree is in the rootfs (else under a bind mount). */
const WALKS = [{ op: 'walk-10k-cold', rootfs: true }, { op: 'walk-10k-cold-bind', rootfs: false }].filter((w) => OPS.includes(w.op));
/** TIMED_OPS are the ops of the program's timed run (all but the walks). */
const TIMED_OPS = OPS.filter((o) => !WALKS.some((w) => w.op === o) && !o.startsWith('walk-'));
/** TARGETS are the issue's bounds on tvisor's time as a fraction of runsc's. */
const TARGETS: Record<string, number> = { getppid: 0.25, 'pread-4k': 0.3, 'open+close': 0.5, 'fork+wait': 0.4, 'fork+wait-256m': 0.3, 'walk-10k-cold': 0.7 };
/** NATIVE_TARGETS are the issue's bounds on tvisor's time as a multiple of the native run's. */
const NATIVE_TARGETS: Record<string, number> = { clock_gettime: 2 };
/** WALK_FILES and WALK_PER_DIR shape the cold walk's tree (as bench-syscalls.c reads it). */
const WALK_FILES = 10_000, WALK_PER_DIR = 100;

/** Walker runs the program's cold walk of the tree at host path `tree` under one runtime:
 * `opts` are the run options that show it at /walk (a rootfs, or a bind mount). */
type Walker = (tree: string, opts: RunOptions) => RunResult;

/** withWalkTree makes the cold walk's 10,000 files in a fresh host directory (the walk
 * directory of a fresh rootfs holding the program, for a walk on the rootfs), runs the
 * walk, names its figure `op`, and removes the tree. */
function withWalkTree(op: string, inRootfs: boolean, walk: Walker): RunResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-walk-'));
  try {
    const tree = inRootfs ? path.join(dir, 'walk') : dir;
    if (inRootfs) makeRootfs(dir, { args: ['/prog'], program: programBinary(PROGRAM) });
    fs.mkdirSync(tree, { recursive: true });
    for (let i = 0; i < WALK_FILES; i++) {
      const sub = path.join(tree, `d${Math.floor(i / WALK_PER_DIR)}`);
      if (i % WALK_PER_DIR === 0) fs.mkdirSync(sub);
      fs.writeFileSync(path.join(sub, `f${i}`), '');
    }
    const r = walk(tree, inRootfs ? { rootfs: dir } : { mounts: [{ source: tree, destination: '/walk' }] });
    return { ...r, stdout: r.stdout.replace(/^walk-10k-cold /m, `${op} `) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** walkAll runs each cold walk (WALKS) as one result, or the first that failed. */
function walkAll(walk: Walker): RunResult {
  let stdout = '';
  for (const w of WALKS) {
    const r = withWalkTree(w.op, w.rootfs, walk);
    if (r.status !== 0 || r.timedOut) return r;
    stdout += r.stdout;
  }
  return { stdout, stderr: '', status: 0, timedOut: false };
}

/** eachOp runs every timed op in a container of its own, then the cold walk, as one
 * result: a baseline build may hang or fail on an op its kernel did not have yet (a futex
 * shared between processes), and that op alone is then left out, said on stderr. */
function eachOp(label: string, runOne: (op: string) => RunResult, walk: Walker): RunResult {
  let stdout = '';
  const leftOut = (what: string, r: RunResult) => process.stderr.write(`bench-syscalls: ${label}: ${what} left out (${r.timedOut ? 'timed out' : `exit status ${r.status}`})\n`);
  for (const op of TIMED_OPS) {
    const r = runOne(op);
    if (r.status === 0 && !r.timedOut) stdout += r.stdout;
    else leftOut(op, r);
  }
  for (const w of WALKS) {
    const r = withWalkTree(w.op, w.rootfs, walk);
    if (r.status === 0 && !r.timedOut) stdout += r.stdout;
    else leftOut(w.op, r);
  }
  return { stdout, stderr: '', status: 0, timedOut: false };
}

/** andWalk runs the timed ops (all in one run of the program, or one run per op when
 * BENCH_OPS picks some), then each cold walk in a run of its own, as one result. */
function andWalk(ops: (only: string[]) => RunResult, walk: Walker): RunResult {
  const picked = process.env.BENCH_OPS !== undefined;
  let out = '', err = '';
  for (const only of TIMED_OPS.length === 0 ? [] : picked ? TIMED_OPS.map((o) => [o]) : [[]]) {
    const a = ops(only);
    if (a.status !== 0 || a.timedOut) return a;
    out += a.stdout;
    err += a.stderr;
  }
  const b = walkAll(walk);
  return b.status !== 0 || b.timedOut ? b : { ...b, stdout: out + b.stdout, stderr: err + b.stderr };
}

/** Column is one runtime's figures (median microseconds per op over the passes, and
 * every pass's figure), or why there are none. */
interface Column {
  name: string;
  us?: Map<string, number>;
  passes?: Map<string, number[]>;
  na?: string;
}

/** parse reads `<op> <value> us` lines (`KiB` for KIB_OPS); anything else makes the run unusable. */
function parse(r: RunResult): Map<string, number> | string {
  if (r.timedOut) return 'timed out';
  if (r.status !== 0) return `exit status ${r.status}: ${firstLine(r.stderr) || firstLine(r.stdout) || 'no output'}`;
  const us = new Map<string, number>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const m = /^(\S+) (\d+\.\d+) (us|KiB)$/.exec(line);
    if (!m || (m[3] === 'KiB') !== KIB_OPS.has(m[1])) return `unexpected output line ${JSON.stringify(line)}`;
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
 * fails in any pass is n/a. Each pass starts one runtime further down the list, so that
 * no runtime always runs right after the same other one: pread-4k and getppid were
 * 1.3-1.55x a baseline build in such fixed-order runs and equal in direct interleaved ones. */
function measureAll(runs: { name: string; skip?: string; run: () => RunResult }[], passes: number): Column[] {
  const cols: Column[] = runs.map((r) => ({ name: r.name, na: r.skip, passes: new Map() }));
  for (let p = 0; p < passes; p++) {
    runs.forEach((_, k) => {
      const i = (p + k) % runs.length;
      const [r, col] = [runs[i], cols[i]];
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

/** phasesMode is BENCH_PHASES ('1', 'only' or none), BENCH_STAMPS=1 being BENCH_PHASES=1. */
function phasesMode(): string | undefined {
  if (process.env.BENCH_PHASES) return process.env.BENCH_PHASES;
  if (!process.env.BENCH_STAMPS) return undefined;
  process.stderr.write('bench-syscalls: BENCH_STAMPS is now BENCH_PHASES=1\n');
  return '1';
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
  const phases = phasesMode();
  if (phases === 'only') {
    // The phases alone, without the table (a quicker look while working on a path).
    phasesOfRuns(90_000);
    return 0;
  }
  const seconds = process.env.BENCH_SECONDS_PER_OP ?? '0.3';
  const passes = Number(process.env.BENCH_PASSES ?? '3');
  const args = ['-t', seconds];
  const timeoutMs = 90_000;
  const base = baseline();
  const wrapperDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-syscalls-'));
  const systrapBin = tvisorOnPlatform('systrap', wrapperDir);
  const ptraceBin = tvisorOnPlatform('ptrace', wrapperDir);
  const baseBin = base ? tvisorOnPlatform('ptrace', fs.mkdtempSync(path.join(os.tmpdir(), 'bench-syscalls-base-')), base.bin) : undefined;
  const columns = measureAll(
    [
      { name: 'native', run: () => andWalk((only) => runNative(PROGRAM, [...args, ...only], { timeoutMs }), (tree) => runNative(PROGRAM, ['-w', tree], { timeoutMs })) },
      ...(['runc', 'runsc', 'tvisor'] as Runtime[]).map((rt) => {
        const bin = rt === 'tvisor' ? ptraceBin : undefined;
        return {
          name: rt,
          skip: runtimeSkipReason(rt),
          run: () => andWalk((only) => runUnder(rt, PROGRAM, [...args, ...only], { timeoutMs, bin }), (_tree, opts) => runUnder(rt, PROGRAM, ['-w', '/walk'], { timeoutMs, bin, ...opts })),
        };
      }),
      {
        name: 'tvisor-systrap',
        skip: runtimeSkipReason('tvisor'),
        run: () => andWalk((only) => runUnder('tvisor', PROGRAM, [...args, ...only], { timeoutMs, bin: systrapBin }),
          (_tree, opts) => runUnder('tvisor', PROGRAM, ['-w', '/walk'], { timeoutMs, bin: systrapBin, ...opts })),
      },
      ...(base ? [{
        name: base.label,
        skip: runtimeSkipReason('tvisor'),
        run: () => eachOp(base.label, (op) => runUnder('tvisor', PROGRAM, [...args, op], { timeoutMs: 20_000, bin: baseBin }),
          (_tree, opts) => runUnder('tvisor', PROGRAM, ['-w', '/walk'], { timeoutMs, bin: baseBin, ...opts })),
      }] : []),
    ],
    passes,
  );
  fs.rmSync(wrapperDir, { recursive: true, force: true });
  const [native, , runsc, tvisor, systrap, before] = columns;

  console.log(`bench-syscalls: ${os.cpus().length} CPUs, kernel ${os.release()}, ${seconds} s per op and runtime`);
  console.log(`runsc: ${RUNTIMES.runsc.flags.join(' ')}, platform ${runscPlatform()} (its default)`);
  console.log(`microseconds per operation: median of ${passes} interleaved passes, each the median of 5 rounds`);
  console.log(`(${[...KIB_OPS].join(', ')}: KiB of memory, median of the passes; the ratios compare those)\n`);
  const header = ['op', ...columns.map((c) => c.name), 'tvisor/runsc', 'target', 'met', 'systrap/runsc'];
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
    const st = systrap.us?.get(op);
    const sratio = st !== undefined && s !== undefined && s > 0 ? `${(st / s).toFixed(2)}x` : '-';
    rows.push([op, ...cells, ratio === undefined ? '-' : `${ratio.toFixed(2)}x`, targetText, met, sratio]);
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
  if (phases === '1' && !runtimeSkipReason('tvisor')) phasesOfRuns(timeoutMs);
  return 0;
}

/** phasesOfRuns runs the timed ops (in one run) and each cold walk once per tvisor
 * platform with the phase sums on in the per-syscall mode and prints them (BENCH_PHASES). */
function phasesOfRuns(timeoutMs: number): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-phases-'));
  try {
    const args = ['-t', process.env.BENCH_SECONDS_PER_OP ?? '0.3'];
    const bins: Array<[string, string | undefined]> = [['tvisor', tvisorOnPlatform('ptrace', dir)], ['tvisor-systrap', tvisorOnPlatform('systrap', dir)]];
    for (const [name, bin] of bins) {
      if (TIMED_OPS.length === 0) break;
      const only = process.env.BENCH_OPS !== undefined ? TIMED_OPS : [];
      printLoop(`${only.length ? only.join(',') : 'the timed ops'} ${name}`,
        withPhases(() => runUnder('tvisor', PROGRAM, [...args, ...only], { timeoutMs, bin }), true));
    }
    for (const w of WALKS) {
      for (const [name, bin] of bins) {
        const r = withPhases(() => withWalkTree(w.op, w.rootfs, (_tree, opts) => runUnder('tvisor', PROGRAM, ['-w', '/walk'], { timeoutMs, bin, ...opts })), true);
        printPhases(`${w.op} ${name}`, r, WALK_FILES);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
