/**
 * Signals sent to a foreground `tvisor run` or `tvisor do` (issue 17): they reach the
 * container's init as with `runc run`, the runtime exits with init's status, and nothing
 * of the sandbox is left on the host: no host process (sentry, gofer, stubs), no state
 * directory (`list` is empty), no cgroup, no temporary file. A SIGKILLed runtime, which
 * cannot clean up, leaves at most the state directory of a stopped container, which
 * `delete` removes (runc leaves its container running there).
 *
 * Each `run` case runs the same bundle under runc and tvisor; signals are sent one at a
 * time, the next once init has printed the previous one (no timing involved).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUNC, makeBundle } from '../behaviour/bundle';
import { PROGRAMS_DIR, RUNTIMES, runtimeSkipReason } from '../behaviour/runner';

const SIGTRAP_PROGRAM = path.join(PROGRAMS_DIR, 'sigtrap');
const TVISOR = RUNTIMES.tvisor.bin;
const DEADLINE_MS = 60_000;

/** prerequisites fail loudly: these tests never skip. */
function requirePrerequisites(): void {
  const reason = runtimeSkipReason('tvisor') ?? runtimeSkipReason('runc');
  if (reason) throw new Error(`prerequisite missing: ${reason}`);
  if (!fs.existsSync(SIGTRAP_PROGRAM)) throw new Error(`prerequisite missing: ${SIGTRAP_PROGRAM} (run make build)`);
}

let seq = 0;
/** running: runtime commands started here and not yet seen to exit (killed after each test). */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const c of running) c.kill('SIGKILL');
});

/** Foreground is one runtime command running in the foreground, its output in a file. */
interface Foreground {
  child: ChildProcess;
  out: string;
  /** status resolves with the exit status (128+n for a death by signal n). */
  status: Promise<number>;
}

function startForeground(bin: string, args: string[], dir: string, env: NodeJS.ProcessEnv = process.env, cwd = dir): Foreground {
  const out = path.join(dir, `out-${++seq}`);
  const fd = fs.openSync(out, 'w');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd], env, cwd });
  fs.closeSync(fd);
  running.add(child);
  const status = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 127));
    });
  });
  return { child, out, status };
}

/** waitUntil polls `cond` until it holds; it throws with `what` after DEADLINE_MS. */
async function waitUntil(what: string, cond: () => boolean): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** initLines is what init printed, without SIGURG: runc's Go runtime forwards its own. */
function initLines(file: string): string[] {
  return lines(file).filter((l) => l !== 'got 23');
}

/** hostProcesses lists the host pids (with start times) whose command line mentions `needle`. */
function hostProcesses(needle: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'latin1');
      if (cmdline.includes(needle)) found.set(Number(name), startTime(Number(name)) ?? '');
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** descendants adds every live descendant of the given pids (the sentry's stubs). */
function withDescendants(pids: Map<number, string>): Map<number, string> {
  const all = new Map(pids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || all.has(Number(name))) continue;
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (all.has(ppid)) {
          all.set(Number(name), startTime(Number(name)) ?? '');
          grew = true;
        }
      } catch {
        // gone meanwhile
      }
    }
  }
  return all;
}

/**
 * sandboxOf collects the host processes of a running sandbox: those whose command line
 * names the container, and every descendant of the runtime command (sentry, gofer, stubs).
 */
function sandboxOf(fg: Foreground, id: string): Map<number, string> {
  const roots = hostProcesses(id);
  roots.set(fg.child.pid!, startTime(fg.child.pid!) ?? '');
  return withDescendants(roots);
}

/** stillAlive returns the pids of `pids` that still run (same start time, not a zombie). */
function stillAlive(pids: Map<number, string>): number[] {
  return [...pids].filter(([pid, st]) => {
    const now = startTime(pid);
    if (now === undefined || now !== st) return false;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  }).map(([pid]) => pid);
}

