/**
 * runner.ts runs a behaviour-test program natively and under an OCI runtime (runc, runsc,
 * tvisor) and reports what it printed and how it ended, so that tests and the benchmark
 * can compare the runs byte for byte.
 *
 * Status convention: the exit code, or 128+signal for a death by signal, which is what
 * a shell's `$?` and `runc run` report.
 *
 * runsc (Debian's gVisor 2022) runs here as root with only `--network=none` (its default
 * platform is ptrace); it needs neither `--ignore-cgroups` nor `--rootless`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUSYBOX, BindMount, RUNC, makeBundle } from './bundle';

/** REPO is the repository root: the nearest directory above this file (or above the
 * bundle made from it, e.g. build/bench/) that holds spec-tests/behaviour. */
export const REPO = findRepo(__dirname);

function findRepo(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'spec-tests', 'behaviour'))) return d;
    if (d === path.dirname(d)) return process.cwd();
  }
}
/** PROGRAMS_DIR holds the static programs that spec-tests/module.mk builds. */
export const PROGRAMS_DIR = path.join(REPO, 'build', 'programs');
/** SCRATCH in an argument list stands for the program's scratch directory: a fresh
 * temporary directory natively, /tmp (or the given path) in a container. */
export const SCRATCH = '{scratch}';

/** Runtime names a runtime that runUnder can drive. */
export type Runtime = 'runc' | 'runsc' | 'tvisor';

/** RUNTIMES gives each runtime's binary and the global flags put before `run`. tvisor is
 * the repository's bin/tvisor unless TVISOR_BIN names another, on the platform that
 * TVISOR_PLATFORM names (`--platform`; the runtime's default when unset). */
export const RUNTIMES: Record<Runtime, { bin: string; flags: string[] }> = {
  runc: { bin: RUNC, flags: [] },
  runsc: { bin: '/usr/bin/runsc', flags: ['--network=none'] },
  tvisor: { bin: process.env.TVISOR_BIN ?? path.join(REPO, 'bin', 'tvisor'), flags: process.env.TVISOR_PLATFORM ? ['--platform', process.env.TVISOR_PLATFORM] : [] },
};

let platformOfTvisor: string | undefined;

/**
 * tvisorPlatform names the platform RUNTIMES.tvisor runs on: TVISOR_PLATFORM's, else the
 * default its `tvisor platforms` marks (systrap where its self-check passes, else ptrace).
 */
export function tvisorPlatform(): string {
  if (process.env.TVISOR_PLATFORM) return process.env.TVISOR_PLATFORM;
  if (platformOfTvisor) return platformOfTvisor;
  const r = spawnSync(RUNTIMES.tvisor.bin, ['platforms', '--format', 'json'], { encoding: 'utf8' });
  const chosen = (JSON.parse(r.stdout || '[]') as { name: string; default?: boolean }[]).filter((c) => c.default).map((c) => c.name);
  if (chosen.length !== 1) throw new Error(`${RUNTIMES.tvisor.bin} platforms: no single default (${r.stderr.trim() || r.stdout.trim()})`);
  platformOfTvisor = chosen[0];
  return platformOfTvisor;
}

/**
 * tvisorOnPlatform writes (once per directory) a wrapper of the tvisor binary (`bin`, the
 * runner's by default) that runs it on `platform` whatever --platform it is given
 * (TVISOR_PLATFORM's), and returns its path: the `bin` of RunOptions for a run that must
 * use that platform.
 */
export function tvisorOnPlatform(platform: string, dir: string, bin = RUNTIMES.tvisor.bin): string {
  const wrapper = path.join(dir, `tvisor-${platform}`);
  fs.writeFileSync(wrapper, [
    '#!/bin/sh',
    'for a; do shift; if [ -n "$skip" ]; then skip=; continue; fi; [ "$a" = --platform ] && { skip=1; continue; }; set -- "$@" "$a"; done',
    `exec '${bin}' --platform '${platform}' "$@"`,
    '',
  ].join('\n'), { mode: 0o755 });
  return wrapper;
}

/** RunResult is one finished program. */
export interface RunResult {
  stdout: string;
  stderr: string;
  /** status is the exit code, or 128+signal. */
  status: number;
  timedOut: boolean;
}

/** RunOptions tunes one run. */
export interface RunOptions {
  /** scratch replaces SCRATCH in the arguments inside a container (default /tmp). */
  scratch?: string;
  /** mounts are bind mounts for a container run. */
  mounts?: BindMount[];
  /** scratchMount, for a container run, bind-mounts a fresh host directory at this path
   * and makes it the SCRATCH directory (overrides scratch). */
  scratchMount?: string;
  /** programPath is where the program sits in the container (default /prog). */
  programPath?: string;
  /** editSpec changes the container's config.json (process.user, capabilities, ...). */
  editSpec?: (spec: any) => void;
  /** timeoutMs bounds the run (default 30 s; natively every program takes under 1 s). */
  timeoutMs?: number;
  /** flags are more global flags for the runtime (tvisor --network none). */
  flags?: string[];
  /** bin replaces the runtime's binary (another build of tvisor: bench BASELINE). */
  bin?: string;
  /** rootfs runs the container on this existing image, read-only, instead of a fresh
   * busybox rootfs (spec-tests/debian/image.ts: the Debian image). */
  rootfs?: string;
}

