/**
 * profile-memory.ts is `make profile-memory`: where an idle sandbox's memory goes. It
 * starts SANDBOXES idle busybox `sleep` containers of tvisor (and of the BASELINE build,
 * and of runsc for comparison), lets them settle, and prints per kind of host process
 * (sentry, gofer, stub; runsc's sandbox and gofer) the resident memory per process split
 * into the parts smaps tells apart (sandbox-memory.ts CATEGORIES: node's text, malloc's
 * heap and arenas, thread stacks, V8's heap pages and code, the memory file), then, from
 * inside the sentry and the gofer (the TVISOR_MEMORY_REPORT debug switch,
 * native/memory-report.ts), V8's own view: heap used and committed per space, code,
 * external memory. Last, the sandbox's unique memory (each physical page once): one
 * sandbox alone (bench-start's figure) and per sandbox of SANDBOXES, where the text that
 * the sandboxes share (node's, runsc's) is counted once for all.
 *
 * Environment: PROFILE_MEMORY_SANDBOXES (default 20), PROFILE_MEMORY_SETTLE_S (default 2),
 * PROFILE_MEMORY_RUNSC=0 leaves runsc out. Each runtime's containers are started, measured
 * and deleted before the next runtime's start. Every container has its own bundle and
 * --root under one temporary directory, removed at the end with whatever is left.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBundle } from '../behaviour/bundle';
import { RUNTIMES, runtimeSkipReason } from '../behaviour/runner';
import { baseline } from './baseline';
import { CATEGORIES, type Category, type Kb, cmdlineOf, pageSharing, pagesOf, processTable, sandboxProcesses, smapsBreakdown } from './sandbox-memory';
import type { MemoryReport } from '../../native/memory-report';

const SANDBOXES = Number(process.env.PROFILE_MEMORY_SANDBOXES ?? '20');
const SETTLE_MS = Number(process.env.PROFILE_MEMORY_SETTLE_S ?? '2') * 1000;

/** Target is one runtime measured: its CLI and global flags, and whether it reports V8's view. */
interface Target {
  label: string;
  bin: string;
  flags: string[];
  tvisor: boolean;
}

/** Sandbox is one started container: its id, root, bundle and pid-file pid. */
interface Sandbox {
  id: string;
  root: string;
  bundle: string;
  pid: number;
}

/** Result is what one runtime's sandboxes hold. */
interface Result {
  target: Target;
  /** kinds maps a kind of process to the number of such processes and its categories summed over them. */
  kinds: Map<string, { count: number; cats: Map<Category, Kb>; total: Kb }>;
  /** v8 maps sentry/gofer to the average of their last memory reports. */
  v8: Map<string, { count: number; sum: Record<string, number> }>;
  uniqueOne?: number;
  uniqueAll?: number;
  /** split is how the unique memory per sandbox of all divides, in kB per sandbox: the processes' USS summed, the other pages
   * that sandbox alone maps (shared between its own processes), and its share of the pages several sandboxes map. */
  split?: { uss: number; ownShared: number; crossShared: number };
  started: number;
  err?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * cli runs one command of runtime `t`. Its stderr goes to a file, not a pipe: `create`
 * hands its stdio to the container (as runc does without a terminal), whose sandbox
 * would hold a pipe open and keep spawnSync waiting until its timeout (30 s a sandbox).
 */
function cli(t: Target, root: string, args: string[], env: NodeJS.ProcessEnv): { ok: boolean; msg: string } {
  const errFile = path.join(path.dirname(root), `${path.basename(root)}.${args[0]}.stderr`);
  const fd = fs.openSync(errFile, 'w');
  let r: ReturnType<typeof spawnSync>;
  try {
    r = spawnSync(t.bin, [...t.flags, '--root', root, ...args], { env, stdio: ['ignore', 'ignore', fd], timeout: 30_000 });
  } finally {
    fs.closeSync(fd);
  }
  const stderr = fs.readFileSync(errFile, 'utf8');
  return { ok: r.status === 0, msg: `${t.label} ${args[0]}: ${r.error?.message ?? (stderr.trim().split('\n').pop() || `exit status ${r.status}`)}` };
}

/** kindOf names a sandbox process by its command line. */
function kindOf(pid: number): string {
  const cmd = cmdlineOf(pid);
  if (/ sentry /.test(cmd)) return 'sentry';
  if (/ gofer /.test(cmd)) return 'gofer';
  if (/stub/.test(cmd)) return 'stub';
  if (/runsc.* boot /.test(cmd) || /runsc-sandbox/.test(cmd)) return 'runsc sandbox';
  if (/runsc.* gofer /.test(cmd)) return 'runsc gofer';
  return cmd.split(' ')[0].split('/').pop() ?? '?';
}

const add = (a: Kb, b: Kb): void => {
  a.rss += b.rss;
  a.pss += b.pss;
  a.uss += b.uss;
};

/** flatten turns a memory report into name -> kB ('heap used', 'space new_space', ...). */
function flatten(r: MemoryReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.node)) out[`heap ${k}`] = v;
  for (const [k, v] of Object.entries(r.spaces)) out[`space ${k}`] = v;
  out.code = r.code;
  return out;
}

