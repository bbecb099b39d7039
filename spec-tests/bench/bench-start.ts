/**
 * bench-start.ts is `make bench-start`: the cost of starting a container and the idle
 * footprint of a sandbox under runc, runsc (`--network=none`, its default platform) and
 * tvisor, all measured in this one run on busybox bundles:
 *
 * 1. `run` of a `true` bundle: wall time, median and min..max over the runs (interleaved
 *    across the runtimes so that a slow phase of the machine hits them alike), and the CPU
 *    time (user + system) of its whole process tree: this process's RUSAGE_CHILDREN
 *    before the CLI's spawn and after the CLI and every process it left (reparented here,
 *    the subreaper) have been reaped. CPU time swings less with the load than wall time.
 * 2. create -> start -> wait for the exit -> delete of containers in sequence (one
 *    container of each runtime in turn): total and per container, with the median of each
 *    step.
 * 3. idle memory: a `sleep 1000` container, created and started, settled for a second;
 *    the sum of RSS and PSS over every host process of its sandbox (listed).
 * 4. `exec` of `true` into a running `sleep` container and `state` of it, interleaved
 *    across the runtimes (BENCH_START_EXECS rounds, default 10).
 *    Beside them, in the same rounds, the floor of any Node CLI: `node -e 0` with the
 *    environment bin/tvisor starts Node with (no NODE_OPTIONS, no NODE_EXTRA_CA_CERTS).
 * 5. the issue's targets: tvisor `run` <= 0.8x runsc, each of create, start and delete
 *    <= 1x runsc, idle memory <= 1.3x runsc (where it goes:
 *    `make profile-memory`), exec <= 1x runsc, state <= 2x runc; and the
 *    floor's own ratios (what no Node CLI goes below).
 * 6. with BASELINE=<commit> (spec-tests/bench/baseline.ts): that commit's build measured in
 *    all three parts like tvisor, and each of tvisor's figures as a multiple of its own.
 *
 * Each runtime gets a fresh --root and its own bundles in one temporary directory; every
 * container id is unique. Whatever happens, the end deletes every container it made,
 * kills what is left of their processes, removes runc's leftover cgroups of these ids and
 * the temporary directory. A runtime that fails shows "n/a: <reason>" and the rest goes on.
 *
 * This process makes itself a child subreaper, as containerd's shim is, and reaps the
 * sandbox processes that the runtimes' CLIs leave behind: otherwise they are reparented to
 * the host's init, which on these machines reaps late (runsc's `delete`, which waits for
 * its sandbox to be gone, took 1.8 s a container then). Exit detection (step 2) polls
 * /proc/<pid-file pid>/stat until the process is gone or a zombie: the same cheap check
 * for every runtime (a `state` call would add the runtime's CLI start-up, which is what is
 * measured). Environment: BENCH_START_RUNS (default 10),
 * BENCH_START_CONTAINERS (default 20), BENCH_START_EXECS (default 10), BENCH_START_BUDGET_S (default 150: the
 * measurements stop early, and say so, past this many seconds).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { libcFunc } from '../../native/libc';
import { makeBundle } from '../behaviour/bundle';
import { RUNTIMES, Runtime, runtimeSkipReason } from '../behaviour/runner';
import { baseline, regressionVerdict, REGRESSION_BOUND } from './baseline';
import { cmdlineOf, processTable, sandboxProcesses, uniqueKb, type ProcMemory } from './sandbox-memory';

const RUNS = Number(process.env.BENCH_START_RUNS ?? '10');
const CONTAINERS = Number(process.env.BENCH_START_CONTAINERS ?? '20');
const EXECS = Number(process.env.BENCH_START_EXECS ?? '10');
const BUDGET_MS = Number(process.env.BENCH_START_BUDGET_S ?? '150') * 1000;
const CLI_TIMEOUT_MS = 30_000;
/** TARGETS are the issue's bounds on tvisor as a multiple of runsc (issue 16: run 0.8x; create, start and delete 1x each). */
const TARGETS = { run: 0.8, memory: 1.3, exec: 1.0, state: 2.0, lifecycle: 1.0 };

