/**
 * profile-table.ts turns the start-up marks of tvisor's processes (TVISOR_PROFILE: see
 * native/startup-profile.ts and scripts/tvisor-launcher.js) into `make profile-start`'s
 * table: per command, per process, each step with the time since that process's previous
 * step and since the command was spawned, as medians over the runs.
 *
 * A mark line is `<ms since the epoch> <pid> <process> <step>`. Each run of a command is
 * a window [start, end): the CLI's marks are those of its pid; a sandbox process's marks
 * (sentry, gofer) are those that fall in the window, so that a sentry started by `create`
 * shows its later steps under `start` (init's start) and `exec`. Another tvisor process in
 * the window (a detached exec's background copy) shows as `tvisor-bg`.
 */

/** Mark is one line of a profile file. */
export interface Mark {
  t: number;
  pid: number;
  proc: string;
  step: string;
}

/** CommandRun is one timed run of a CLI command: the caller's clock at spawn and at exit. */
export interface CommandRun {
  command: string;
  cliPid: number;
  start: number;
  end: number;
  /** until: where this command's window for sandbox marks ends (the next command's start). */
  until: number;
}

/** STEP_MEANING says what the time up to each step was spent on (the interval ending there). */
export const STEP_MEANING: Record<string, string> = {
  'process-start': 'spawn: fork/exec of node up to its process start (first row: from the command\'s spawn)',
  'v8-start': 'Node boot: node\'s own start-up before V8',
  'node-bootstrapped': 'Node boot: V8 and Node\'s bootstrap (and the start-up snapshot\'s deserialization: the sentry)',
  launcher: 'Node boot: up to the first line of bin/tvisor',
  'bundle-evaluated': 'module load: code cache read, bundle compiled, top-level code run (from a snapshot: its check only)',
  main: 'the bundle\'s main() called',
  'cli-loaded': 'CLI modules evaluated (yargs, winston, the commands)',
  'args-parsed': 'argument parsing (yargs) and the logger',
  'env-loaded': 'state store and sandbox modules evaluated',
  'bundle-validated': 'config.json read and validated, rootfs checked',
  'state-reserved': 'state directory created and locked',
  'cgroup-created': 'sandbox cgroup created',
  spawned: 'posix_spawn of the sentry and the gofer into their namespaces',
  'cgroup-joined': 'both moved into the cgroup',
  'sandbox-ready': 'waiting for the sentry\'s ready line',
  'state-saved': 'state.json written (and hooks, pid file)',
  'state-read': 'state.json read, container locked',
  'sandbox-started': 'the sentry\'s answer to start',
  'sandbox-stopped': 'sandbox killed and waited for',
  'state-removed': 'sandbox destroyed (cgroup, sockets), state directory removed',
  'exec-started': 'exec request sent, process started in the sandbox',
  'command-done': 'the rest of the command (for run and exec: until the process exits)',
  'config-parsed': 'config.json read and parsed',
  'boot-begin': 'terminal, gofer socket and 9P client',
  'kernel-made': 'kernel boot: limits, platform, kernel, user namespace, cgroup view',
  mounted: 'kernel boot: the container\'s mounts (rootfs and binds over 9P, /tmp, /dev, /proc)',
  booted: 'kernel boot: init spawned (PATH search, HOME from /etc/passwd, ELF load into its stub)',
  'control-listening': 'control and exec sockets listening',
  'host-net-open': 'the host NETLINK_ROUTE socket and /proc/net files opened (sentry)',
  'seccomp-prepared': 'confinement: the precompiled seccomp program decoded (sentry: the reactor first; gofer: its 9P server made first)',
  'root-pivoted': 'confinement: tmpfs (and devpts) mounted, pivot_root, the old root detached',
  'credentials-dropped': 'confinement: bounding set dropped, uid switch (sentry: nobody; gofer: kept file capabilities)',
  confined: 'confinement: no_new_privs and the seccomp filter loaded on every thread (TSYNC; gofer: its cwd to /proc/self/fd first)',
  'init-start': 'waiting for the runtime\'s start (0 with run)',
  'init-exit': 'the container\'s init runs until it exits',
  'exports-open': 'exports opened',
  'exec-accepted': 'the exec server accepts the connection',
  'exec-request': 'the request read',
  'exec-loaded': 'the process created, its ELF loaded',
  exit: 'teardown up to process exit',
  reaped: 'exit seen by the caller',
};