async function measure(t: Target, dir: string, index: number): Promise<Result> {
  const res: Result = { target: t, kinds: new Map(), v8: new Map(), started: 0 };
  // A short folder per runtime (its index): a sandbox's Unix sockets live under its root,
  // and their paths have room for 108 bytes at most (`tvisor@<rev>` did not fit at 20 sandboxes).
  const tdir = path.join(dir, `r${index}`);
  const profile = path.join(tdir, 'profile');
  fs.mkdirSync(tdir, { recursive: true });
  const env: NodeJS.ProcessEnv = t.tvisor ? { ...process.env, TVISOR_PROFILE: profile, TVISOR_MEMORY_REPORT: '1' } : process.env;
  const boxes: Sandbox[] = [];
  try {
    for (let i = 0; i < SANDBOXES; i++) {
      // Paths that are no substring of one another (sandboxProcesses finds processes by
      // their command line: `root1` would find those of `root10` to `root19` too).
      const sb: Sandbox = { id: `profile-memory-${process.pid}-${i}`, root: path.join(tdir, `sandbox${i}-root`), bundle: path.join(tdir, `sandbox${i}-bundle`), pid: 0 };
      makeBundle(sb.bundle, { args: ['/bin/sleep', '1000'] });
      const pidFile = path.join(tdir, `pid${i}`);
      const c = cli(t, sb.root, ['create', '--bundle', sb.bundle, '--pid-file', pidFile, sb.id], env);
      if (!c.ok) throw new Error(c.msg);
      sb.pid = Number(fs.readFileSync(pidFile, 'utf8'));
      boxes.push(sb);
      const s = cli(t, sb.root, ['start', sb.id], env);
      if (!s.ok) throw new Error(s.msg);
    }
    res.started = boxes.length;
    await sleep(SETTLE_MS);
    const perBox = boxes.map((b) => sandboxProcesses(b.root, b.bundle, b.id, b.pid).map((p) => p.pid));
    const seen = new Set<number>();
    for (const pid of perBox.flat()) {
      if (seen.has(pid)) throw new Error(`process ${pid} (${cmdlineOf(pid)}) was found in two sandboxes`);
      seen.add(pid);
    }
    for (const pid of perBox.flat()) {
      const kind = kindOf(pid);
      const k = res.kinds.get(kind) ?? { count: 0, cats: new Map<Category, Kb>(), total: { rss: 0, pss: 0, uss: 0 } };
      k.count++;
      for (const [c, kb] of smapsBreakdown(pid)) {
        const acc = k.cats.get(c) ?? { rss: 0, pss: 0, uss: 0 };
        add(acc, kb);
        add(k.total, kb);
        k.cats.set(c, acc);
      }
      res.kinds.set(kind, k);
    }
    // Each sandbox's pages are read once (pagemap reads are most of this tool's time):
    // one sandbox alone is the first set, all of them the union (pageSharing's own + shared).
    const sets = perBox.map((pids) => pagesOf(pids));
    if (boxes.length && sets.every((p) => p !== undefined)) {
      const { own, shared } = pageSharing(sets as Set<bigint>[]);
      res.uniqueOne = (sets[0]!.size * 4096) / 1024;
      res.uniqueAll = (own.reduce((a, b) => a + b, 0) + shared) / boxes.length;
      const uss = [...res.kinds.values()].reduce((a, k) => a + k.total.uss, 0) / boxes.length;
      res.split = { uss, ownShared: own.reduce((a, b) => a + b, 0) / boxes.length - uss, crossShared: shared / boxes.length };
    }
    if (fs.existsSync(profile)) {
      const last = new Map<string, { who: string; r: MemoryReport }>();
      for (const line of fs.readFileSync(profile, 'utf8').split('\n')) {
        const m = /^\S+ (\d+) (\S+) memory:(.*)$/.exec(line);
        if (m) last.set(m[1], { who: m[2], r: JSON.parse(m[3]) as MemoryReport });
      }
      for (const { who, r } of last.values()) {
        const v = res.v8.get(who) ?? { count: 0, sum: {} };
        v.count++;
        for (const [k, n] of Object.entries(flatten(r))) v.sum[k] = (v.sum[k] ?? 0) + n;
        res.v8.set(who, v);
      }
    }
  } catch (e) {
    res.err = (e as Error).message;
  } finally {
    for (const b of boxes) {
      cli(t, b.root, ['kill', b.id, 'KILL'], env);
      cli(t, b.root, ['delete', '--force', b.id], env);
    }
  }
  return res;
}