/** Rt is one runtime under test: its CLI, its own root and bundles, the ids it made. */
interface Rt {
  name: Runtime;
  /** label names it in the output: the runtime, or a variant of it. */
  label: string;
  /** env replaces this process's environment for the CLI (a variant's). */
  env?: NodeJS.ProcessEnv;
  bin: string;
  flags: string[];
  dir: string;
  root: string;
  trueBundle: string;
  sleepBundle: string;
  ids: string[];
  /** skip says why this runtime cannot run here at all. */
  skip?: string;
  /** err says, per part of the benchmark, why it has no figures (its first failure). */
  err: Partial<Record<Part, string>>;
  runMs: number[];
  /** runCpuMs is the CPU time of each `run`'s process tree (see measureRun), where it was complete. */
  runCpuMs: number[];
  cycle?: { totalMs: number; count: number; steps: Record<Step, number[]> };
  memory?: { procs: ProcMemory[]; kb: Record<Measure, number | undefined> };
  execMs: number[];
  stateMs: number[];
}

type Part = 'run' | 'cycle' | 'memory' | 'exec';
/** Measure is a way of counting a sandbox's resident memory (see MEASURES). */
type Measure = 'rss' | 'pss' | 'uss' | 'unique';
type Step = 'create' | 'start' | 'exit' | 'delete';
const STEPS: Step[] = ['create', 'start', 'exit', 'delete'];

const started = Date.now();
/** interrupted is set by SIGINT/SIGTERM: the measurements stop and the clean-up runs. */
let interrupted = false;
const overBudget = (): boolean => interrupted || Date.now() - started > BUDGET_MS;
let seq = 0;

// ---- reaping orphans, as a shim does ----

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
/** cliPids are the runtime CLIs running now: child_process children that libuv reaps. */
const cliPids = new Set<number>();

/** childPids lists this process's children (those of every thread). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      for (const p of fs.readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ')) if (p.trim()) pids.push(Number(p));
    } catch {
      // thread gone
    }
  }
  return pids;
}

/** reapOrphans reaps every exited child that is not a CLI of ours (libuv reaps those). */
function reapOrphans(): void {
  const waitpid = libcFunc('int waitpid(int pid, void *status, int options)');
  for (const pid of childPids()) {
    if (cliPids.has(pid)) continue;
    // SAFETY: waitpid on one pid that is our child and not libuv's (cliPids holds every
    // child_process child from its spawn to its exit event, all on this thread), with
    // WNOHANG (never blocks) and no status buffer. 0 means still running.
    waitpid(pid, null, WNOHANG);
  }
}

/** childrenCpuMs is the user + system CPU time of every child this process has reaped (and of their reaped descendants). */
function childrenCpuMs(): number {
  const RUSAGE_CHILDREN = -1;
  // struct rusage: ru_utime and ru_stime (struct timeval: 8-byte seconds, 8-byte
  // microseconds) first, then 14 longs: 144 bytes.
  const ru = Buffer.alloc(144);
  // SAFETY: getrusage writes one struct rusage (144 bytes on x86-64) into ru.
  if ((libcFunc('int getrusage(int who, void *usage)')(RUSAGE_CHILDREN, ru) as number) !== 0) return NaN;
  const tv = (off: number) => Number(ru.readBigInt64LE(off)) * 1e3 + Number(ru.readBigInt64LE(off + 8)) / 1e3;
  return tv(0) + tv(16);
}

/** treeReaped waits until every child of this process has been reaped (the CLI's leftovers
 * included); false after timeoutMs. */
async function treeReaped(timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    reapOrphans();
    if (childPids().length === 0) return true;
    if (Date.now() > end) return false;
    await sleep(2);
  }
}

/** startReaper makes this process a child subreaper, so that the sandbox processes the
 * runtimes' CLIs leave behind become its children, and reaps them as they exit. It
 * returns the function that stops reaping. */
function startReaper(): () => void {
  const prctl = libcFunc('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)');
  // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes no pointer and changes only who
  // inherits this process's orphans. On failure init keeps reaping them, late.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) process.stderr.write('bench-start: prctl(PR_SET_CHILD_SUBREAPER) failed; init reaps the orphans\n');
  process.on('SIGCHLD', reapOrphans);
  const timer = setInterval(reapOrphans, 20);
  return () => {
    clearInterval(timer);
    process.off('SIGCHLD', reapOrphans);
    reapOrphans();
  };
}

// ---- the runtimes' CLIs ----

/** CliResult is one finished CLI call and its wall time. */
interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** cli runs `RUNTIME [flags] --root R args...` with stdin from /dev/null and stdout and
 * stderr in files in rt.dir (a runtime may hand its stdio to the sandbox, which outlives
 * it: files never block), and times it from the spawn to the exit. */