/** programBinary returns the built program's path for a name, or a path unchanged. */
export function programBinary(program: string): string {
  return program.includes('/') ? program : path.join(PROGRAMS_DIR, program);
}

/** statusOf turns a spawnSync status/signal pair into the 128+signal convention. */
function statusOf(status: number | null, signal: NodeJS.Signals | null): number {
  if (status !== null) return status;
  const n = signal ? os.constants.signals[signal] : undefined;
  return n === undefined ? 255 : 128 + n;
}

/** spawnCaptured runs a command with stdin from /dev/null and stdout/stderr captured in
 * files (a runtime may hand its stdio to processes that outlive it; files never block). */
function spawnCaptured(dir: string, cmd: string, args: string[], cwd: string, timeoutMs: number): RunResult {
  const outPath = path.join(dir, 'stdout');
  const errPath = path.join(dir, 'stderr');
  const out = fs.openSync(outPath, 'w');
  const err = fs.openSync(errPath, 'w');
  try {
    const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', out, err], timeout: timeoutMs, killSignal: 'SIGKILL' });
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
    return {
      stdout: fs.readFileSync(outPath, 'utf8'),
      stderr: fs.readFileSync(errPath, 'utf8'),
      status: statusOf(r.status, r.signal),
      timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
    };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

/** runNative runs a program directly, with a fresh temporary directory as its working
 * directory and as SCRATCH, then removes that directory. */
export function runNative(program: string, args: string[] = [], opts: RunOptions = {}): RunResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'behaviour-native-'));
  try {
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    const argv = args.map((a) => a.replaceAll(SCRATCH, work));
    return spawnCaptured(dir, programBinary(program), argv, work, opts.timeoutMs ?? 30_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let containerSeq = 0;

/** COVERAGE_ENV names the directory where tvisor runs record the syscalls they made
 * (`make test` sets it; spec-tests/coverage/ reads it). */
export const COVERAGE_ENV = 'TVISOR_SYSCALL_COVERAGE';

/** coverageFlags makes a tvisor run log its syscall coverage into the directory that
 * COVERAGE_ENV names, one log per container (not for another build: bench BASELINE). */
function coverageFlags(runtime: Runtime, opts: RunOptions, id: string): string[] {
  const dir = process.env[COVERAGE_ENV];
  if (runtime !== 'tvisor' || !dir || opts.bin) return [];
  fs.mkdirSync(dir, { recursive: true });
  return ['--syscall-coverage', '--log', path.join(dir, `${id}.log`)];
}

/** runUnder runs a program as the init process of a container of the given runtime:
 * it builds a bundle in a temporary directory, runs `RUNTIME --root R run`, then deletes
 * the container and the bundle. program is a built program's name, a host path, or
 * undefined to run args[0] from the busybox rootfs. */
export function runUnder(runtime: Runtime, program: string | undefined, args: string[] = [], opts: RunOptions = {}): RunResult {
  const { flags } = RUNTIMES[runtime];
  const bin = opts.bin ?? RUNTIMES[runtime].bin;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `behaviour-${runtime}-`));
  const root = path.join(dir, 'root');
  const bundle = path.join(dir, 'bundle');
  const id = `behaviour-${process.pid}-${++containerSeq}`;
  try {
    fs.mkdirSync(bundle);
    const programPath = opts.programPath ?? '/prog';
    const mounts = [...(opts.mounts ?? [])];
    let scratch = opts.scratch ?? '/tmp';
    if (opts.scratchMount) {
      const source = path.join(dir, 'scratch');
      fs.mkdirSync(source);
      mounts.push({ source, destination: opts.scratchMount });
      scratch = opts.scratchMount;
    }
    const argv = args.map((a) => a.replaceAll(SCRATCH, scratch));
    makeBundle(bundle, {
      program: program === undefined ? undefined : programBinary(program),
      programPath,
      args: program === undefined ? argv : [programPath, ...argv],
      mounts,
      editSpec: opts.editSpec,
      rootfs: opts.rootfs,
    });
    return spawnCaptured(dir, bin, [...flags, ...(opts.flags ?? []), ...coverageFlags(runtime, opts, id), '--root', root, 'run', '--bundle', bundle, id], dir, opts.timeoutMs ?? 30_000);
  } finally {
    spawnSync(bin, [...flags, '--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const skipCache = new Map<Runtime, string | undefined>();

/** runtimeSkipReason returns why programs cannot run under a runtime here (not root, a
 * missing binary), or undefined. Once bin/tvisor is built, its tests always run. */
export function runtimeSkipReason(runtime: Runtime): string | undefined {
  if (!skipCache.has(runtime)) skipCache.set(runtime, probe(runtime));
  return skipCache.get(runtime);
}

function probe(runtime: Runtime): string | undefined {
  const { bin } = RUNTIMES[runtime];
  if (process.getuid?.() !== 0) return `running containers under ${runtime} needs root`;
  if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static)`;
  if (!fs.existsSync(RUNC)) return `${RUNC} is missing (apt-get install runc); its \`spec\` gives the base config`;
  if (!fs.existsSync(bin)) return `${bin} is missing${runtime === 'tvisor' ? ' (run make)' : ''}`;
  return undefined;
}

/** programSkipReason returns why a built program is missing, or undefined. */
export function programSkipReason(program: string): string | undefined {
  const p = programBinary(program);
  return fs.existsSync(p) ? undefined : `${path.relative(REPO, p)} is missing (run make)`;
}