/** cgroupDirs lists the tvisor cgroup directories of container `id` in every hierarchy. */
function cgroupDirs(id: string): string[] {
  const found: string[] = [];
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', h, 'tvisor');
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (n === id || n.startsWith(`${id}-`)) found.push(path.join(dir, n));
  }
  return found;
}

function listed(bin: string, root: string): string[] {
  const r = spawnSync(bin, ['--root', root, 'list', '-q'], { encoding: 'utf8', timeout: DEADLINE_MS });
  if (r.status !== 0) throw new Error(`${bin} list failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** expectNothingLeft asserts that no trace of the tvisor container is left on the host. */
function expectNothingLeft(id: string, root: string, sandbox: Map<number, string>): void {
  expect({
    alive: stillAlive(sandbox),
    mentioning: [...hostProcesses(id).keys()],
    listed: listed(TVISOR, root),
    stateDir: fs.existsSync(path.join(root, id)),
    cgroups: cgroupDirs(id),
  }).toEqual({ alive: [], mentioning: [], listed: [], stateDir: false, cgroups: [] });
}

/** Run is one foreground `run` of a sigtrap bundle. */
interface Run {
  fg: Foreground;
  id: string;
  root: string;
  /** sandbox: the host processes of tvisor's sandbox, seen while init ran. */
  sandbox: Map<number, string>;
}

async function startRun(rt: 'runc' | 'tvisor', dir: string, mode: 'trap' | 'plain', pidNamespace = true): Promise<Run> {
  const bundle = path.join(dir, `bundle-${rt}-${mode}-${++seq}`);
  fs.mkdirSync(bundle);
  makeBundle(bundle, {
    program: SIGTRAP_PROGRAM,
    args: ['/prog', mode],
    editSpec: (s) => {
      if (!pidNamespace) s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    },
  });
  const id = `sec-signals-${process.pid}-${seq}`;
  const root = path.join(dir, `root-${rt}`);
  const bin = rt === 'runc' ? RUNC : TVISOR;
  const fg = startForeground(bin, ['--root', root, 'run', '--bundle', bundle, id], dir);
  await waitUntil(`${rt}: init's "ready"`, () => lines(fg.out).includes('ready'));
  const sandbox = rt === 'tvisor' ? sandboxOf(fg, id) : new Map<number, string>();
  return { fg, id, root, sandbox };
}

/** SENT are the signals sent one by one before SIGTERM (SIGPROF and SIGWINCH are not forwarded by runc). */
const SENT: NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGUSR1', 'SIGSEGV',
  'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGSTKFLT', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGXCPU',
  'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];
const NOT_FORWARDED = new Set<NodeJS.Signals>(['SIGPROF', 'SIGWINCH']);

describe('signals to a foreground run, compared with runc', () => {
  let dir: string;
  beforeAll(() => {
    requirePrerequisites();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-signals-'));
  });
  afterAll(() => {
    for (const rt of ['runc', 'tvisor'] as const) {
      const root = path.join(dir, `root-${rt}`);
      if (!fs.existsSync(root)) continue;
      const bin = rt === 'runc' ? RUNC : TVISOR;
      for (const id of listed(bin, root)) spawnSync(bin, ['--root', root, 'delete', '--force', id], { timeout: DEADLINE_MS });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** sendAll sends SENT one at a time, each once init has reported the previous one, then SIGTERM. */
  async function sendAll(r: Run): Promise<number> {
    let expected = 1; // "ready"
    for (const sig of SENT) {
      r.fg.child.kill(sig);
      if (NOT_FORWARDED.has(sig)) continue;
      expected++;
      await waitUntil(`init to report ${sig}`, () => initLines(r.fg.out).length >= expected);
    }
    r.fg.child.kill('SIGTERM');
    return r.fg.status;
  }

  test('every signal runc forwards reaches init; SIGTERM ends it and the runtime exits with its status 3', async () => {
    const runc = await startRun('runc', dir, 'trap');
    const runcStatus = await sendAll(runc);
    const tvisor = await startRun('tvisor', dir, 'trap');
    const tvisorStatus = await sendAll(tvisor);
    const expected = ['ready', ...SENT.filter((s) => !NOT_FORWARDED.has(s)).map((s) => `got ${os.constants.signals[s]}`), 'got 15'];
    expect({ status: runcStatus, printed: initLines(runc.fg.out) }).toEqual({ status: 3, printed: expected });
    expect({ status: tvisorStatus, printed: initLines(tvisor.fg.out) }).toEqual({ status: 3, printed: expected });
    expect(listed(RUNC, runc.root)).toEqual([]);
    expect(tvisor.sandbox.size).toBeGreaterThanOrEqual(4); // the runtime, the sentry, the gofer, a stub
    expectNothingLeft(tvisor.id, tvisor.root, tvisor.sandbox);
  });

  test('an init without a SIGTERM handler (no pid namespace) dies of it: 143, as under runc', async () => {
    const statuses: number[] = [];
    for (const rt of ['runc', 'tvisor'] as const) {
      const r = await startRun(rt, dir, 'plain', false);
      r.fg.child.kill('SIGTERM');
      statuses.push(await r.fg.status);
      expect(initLines(r.fg.out)).toEqual(['ready']);
      if (rt === 'tvisor') expectNothingLeft(r.id, r.root, r.sandbox);
      else expect(listed(RUNC, r.root)).toEqual([]);
    }
    expect(statuses).toEqual([143, 143]);
  });

  test('a second SIGTERM and a SIGINT while the first SIGTERM is handled leave nothing behind', async () => {
    for (const rt of ['runc', 'tvisor'] as const) {
      const r = await startRun(rt, dir, 'trap');
      r.fg.child.kill('SIGTERM');
      r.fg.child.kill('SIGTERM');
      r.fg.child.kill('SIGINT');
      expect(await r.fg.status).toBe(3);
      expect(initLines(r.fg.out)).toContain('got 15');
      if (rt === 'tvisor') expectNothingLeft(r.id, r.root, r.sandbox);
      else expect(listed(RUNC, r.root)).toEqual([]);
    }
  });

  test('SIGKILL of the runtime: the sandbox ends with it and `delete` removes the stopped container', async () => {
    // runc leaves its container running and listed; tvisor's sandbox sees its lifeline
    // end, kills the container and exits, leaving the state directory of a stopped one.
    const r = await startRun('tvisor', dir, 'trap');
    r.fg.child.kill('SIGKILL');
    expect(await r.fg.status).toBe(137);
    await waitUntil('the sandbox to exit after its runtime was killed', () => stillAlive(r.sandbox).length === 0);
    const state = spawnSync(TVISOR, ['--root', r.root, 'state', r.id], { encoding: 'utf8', timeout: DEADLINE_MS });
    expect(JSON.parse(state.stdout).status).toBe('stopped');
    const del = spawnSync(TVISOR, ['--root', r.root, 'delete', r.id], { encoding: 'utf8', timeout: DEADLINE_MS });
    expect({ status: del.status, stderr: del.stderr }).toEqual({ status: 0, stderr: '' });
    expectNothingLeft(r.id, r.root, r.sandbox);
  });
});

describe('tvisor do: signals, temporary files and the environment', () => {
  let dir: string;
  beforeAll(() => {
    requirePrerequisites();
    if (!fs.existsSync('/usr/bin/runsc')) throw new Error('prerequisite missing: /usr/bin/runsc (apt-get install runsc)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-signals-do-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** doEnv is an environment whose TMPDIR is a fresh directory, so that do's files can be counted. */
  function doEnv(name: string, extra: Record<string, string> = {}): { env: NodeJS.ProcessEnv; tmp: string; root: string } {
    const tmp = path.join(dir, `tmp-${name}`);
    fs.mkdirSync(tmp);
    return { env: { ...process.env, TMPDIR: tmp, ...extra }, tmp, root: path.join(dir, `root-${name}`) };
  }

  test('the caller environment reaches the command, as with runsc do, but never a file', async () => {
    const secret = `s3cret-${process.pid}-${Date.now()}`;
    // runsc do hands the command the caller's whole environment: so does tvisor do.
    const runsc = spawnSync('/usr/bin/runsc', ['--network=none', '--root', path.join(dir, 'runsc-root'), 'do', 'env'], {
      encoding: 'utf8', timeout: DEADLINE_MS, cwd: '/', env: { ...process.env, SECRET_X: secret },
    });
    expect(runsc.stdout.split('\n')).toContain(`SECRET_X=${secret}`);
    const { env, tmp, root } = doEnv('env', { SECRET_X: secret });
    // The command runs from inside `dir` (under /tmp: do then keeps the host's /tmp in
    // view) and looks for the secret in every file do and the sandbox wrote meanwhile.
    const script = `echo "SECRET_X=$SECRET_X"; grep -rlsD skip -e "$SECRET_X" ${tmp} ${root}; echo "grep status $?"`;
    const fg = startForeground(TVISOR, ['--root', root, 'do', '--cwd', dir, 'sh', '-c', script], dir, env);
    expect(await fg.status).toBe(0);
    expect(lines(fg.out)).toEqual([`SECRET_X=${secret}`, 'grep status 1']);
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(listed(TVISOR, root)).toEqual([]);
  });

  test('SIGTERM reaches the command; do exits with its status and leaves nothing', async () => {
    const { env, tmp, root } = doEnv('term');
    // From inside `dir` (under /tmp), so that do keeps the host's /tmp in view: the
    // program may lie there (CI clones under /tmp), hidden from / by do's private /tmp.
    const fg = startForeground(TVISOR, ['--root', root, 'do', SIGTRAP_PROGRAM, 'trap'], dir, env);
    await waitUntil('the command to be ready', () => lines(fg.out).includes('ready'));
    // The bundle goes as soon as the sandbox has read it, while the command runs.
    await waitUntil('the bundle to be removed', () => fs.readdirSync(tmp).length === 0);
    expect(fg.child.exitCode).toBeNull();
    const id = listed(TVISOR, root)[0];
    expect(id).toMatch(/^tvisor-do-/);
    const sandbox = sandboxOf(fg, id);
    fg.child.kill('SIGTERM');
    fg.child.kill('SIGTERM');
    expect(await fg.status).toBe(3);
    expect(lines(fg.out)).toEqual(['ready', 'got 15']);
    expect(fs.readdirSync(tmp)).toEqual([]);
    expectNothingLeft(id, root, sandbox);
  });

  test('SIGKILL of do: the sandbox ends with it', async () => {
    const { env, tmp, root } = doEnv('kill');
    // From inside `dir` (under /tmp), so that do keeps the host's /tmp in view: the
    // program may lie there (CI clones under /tmp), hidden from / by do's private /tmp.
    const fg = startForeground(TVISOR, ['--root', root, 'do', SIGTRAP_PROGRAM, 'trap'], dir, env);
    await waitUntil('the command to be ready', () => lines(fg.out).includes('ready'));
    const id = listed(TVISOR, root)[0];
    const sandbox = sandboxOf(fg, id);
    fg.child.kill('SIGKILL');
    expect(await fg.status).toBe(137);
    await waitUntil('the sandbox to exit after do was killed', () => stillAlive(sandbox).length === 0);
    expect(fs.readdirSync(tmp)).toEqual([]);
    const del = spawnSync(TVISOR, ['--root', root, 'delete', id], { encoding: 'utf8', timeout: DEADLINE_MS });
    expect({ status: del.status, stderr: del.stderr }).toEqual({ status: 0, stderr: '' });
    expectNothingLeft(id, root, sandbox);
  });
});