function cli(rt: Rt, args: string[]): Promise<CliResult> {
  const outPath = path.join(rt.dir, 'stdout');
  const errPath = path.join(rt.dir, 'stderr');
  const out = fs.openSync(outPath, 'w');
  const err = fs.openSync(errPath, 'w');
  return new Promise((resolve) => {
    let timedOut = false;
    const t0 = process.hrtime.bigint();
    const child = spawn(rt.bin, [...rt.flags, '--root', rt.root, ...args], { cwd: rt.dir, env: rt.env ?? process.env, stdio: ['ignore', out, err] });
    fs.closeSync(out);
    fs.closeSync(err);
    if (child.pid !== undefined) cliPids.add(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CLI_TIMEOUT_MS);
    const done = (status: number, error?: Error) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      if (child.pid !== undefined) cliPids.delete(child.pid);
      const stderr = `${fs.readFileSync(errPath, 'utf8')}${error ? error.message : ''}`;
      resolve({ status, stdout: fs.readFileSync(outPath, 'utf8'), stderr, timedOut, ms });
    };
    child.on('error', (e) => done(255, e));
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
}

/** floorMs are the wall times of `node -e 0` (see nodeFloor), measured in the exec rounds. */
const floorMs: number[] = [];

/**
 * nodeFloor times one `node -e 0` from its spawn to its exit, in the environment bin/tvisor
 * gives Node: the least any tvisor command can cost here. It resolves with undefined if
 * node failed.
 */
function nodeFloor(): Promise<number | undefined> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
    if (child.pid !== undefined) cliPids.add(child.pid);
    const done = (ok: boolean) => {
      if (child.pid !== undefined) cliPids.delete(child.pid);
      resolve(ok ? Number(process.hrtime.bigint() - t0) / 1e6 : undefined);
    };
    child.on('error', () => done(false));
    child.on('exit', (code) => done(code === 0));
  });
}

/** failure describes a failed CLI call, or returns undefined when it succeeded. */
function failure(what: string, r: CliResult): string | undefined {
  if (r.timedOut) return `${what} timed out`;
  if (r.status === 0) return undefined;
  const line = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
  return `${what}: exit status ${r.status}${line ? `: ${line.slice(0, 160)}` : ''}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function newId(rt: Rt): string {
  const id = `bench-start-${process.pid}-${rt.label.replace(/[^a-z]/g, '')}-${String(++seq).padStart(4, '0')}`;
  rt.ids.push(id);
  return id;
}

/** exists says whether the runtime still keeps state for the id under its root. */
function exists(rt: Rt, id: string): boolean {
  return fs.existsSync(rt.root) && fs.readdirSync(rt.root).some((e) => e.includes(id));
}

/** procState returns a process's state letter from /proc/PID/stat, or undefined if gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

function exited(pid: number): boolean {
  const s = procState(pid);
  return s === undefined || s === 'Z' || s === 'X';
}

/** waitExit polls until pid has exited (gone or a zombie); false after timeoutMs. */
/** EXIT_POLL_MS is how often waitExit looks at the process: the exit step's resolution. */
const EXIT_POLL_MS = 1;

async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!exited(pid)) {
    if (Date.now() > end) return false;
    await sleep(EXIT_POLL_MS);
  }
  return true;
}

function readPid(file: string): number {
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`pid file ${file}: no pid`);
  return pid;
}

// ---- 1. run ----

/** measureRun times `run` of the true bundle, one warm-up then RUNS rounds interleaved;
 * the CPU of a round's tree counts when nothing else of ours ran (no delete needed) and
 * every process was reaped within 5 s. */
async function measureRun(rts: Rt[]): Promise<number> {
  let rounds = 0;
  for (let i = -1; i < RUNS && !overBudget(); i++) {
    for (const rt of rts.filter((r) => !r.skip && !r.err.run)) {
      const id = newId(rt);
      const quiet = await treeReaped(5000);
      const cpu0 = childrenCpuMs();
      const r = await cli(rt, ['run', '--bundle', rt.trueBundle, id]);
      rt.err.run = failure('run', r);
      const reaped = await treeReaped(5000);
      const cpu = childrenCpuMs() - cpu0;
      if (!rt.err.run && i >= 0) rt.runMs.push(r.ms);
      if (exists(rt, id)) await cli(rt, ['delete', '--force', id]);
      else if (!rt.err.run && i >= 0 && quiet && reaped && Number.isFinite(cpu)) rt.runCpuMs.push(cpu);
    }
    if (i >= 0) rounds++;
  }
  return rounds;
}

// ---- 2. create, start, exit, delete ----

/**
 * measureCycles runs CONTAINERS lifecycles of the true bundle per runtime, interleaved one
 * container at a time across the runtimes (so that a slow phase of the machine hits them
 * alike); each runtime's containers follow each other, as in sequence. A runtime stops at
 * its first failure, the others go on.
 */
async function measureCycles(rts: Rt[]): Promise<void> {
  for (const rt of rts) rt.cycle = { totalMs: 0, count: 0, steps: { create: [], start: [], exit: [], delete: [] } };
  for (let n = 0; n < CONTAINERS && !overBudget(); n++) {
    for (const rt of rts.filter((r) => !r.err.cycle)) await cycleOnce(rt);
  }
}

/** cycleOnce creates, starts, waits for and deletes one container, adding to rt.cycle. */
async function cycleOnce(rt: Rt): Promise<void> {
  const pidFile = path.join(rt.dir, 'cycle.pid');
  const t0 = process.hrtime.bigint();
  const id = newId(rt);
  const c = await cli(rt, ['create', '--bundle', rt.trueBundle, '--pid-file', pidFile, id]);
  if ((rt.err.cycle = failure('create', c))) return;
  const pid = readPid(pidFile);
  const s = await cli(rt, ['start', id]);
  if ((rt.err.cycle = failure('start', s))) return;
  const w0 = process.hrtime.bigint();
  if (!(await waitExit(pid, CLI_TIMEOUT_MS))) {
    rt.err.cycle = `the container's process ${pid} did not exit`;
    return;
  }
  const exitMs = Number(process.hrtime.bigint() - w0) / 1e6;
  const d = await cli(rt, ['delete', id]);
  if ((rt.err.cycle = failure('delete', d))) return;
  const cycle = rt.cycle!;
  cycle.steps.create.push(c.ms);
  cycle.steps.start.push(s.ms);
  cycle.steps.exit.push(exitMs);
  cycle.steps.delete.push(d.ms);
  cycle.count++;
  cycle.totalMs += Number(process.hrtime.bigint() - t0) / 1e6;
}