function table(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
}

const kbCell = (v: number | undefined): string => (v === undefined ? '-' : Math.round(v).toString());
const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b ? `${(a / b).toFixed(2)}x` : '-');

function report(results: Result[]): void {
  console.log(`profile-memory: ${SANDBOXES} idle busybox \`sleep\` sandboxes per runtime, measured ${SETTLE_MS / 1000} s after the last start; ${os.cpus().length} CPUs, kernel ${os.release()}`);
  for (const r of results) {
    console.log(`\n== ${r.target.label}: ${r.started} sandboxes${r.err ? ` (stopped: ${r.err})` : ''}`);
    for (const [kind, k] of [...r.kinds].sort((a, b) => b[1].total.pss - a[1].total.pss)) {
      console.log(`\n  ${kind} (${k.count} processes), kB per process`);
      const rows = [['    part', 'RSS', 'PSS', 'USS']];
      for (const c of Object.keys(CATEGORIES) as Category[]) {
        const kb = k.cats.get(c);
        if (kb) rows.push([`    ${c}`, kbCell(kb.rss / k.count), kbCell(kb.pss / k.count), kbCell(kb.uss / k.count)]);
      }
      rows.push(['    total', kbCell(k.total.rss / k.count), kbCell(k.total.pss / k.count), kbCell(k.total.uss / k.count)]);
      table(rows);
    }
    for (const [who, v] of r.v8) {
      console.log(`\n  ${who}: V8's and Node's view from inside (TVISOR_MEMORY_REPORT), kB, average of ${v.count}`);
      const rows = [['    figure', 'kB']];
      for (const [name, sum] of Object.entries(v.sum)) rows.push([`    ${name}`, kbCell(sum / v.count)]);
      table(rows);
    }
  }
  const runsc = results.find((r) => r.target.label === 'runsc');
  const [tv] = results;
  console.log('\nunique memory (each physical page once), kB per sandbox');
  const rows = [['runtime', 'one alone', `per sandbox of ${SANDBOXES}`, 'tvisor/this alone', `tvisor/this of ${SANDBOXES}`]];
  for (const r of results) rows.push([r.target.label, kbCell(r.uniqueOne), kbCell(r.uniqueAll), r === tv ? '' : ratio(tv.uniqueOne, r.uniqueOne), r === tv ? '' : ratio(tv.uniqueAll, r.uniqueAll)]);
  table(rows);
  if (runsc) console.log(`  (issue 16's target: <= 1.3x runsc)`);
  console.log(`\nwhere the unique memory per sandbox of ${SANDBOXES} goes, kB per sandbox`);
  const split = [['runtime', 'USS of its processes', '+ shared among its own processes', '+ its share of pages shared across sandboxes', '= unique']];
  for (const r of results) {
    const p = r.split;
    split.push([r.target.label, kbCell(p?.uss), kbCell(p?.ownShared), kbCell(p?.crossShared), kbCell(p && p.uss + p.ownShared + p.crossShared)]);
  }
  table(split);
  console.log('  (shared among its own processes: the memory file, mapped by the sentry and its stubs; across sandboxes: the');
  console.log(`   executables' text and the libraries, which every sandbox maps: their share falls as 1/${SANDBOXES} with more sandboxes)`);
  console.log('\nparts (sandbox-memory.ts):');
  for (const [c, how] of Object.entries(CATEGORIES)) console.log(`  ${c}: ${how}`);
}

async function main(): Promise<number> {
  const skip = runtimeSkipReason('tvisor');
  if (skip) throw new Error(skip);
  const targets: Target[] = [{ label: 'tvisor', bin: RUNTIMES.tvisor.bin, flags: RUNTIMES.tvisor.flags, tvisor: true }];
  const base = baseline();
  if (base) targets.push({ label: base.label, bin: base.bin, flags: RUNTIMES.tvisor.flags, tvisor: true });
  if (process.env.PROFILE_MEMORY_RUNSC !== '0') {
    const why = runtimeSkipReason('runsc');
    if (why) console.log(`runsc left out: ${why}`);
    else targets.push({ label: 'runsc', bin: RUNTIMES.runsc.bin, flags: RUNTIMES.runsc.flags, tvisor: false });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-memory-'));
  const results: Result[] = [];
  try {
    for (const [i, t] of targets.entries()) {
      results.push(await measure(t, dir, i));
      process.stderr.write(`profile-memory: ${t.label} done\n`);
    }
    report(results);
  } finally {
    for (const [pid, { state }] of processTable()) {
      if (pid !== process.pid && state !== 'Z' && cmdlineOf(pid).includes(dir)) process.kill(pid, 'SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results.some((r) => r.err) ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`profile-memory: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
