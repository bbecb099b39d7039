/**
 * profile-start.ts is `make profile-start`: where the milliseconds of tvisor's `run`,
 * `create`, `start`, `exec`, `state` and `delete` go, per process (the CLI, the sentry,
 * the gofer), from the marks each process writes when TVISOR_PROFILE names a file
 * (native/startup-profile.ts). Busybox bundles; each round runs, in order:
 *
 *   run (true) | create, start, (wait for init's exit), delete (true) |
 *   create + start (sleep) untimed, exec --process (true), exec --detach --pid-file
 *   --process (true; the background copy's steps show as tvisor-bg, up to its exit), state,
 *   delete --force untimed
 *
 * One warm-up round (the code caches), then PROFILE_START_RUNS rounds (default 5); the
 * table shows medians (spec-tests/bench/profile-table.ts). PROFILE_START_BIN profiles
 * another build's bin/tvisor (one with the marks: from the commit that added them on). The container ids are unique and
 * everything lives in one temporary directory, removed at the end.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeBundle } from '../behaviour/bundle';
import { RUNTIMES, runtimeSkipReason } from '../behaviour/runner';
import { parseMarks, profileTables, renderTables, type CommandRun } from './profile-table';

const RUNS = Number(process.env.PROFILE_START_RUNS ?? '5');
const BIN = process.env.PROFILE_START_BIN ?? RUNTIMES.tvisor.bin;
const TIMEOUT_MS = 30_000;
const now = () => performance.timeOrigin + performance.now();

/** Ctx is one profiling session: its directory, root and profile file. */
interface Ctx {
  dir: string;
  root: string;
  profile: string;
  runs: CommandRun[];
  ids: string[];
}

/** tvisor runs one CLI command with profiling on; timed runs are recorded under `label`. */
function tvisor(ctx: Ctx, args: string[], label?: string): Promise<void> {
  const out = fs.openSync(path.join(ctx.dir, 'out'), 'w');
  return new Promise((resolve, reject) => {
    const start = now();
    const child = spawn(BIN, ['--root', ctx.root, ...args], { stdio: ['ignore', out, out], env: { ...process.env, TVISOR_PROFILE: ctx.profile } });
    fs.closeSync(out);
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const end = now();
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`tvisor ${args.join(' ')}: ${signal ?? `exit status ${code}`}: ${fs.readFileSync(path.join(ctx.dir, 'out'), 'utf8').trim().split('\n').pop()}`));
        return;
      }
      // An untimed command (command '') still bounds the window of the timed one before it.
      ctx.runs.push({ command: label ?? '', cliPid: child.pid!, start, end, until: Infinity });
      resolve();
    });
  });
}

/** waitGone polls until `pid` has exited (gone or a zombie). */
async function waitGone(pid: number): Promise<void> {
  const until = Date.now() + TIMEOUT_MS;
  for (;;) {
    let state: string | undefined;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    } catch {
      return;
    }
    if (state === 'Z' || state === 'X') return;
    if (Date.now() > until) throw new Error(`sandbox ${pid} did not exit`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** round runs every profiled command once; `timed` records them. */
async function round(ctx: Ctx, n: number, timed: boolean, bundles: { t: string; s: string }): Promise<void> {
  const label = (c: string) => (timed ? c : undefined);
  const id = (what: string) => {
    const i = `profile-start-${process.pid}-${what}-${n}`;
    ctx.ids.push(i);
    return i;
  };
  await tvisor(ctx, ['run', '--bundle', bundles.t, id('run')], label('run'));
  const c = id('cycle');
  const pidFile = path.join(ctx.dir, 'pid');
  await tvisor(ctx, ['create', '--bundle', bundles.t, '--pid-file', pidFile, c], label('create'));
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  await tvisor(ctx, ['start', c], label('start'));
  await waitGone(pid);
  await tvisor(ctx, ['delete', c], label('delete'));
  const s = id('exec');
  await tvisor(ctx, ['create', '--bundle', bundles.s, s]);
  await tvisor(ctx, ['start', s]);
  // As containerd's shim calls it: the process in a file.
  const proc = path.join(ctx.dir, 'process.json');
  fs.writeFileSync(proc, JSON.stringify({ args: ['/bin/true'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 }, terminal: false }));
  await tvisor(ctx, ['exec', '--process', proc, s], label('exec'));
  // As containerd's shim calls it: detached, the pid of the copy that waits in --pid-file.
  const execPid = path.join(ctx.dir, 'exec.pid');
  await tvisor(ctx, ['exec', '--detach', '--pid-file', execPid, '--process', proc, s], label('exec -d'));
  await waitGone(Number(fs.readFileSync(execPid, 'utf8')));
  await tvisor(ctx, ['state', s], label('state'));
  await tvisor(ctx, ['delete', '--force', s]);
}

async function main(): Promise<number> {
  const skip = runtimeSkipReason('tvisor');
  if (skip) throw new Error(skip);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-start-'));
  const ctx: Ctx = { dir, root: path.join(dir, 'root'), profile: path.join(dir, 'profile'), runs: [], ids: [] };
  try {
    const bundles = { t: path.join(dir, 'bundle-true'), s: path.join(dir, 'bundle-sleep') };
    makeBundle(bundles.t, { args: ['/bin/true'] });
    makeBundle(bundles.s, { args: ['/bin/sleep', '1000'] });
    for (let n = 0; n <= RUNS; n++) await round(ctx, n, n > 0, bundles);
    // A sandbox's marks belong to the command whose window they fall in: up to the next command's start.
    const byStart = [...ctx.runs].sort((a, b) => a.start - b.start);
    byStart.forEach((r, i) => (r.until = i + 1 < byStart.length ? byStart[i + 1].start : Infinity));
    const tables = profileTables(ctx.runs.filter((r) => r.command), parseMarks(fs.readFileSync(ctx.profile, 'utf8')));
    console.log(`profile-start: ${BIN}, ${RUNS} runs after a warm-up, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}; median ms per step ('+ms' since the process's previous step, 'at' since the command's spawn)`);
    process.stdout.write(renderTables(tables));
    return 0;
  } finally {
    for (const i of ctx.ids) {
      if (fs.existsSync(path.join(ctx.root, i))) await tvisor(ctx, ['delete', '--force', i]).catch(() => undefined);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`profile-start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