// ---- 3. idle memory ----

/** MEASURES explains each way of counting, in the order printed. */
const MEASURES: Record<Measure, string> = {
  rss: 'RSS: resident pages per process, summed (pages shared inside the sandbox count in each process)',
  pss: "PSS: shared pages split among every process on the host that maps them (varies with what else runs: other Node processes share node's text)",
  uss: 'USS: private pages only (Private_Clean + Private_Dirty): about what one more such sandbox adds',
  unique: 'unique: resident pages of all the processes, each physical page once (pagemap PFNs): what this sandbox occupies alone',
};

/** measureMemory starts a sleep container, lets it settle and sums its processes' memory,
 * then kills and deletes it. */
async function measureMemory(rt: Rt): Promise<void> {
  const id = newId(rt);
  const pidFile = path.join(rt.dir, 'memory.pid');
  if ((rt.err.memory = failure('create', await cli(rt, ['create', '--bundle', rt.sleepBundle, '--pid-file', pidFile, id])))) return;
  const pid = readPid(pidFile);
  try {
    if ((rt.err.memory = failure('start', await cli(rt, ['start', id])))) return;
    await sleep(1000);
    if (exited(pid)) {
      rt.err.memory = `the sleep container's process ${pid} exited`;
      return;
    }
    const procs = sandboxProcesses(rt.root, rt.sleepBundle, id, pid);
    const sum = (m: 'rss' | 'pss' | 'uss') => (procs.every((p) => p.kb[m] !== undefined) ? procs.reduce((a, p) => a + p.kb[m]!, 0) : undefined);
    rt.memory = { procs, kb: { rss: sum('rss'), pss: sum('pss'), uss: sum('uss'), unique: uniqueKb(procs.map((p) => p.pid)) } };
  } finally {
    await cli(rt, ['kill', id, 'KILL']);
    await waitExit(pid, 10_000);
    if (failure('delete', await cli(rt, ['delete', id]))) await cli(rt, ['delete', '--force', id]);
  }
}

// ---- 4. exec and state ----

/**
 * measureExec starts one `sleep` container per runtime, then times `exec ID /bin/true`
 * and `state ID` in EXECS rounds interleaved across the runtimes (one warm-up first), and
 * kills and deletes the containers. A runtime stops at its first failure.
 */