/** parseMarks reads a profile file's lines (malformed ones are skipped). */
export function parseMarks(text: string): Mark[] {
  const marks: Mark[] = [];
  for (const line of text.split('\n')) {
    const [t, pid, proc, step] = line.trim().split(' ');
    if (!step || !Number.isFinite(Number(t)) || !Number.isInteger(Number(pid))) continue;
    marks.push({ t: Number(t), pid: Number(pid), proc, step });
  }
  return marks;
}

/** Row is one step of one process in a command's table: medians over the runs in ms. */
export interface Row {
  proc: string;
  step: string;
  deltaMs: number;
  atMs: number;
  /** runs: in how many of the runs the step was seen. */
  runs: number;
}

/** CommandTable is one command's profile: its median wall time and its rows by time. */
export interface CommandTable {
  command: string;
  runs: number;
  totalMs: number;
  rows: Row[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/** stepsOfRun lists one run's steps per process: [proc, step, delta, at] in time order. */
function stepsOfRun(run: CommandRun, marks: Mark[]): [string, string, number, number][] {
  const out: [string, string, number, number][] = [];
  // Another tvisor process in the window is the command's own copy (a detached exec's
  // background exec, which carries the process's exit status): shown as tvisor-bg.
  const mine = marks
    .filter((m) => (m.pid === run.cliPid && m.proc === 'tvisor') || (m.pid !== run.cliPid && m.t >= run.start && m.t < run.until))
    .map((m) => (m.proc === 'tvisor' && m.pid !== run.cliPid ? { ...m, proc: 'tvisor-bg' } : m));
  const byPid = new Map<number, Mark[]>();
  for (const m of mine) byPid.set(m.pid, [...(byPid.get(m.pid) ?? []), m]);
  for (const [pid, ms] of byPid) {
    ms.sort((a, b) => a.t - b.t);
    // A sandbox process started by an earlier command has no process-start here: its first
    // step of this window is measured from the command's spawn.
    let prev = run.start;
    for (const m of ms) {
      out.push([m.proc, m.step, m.t - prev, m.t - run.start]);
      prev = m.t;
    }
    if (pid === run.cliPid) out.push(['tvisor', 'reaped', run.end - prev, run.end - run.start]);
  }
  return out;
}

/** profileTables groups the runs by command and computes each command's table. */
export function profileTables(runs: CommandRun[], marks: Mark[]): CommandTable[] {
  const tables: CommandTable[] = [];
  for (const command of [...new Set(runs.map((r) => r.command))]) {
    const these = runs.filter((r) => r.command === command);
    const seen = new Map<string, { proc: string; step: string; deltas: number[]; ats: number[] }>();
    for (const run of these) {
      for (const [proc, step, delta, at] of stepsOfRun(run, marks)) {
        const key = `${proc} ${step}`;
        const e = seen.get(key) ?? { proc, step, deltas: [], ats: [] };
        e.deltas.push(delta);
        e.ats.push(at);
        seen.set(key, e);
      }
    }
    const rows = [...seen.values()].map((e) => ({ proc: e.proc, step: e.step, deltaMs: median(e.deltas), atMs: median(e.ats), runs: e.deltas.length }));
    rows.sort((a, b) => a.atMs - b.atMs);
    tables.push({ command, runs: these.length, totalMs: median(these.map((r) => r.end - r.start)), rows });
  }
  return tables;
}

/** renderTables prints the tables as text, one block per command. */
export function renderTables(tables: CommandTable[]): string {
  const lines: string[] = [];
  for (const t of tables) {
    lines.push('', `${t.command}: ${t.totalMs.toFixed(1)} ms (median of ${t.runs})`);
    lines.push(`  ${'process'.padEnd(8)} ${'step'.padEnd(18)} ${'+ms'.padStart(7)} ${'at ms'.padStart(7)}  spent on`);
    for (const r of t.rows) {
      const partial = r.runs < t.runs ? ` (in ${r.runs} of ${t.runs} runs)` : '';
      lines.push(`  ${r.proc.padEnd(8)} ${r.step.padEnd(18)} ${r.deltaMs.toFixed(1).padStart(7)} ${r.atMs.toFixed(1).padStart(7)}  ${STEP_MEANING[r.step] ?? ''}${partial}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