async function measureExec(rts: Rt[]): Promise<void> {
  const running = new Map<Rt, { id: string; pid: number }>();
  try {
    for (const rt of rts) {
      const id = newId(rt);
      const pidFile = path.join(rt.dir, 'exec.pid');
      if ((rt.err.exec = failure('create', await cli(rt, ['create', '--bundle', rt.sleepBundle, '--pid-file', pidFile, id])))) continue;
      running.set(rt, { id, pid: readPid(pidFile) });
      rt.err.exec = failure('start', await cli(rt, ['start', id]));
    }
    for (let i = -1; i < EXECS && !overBudget(); i++) {
      const floor = await nodeFloor();
      if (i >= 0 && floor !== undefined) floorMs.push(floor);
      for (const [rt, { id }] of running) {
        if (rt.err.exec) continue;
        const e = await cli(rt, ['exec', id, '/bin/true']);
        if ((rt.err.exec = failure('exec', e))) continue;
        const st = await cli(rt, ['state', id]);
        if ((rt.err.exec = failure('state', st))) continue;
        if (i >= 0) {
          rt.execMs.push(e.ms);
          rt.stateMs.push(st.ms);
        }
      }
    }
  } finally {
    for (const [rt, { id, pid }] of running) {
      await cli(rt, ['kill', id, 'KILL']);
      await waitExit(pid, 10_000);
      if (failure('delete', await cli(rt, ['delete', id]))) await cli(rt, ['delete', '--force', id]);
    }
  }
}

// ---- set-up and clean-up ----

/** NOCERTS is the label of tvisor run without NODE_EXTRA_CA_CERTS (see setUp). */
const NOCERTS = 'tvisor -certs';

/** setUp makes each runtime's directory, root and bundles. When NODE_EXTRA_CA_CERTS is
 * set (it is on these machines), every Node process start parses that CA file: a
 * variant of tvisor without it in its environment joins the `run` measurement. */
function setUp(tmp: string): Rt[] {
  const rts = (['runc', 'runsc', 'tvisor'] as Runtime[]).map((name) => {
    const dir = path.join(tmp, name);
    const trueBundle = path.join(dir, 'bundle-true');
    const sleepBundle = path.join(dir, 'bundle-sleep');
    const rt: Rt = { name, label: name, ...RUNTIMES[name], dir, root: path.join(dir, 'root'), trueBundle, sleepBundle, ids: [], runMs: [], runCpuMs: [], execMs: [], stateMs: [], err: {} };
    rt.skip = runtimeSkipReason(name);
    fs.mkdirSync(trueBundle, { recursive: true });
    fs.mkdirSync(sleepBundle, { recursive: true });
    makeBundle(trueBundle, { args: ['/bin/true'] });
    makeBundle(sleepBundle, { args: ['/bin/sleep', '1000'] });
    return rt;
  });
  const tvisor = rts[2];
  if (process.env.NODE_EXTRA_CA_CERTS && !tvisor.skip) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    rts.push({ ...tvisor, label: NOCERTS, env, root: path.join(tvisor.dir, 'root-nocerts'), ids: [], runMs: [], runCpuMs: [], execMs: [], stateMs: [], err: {} });
  }
  const base = baseline();
  if (base) rts.push({ ...tvisor, label: base.label, bin: base.bin, root: path.join(tvisor.dir, 'root-baseline'), ids: [], runMs: [], runCpuMs: [], execMs: [], stateMs: [], err: {} });
  return rts;
}

/** cleanUp deletes every container left, kills any process still naming the temporary
 * directory, removes empty cgroups named after our ids and the temporary directory, and
 * returns what it had to clean (empty when the measurements left nothing behind). */
async function cleanUp(tmp: string, rts: Rt[]): Promise<string[]> {
  const notes: string[] = [];
  for (const rt of rts) {
    for (const id of rt.ids.filter((i) => exists(rt, i))) {
      notes.push(`${rt.label}: deleted leftover container ${id}`);
      await cli(rt, ['delete', '--force', id]);
    }
    if (fs.existsSync(rt.root) && fs.readdirSync(rt.root).length) {
      notes.push(`${rt.label}: left under its root: ${fs.readdirSync(rt.root).join(' ')}`);
    }
  }
  for (const [pid, { state }] of processTable()) {
    if (pid === process.pid || state === 'Z' || !cmdlineOf(pid).includes(tmp)) continue;
    notes.push(`killed leftover process ${pid}: ${cmdlineOf(pid).slice(0, 100)}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const ids = new Set(rts.flatMap((r) => r.ids));
  const cgroupDirs = ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c))];
  let cgroups = 0;
  for (const dir of cgroupDirs) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(dir).filter((e) => ids.has(e));
    } catch {
      continue;
    }
    for (const e of entries) {
      try {
        fs.rmdirSync(path.join(dir, e));
        cgroups++;
      } catch (err) {
        notes.push(`cgroup ${path.join(dir, e)} not removed: ${(err as Error).message}`);
      }
    }
  }
  if (cgroups) notes.push(`removed ${cgroups} empty cgroup directories named after our container ids (runc's delete raced the kill)`);
  fs.rmSync(tmp, { recursive: true, force: true });
  return notes;
}

// ---- report ----

/** table prints rows in columns: the first (and, with leftLast, the last) left-aligned. */
function table(rows: string[][], leftLast = false): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const left = (i: number) => i === 0 || (leftLast && i === widths.length - 1);
  for (const r of rows) console.log(r.map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
}

const ms = (v: number): string => v.toFixed(1);
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b ? a / b : undefined);
const fmtRatio = (r: number | undefined): string => (r === undefined ? '-' : `${r.toFixed(2)}x`);
const verdict = (r: number | undefined, target: number): string => (r === undefined ? 'n/a' : r <= target ? 'met' : 'not met');

/** na is the cell of a runtime without figures for a part. */
function na(rt: Rt, part: Part): string {
  return `n/a: ${rt.skip ?? rt.err[part] ?? 'not measured (stopped early)'}`;
}

/** measuredFully tells whether a runtime takes part in every part (the NOCERTS variant only runs). */
const measuredFully = (rt: Rt): boolean => rt.label !== NOCERTS;

function report(all: Rt[], rounds: number): void {
  const rts = all.filter(measuredFully);
  const [runc, runsc, tvisor] = rts;
  const before = rts[3];
  const nocerts = all.find((r) => r.label === NOCERTS);
  const runMed = (rt: Rt) => (rt.runMs.length ? median(rt.runMs) : undefined);
  console.log(`bench-start: ${os.cpus().length} CPUs, kernel ${os.release()}, runsc flags: ${RUNTIMES.runsc.flags.join(' ')} (default platform)`);

  console.log(`\n1. \`run\` of a busybox \`true\` bundle, wall ms (${rounds} interleaved rounds after one warm-up)`);
  const rows = [['runtime', 'median', 'min', 'max', 'tvisor/this', 'CPU med', 'min', 'max', 'tvisor/this']];
  const cpuMed = (rt: Rt) => (rt.runCpuMs.length ? median(rt.runCpuMs) : undefined);
  for (const rt of all) {
    if (!rt.runMs.length) rows.push([rt.label, na(rt, 'run')]);
    else {
      const c = rt.runCpuMs;
      const cpu = c.length ? [ms(median(c)), ms(Math.min(...c)), ms(Math.max(...c)), rt === tvisor || rt === nocerts ? '' : fmtRatio(ratio(cpuMed(tvisor), cpuMed(rt)))] : ['-', '', '', ''];
      rows.push([rt.label, ms(median(rt.runMs)), ms(Math.min(...rt.runMs)), ms(Math.max(...rt.runMs)), rt === tvisor || rt === nocerts ? '' : fmtRatio(ratio(runMed(tvisor), runMed(rt))), ...cpu]);
    }
  }
  table(rows);
  console.log(`   CPU: user + system time of the run's whole process tree (the CLI, the sandbox's processes, the container's), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the report`);
  if (nocerts) {
    const m = runMed(nocerts);
    console.log(`   ${NOCERTS}: tvisor with NODE_EXTRA_CA_CERTS removed from its environment (set here to ${process.env.NODE_EXTRA_CA_CERTS};`);
    console.log(`   every Node process start parses it, and \`run\` starts three in sequence): ${fmtRatio(ratio(m, runMed(runsc)))} runsc, ${fmtRatio(ratio(m, runMed(runc)))} runc`);
  }

  console.log(`\n2. create -> start -> exit -> delete of a \`true\` container, in sequence, wall ms`);
  const crows = [['runtime', 'n', 'total', 'per ctr', 'tvisor/this', ...STEPS.map((s) => `${s} med`)]];
  const per = (rt: Rt) => (rt.cycle?.count ? rt.cycle.totalMs / rt.cycle.count : undefined);
  for (const rt of rts) {
    const c = rt.cycle;
    if (!c?.count) crows.push([rt.label, na(rt, 'cycle')]);
    else crows.push([rt.label, String(c.count), ms(c.totalMs), ms(per(rt)!), rt === tvisor ? '' : fmtRatio(ratio(per(tvisor), per(rt))), ...STEPS.map((s) => ms(median(c.steps[s])))]);
  }
  table(crows);
  console.log('   (exit: from `start` returning until the pid-file process is gone or a zombie)');

  console.log(`\n3. idle sandbox running \`sleep 1000\`, 1 s after start: resident memory of its host processes`);
  const measures = (Object.keys(MEASURES) as Measure[]).filter((m) => rts.some((rt) => rt.memory?.kb[m] !== undefined));
  const measure = measures[measures.length - 1];
  const cell = (v: number | undefined) => (v === undefined ? '-' : String(v));
  for (const rt of rts) {
    if (!rt.memory) {
      console.log(`   ${rt.label}: ${na(rt, 'memory')}`);
      continue;
    }
    console.log(`   ${rt.label}:`);
    const prow = [['     pid', 'ppid', 'st', 'RSS kB', 'PSS kB', 'USS kB', 'found as', 'command']];
    for (const p of rt.memory.procs) {
      prow.push([`     ${p.pid}`, String(p.ppid), p.state, cell(p.kb.rss), cell(p.kb.pss), cell(p.kb.uss), p.how, p.cmd.slice(0, 80)]);
    }
    const k = rt.memory.kb;
    prow.push(['     sum', '', '', cell(k.rss), cell(k.pss), cell(k.uss), `${rt.memory.procs.length} processes`, `unique pages: ${cell(k.unique)} kB`]);
    table(prow, true);
  }
  const mem = (rt: Rt, m: Measure) => rt.memory?.kb[m];
  const mib = (v: number | undefined) => (v === undefined ? '-' : (v / 1024).toFixed(1));
  const mrows = [['runtime', ...measures.map((m) => `${m} MiB`), ...measures.map((m) => `tvisor/this ${m}`)]];
  for (const rt of rts.filter((r) => r.memory)) {
    mrows.push([rt.label, ...measures.map((m) => mib(mem(rt, m))), ...measures.map((m) => (rt === tvisor ? '' : fmtRatio(ratio(mem(tvisor, m), mem(rt, m)))))]);
  }
  if (mrows.length > 1) table(mrows);
  for (const m of measures) console.log(`   ${MEASURES[m]}`);
  console.log(`   the target uses ${measure} (one sandbox alone); the other measures' verdicts are shown beside it`);

  console.log(`\n4. \`exec\` of \`true\` into a running \`sleep\` container, and \`state\` of it, wall ms (interleaved rounds after one warm-up)`);
  const med = (xs: number[]) => (xs.length ? median(xs) : undefined);
  const erows = [['runtime', 'n', 'exec med', 'min', 'max', 'tvisor/this', 'state med', 'min', 'max', 'tvisor/this']];
  for (const rt of rts) {
    if (!rt.execMs.length) erows.push([rt.label, na(rt, 'exec')]);
    else {
      erows.push([rt.label, String(rt.execMs.length), ms(median(rt.execMs)), ms(Math.min(...rt.execMs)), ms(Math.max(...rt.execMs)), rt === tvisor ? '' : fmtRatio(ratio(med(tvisor.execMs), med(rt.execMs))),
        ms(median(rt.stateMs)), ms(Math.min(...rt.stateMs)), ms(Math.max(...rt.stateMs)), rt === tvisor ? '' : fmtRatio(ratio(med(tvisor.stateMs), med(rt.stateMs)))]);
    }
  }
  if (floorMs.length) {
    erows.push(['node -e 0 (floor)', String(floorMs.length), ms(median(floorMs)), ms(Math.min(...floorMs)), ms(Math.max(...floorMs)), fmtRatio(ratio(med(tvisor.execMs), median(floorMs))),
      '', '', '', fmtRatio(ratio(med(tvisor.stateMs), median(floorMs)))]);
  }
  table(erows);
  if (floorMs.length) console.log('   node -e 0: Node started as bin/tvisor starts it, doing nothing (the least a Node CLI costs); its tvisor/this is the part of tvisor\'s figure above the floor');

  const runRatio = ratio(runMed(tvisor), runMed(runsc));
  const memRatio = ratio(mem(tvisor, measure), mem(runsc, measure));
  const execRatio = ratio(med(tvisor.execMs), med(runsc.execMs));
  const stateRatio = ratio(med(tvisor.stateMs), med(runc.stateMs));
  console.log('\n5. targets (tvisor as a multiple of runsc, or of runc for state, measured above)');
  table([
    ['target', 'bound', 'measured', 'verdict'],
    ['run wall time (median)', `<= ${TARGETS.run.toFixed(1)}x`, fmtRatio(runRatio), verdict(runRatio, TARGETS.run)],
    ...(nocerts ? [[`  (${NOCERTS})`, '', fmtRatio(ratio(runMed(nocerts), runMed(runsc))), `(${verdict(ratio(runMed(nocerts), runMed(runsc)), TARGETS.run)})`]] : []),
    [`idle sandbox memory (${measure})`, `<= ${TARGETS.memory.toFixed(1)}x`, fmtRatio(memRatio), verdict(memRatio, TARGETS.memory)],
    ...measures
      .filter((m) => m !== measure)
      .map((m) => {
        const r = ratio(mem(tvisor, m), mem(runsc, m));
        return [`  (by ${m})`, '', fmtRatio(r), `(${verdict(r, TARGETS.memory)})`];
      }),
    ...(['create', 'start', 'delete'] as const).map((step) => {
      const r = ratio(tvisor.cycle ? median(tvisor.cycle.steps[step]) : undefined, runsc.cycle ? median(runsc.cycle.steps[step]) : undefined);
      return [`${step} (median)`, `<= ${TARGETS.lifecycle.toFixed(1)}x`, fmtRatio(r), verdict(r, TARGETS.lifecycle)];
    }),
    ['exec of true (median)', `<= ${TARGETS.exec.toFixed(1)}x`, fmtRatio(execRatio), verdict(execRatio, TARGETS.exec)],
    ['state (median), vs runc', `<= ${TARGETS.state.toFixed(1)}x`, fmtRatio(stateRatio), verdict(stateRatio, TARGETS.state)],
    ...(floorMs.length ? [
      ['  floor: node -e 0 vs runsc exec', '', fmtRatio(ratio(median(floorMs), med(runsc.execMs))), ''],
      ['  floor: node -e 0 vs runc state', '', fmtRatio(ratio(median(floorMs), med(runc.stateMs))), `(${verdict(ratio(median(floorMs), med(runc.stateMs)), TARGETS.state)})`],
    ] : []),
  ]);
  if (before) {
    console.log(`\n6. against the baseline ${before.label} (tvisor's figure as a multiple of the baseline's; bound ${REGRESSION_BOUND}x)`);
    const rows5 = [['figure', 'tvisor', before.label, 'tvisor/baseline', 'verdict']];
    const add = (name: string, now: number | undefined, then: number | undefined, unit: (v: number) => string, resolution?: number) =>
      rows5.push([name, now === undefined ? '-' : unit(now), then === undefined ? '-' : unit(then), fmtRatio(ratio(now, then)), regressionVerdict(now, then, resolution)]);
    add('run wall ms (median)', runMed(tvisor), runMed(before), ms);
    add('run CPU ms of the tree (median)', cpuMed(tvisor), cpuMed(before), ms);
    // exit is polled every EXIT_POLL_MS (waitExit): a difference below that is not seen.
    for (const s of STEPS) add(`${s} ms (median)`, tvisor.cycle ? median(tvisor.cycle.steps[s]) : undefined, before.cycle ? median(before.cycle.steps[s]) : undefined, ms, s === 'exit' ? EXIT_POLL_MS : undefined);
    add(`idle memory ${measure} MiB`, mem(tvisor, measure), mem(before, measure), mib);
    add('exec ms (median)', med(tvisor.execMs), med(before.execMs), ms);
    add('state ms (median)', med(tvisor.stateMs), med(before.stateMs), ms);
    table(rows5);
  }
  const errors = all.flatMap((rt) => Object.entries(rt.err).filter(([, e]) => e).map(([part, e]) => `${rt.label} ${part}: ${e}`));
  if (errors.length) console.log(`\nerrors (a part with figures stopped at its first error):\n  ${errors.join('\n  ')}`);
}

async function main(): Promise<number> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-start-'));
  let rts: Rt[] = [];
  let notes: string[] = [];
  const stopReaper = startReaper();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (interrupted = true));
  try {
    rts = setUp(tmp);
    const rounds = await measureRun(rts);
    process.stderr.write(`bench-start: run done at ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    await measureCycles(rts.filter((r) => measuredFully(r) && !r.skip));
    process.stderr.write(`bench-start: lifecycles done at ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    for (const rt of rts.filter(measuredFully)) if (!rt.skip && !overBudget()) await measureMemory(rt);
    if (!overBudget()) await measureExec(rts.filter((r) => measuredFully(r) && !r.skip));
    process.stderr.write(`bench-start: exec and state done at ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    report(rts, rounds);
  } finally {
    notes = await cleanUp(tmp, rts);
    await sleep(100);
    stopReaper();
  }
  if (overBudget()) console.log(`\nnote: stopped early, ${interrupted ? 'interrupted' : `over the ${BUDGET_MS / 1000} s budget`}`);
  console.log(`\nclean-up: ${notes.length ? notes.join('\n  ') : 'nothing was left behind'}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`bench-start: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
