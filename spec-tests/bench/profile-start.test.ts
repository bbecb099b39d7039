/**
 * The start-up profile (`make profile-start`): every tvisor process writes its steps when
 * TVISOR_PROFILE names a file, the confined sentry and gofer included (they keep the
 * descriptor after they have lost the path), and nothing is written without it; the
 * table groups the marks per command and per process. No timing is asserted: only which
 * steps appear and how synthetic marks are laid out.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from '../oci/harness';
import { PROFILE_ENV } from '../../native/startup-profile';
import { parseMarks, profileTables, renderTables, type Mark } from './profile-table';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');

describe('profile table', () => {
  const marks: Mark[] = parseMarks([
    '1000.000 10 tvisor process-start', '1010.000 10 tvisor launcher', '1030.000 10 tvisor sandbox-ready', '1032.000 10 tvisor exit',
    '1012.000 20 sentry process-start', '1025.000 20 sentry booted', 'garbage', '1040.000 20 sentry init-exit',
    '1200.000 11 tvisor process-start', '1210.000 11 tvisor exit',
  ].join('\n'));

  test('marks of a run are grouped per process, ordered by time, the sentry\'s by window', () => {
    const [t] = profileTables([{ command: 'create', cliPid: 10, start: 995, end: 1035, until: 1100 }], marks);
    expect(t.command).toBe('create');
    expect(t.totalMs).toBe(40);
    expect(t.rows.map((r) => `${r.proc} ${r.step} ${r.deltaMs} ${r.atMs}`)).toEqual([
      'tvisor process-start 5 5', 'tvisor launcher 10 15', 'sentry process-start 17 17', 'sentry booted 13 30',
      'tvisor sandbox-ready 20 35', 'tvisor exit 2 37', 'tvisor reaped 3 40', 'sentry init-exit 15 45',
    ]);
  });

  test('another tvisor process in the window (a detached exec\'s background copy) is tvisor-bg', () => {
    const bg = parseMarks(['2000.000 30 tvisor process-start', '2020.000 31 tvisor process-start', '2030.000 30 tvisor exit', '2050.000 31 tvisor exit', '2300.000 32 tvisor process-start'].join('\n'));
    const [t] = profileTables([{ command: 'exec -d', cliPid: 30, start: 1995, end: 2035, until: 2200 }], bg);
    expect(t.rows.map((r) => `${r.proc} ${r.step} ${r.atMs}`)).toEqual([
      'tvisor process-start 5', 'tvisor-bg process-start 25', 'tvisor exit 35', 'tvisor reaped 40', 'tvisor-bg exit 55',
    ]);
  });

  test('a step seen in some runs only says so; the text has one block per command', () => {
    const tables = profileTables([
      { command: 'create', cliPid: 10, start: 995, end: 1035, until: 1100 },
      { command: 'create', cliPid: 11, start: 1195, end: 1215, until: 1300 },
    ], marks);
    expect(tables).toHaveLength(1);
    const text = renderTables(tables);
    expect(text).toMatch(/^create: \d+\.\d ms \(median of 2\)$/m);
    expect(text).toMatch(/^ {2}sentry +booted .*\(in 1 of 2 runs\)$/m);
    expect(text).toMatch(/^ {2}tvisor +reaped .*exit seen by the caller$/m);
  });
});

describe('tvisor processes write their steps', () => {
  if (process.getuid?.() !== 0 || !fs.existsSync(BUSYBOX) || !fs.existsSync(TVISOR)) {
    test('prerequisites', () => {
      throw new Error(`needs root, ${BUSYBOX} (busybox-static) and ${TVISOR} (make build)`);
    });
    return;
  }
  let rt: OciRuntime;
  beforeEach(() => { rt = new OciRuntime('tvisor', TVISOR); });
  afterEach(() => { rt.cleanup(); });
  /** run is `tvisor run` of a `true` bundle, with the profile file when given (jest's process.env does not reach children). */
  const run = (id: string, file?: string) => {
    const env = { ...process.env, ...(file ? { [PROFILE_ENV]: file } : {}) };
    const r = spawnSync(TVISOR, ['--root', rt.root, 'run', '--bundle', rt.bundle('b', ['true']), id], { env, stdio: 'ignore', timeout: 60_000 });
    return r.status;
  };

  test('run: the CLI, the confined sentry and the confined gofer each mark their steps', () => {
    const file = path.join(rt.dir, 'profile');
    expect(run(`profile-${process.pid}`, file)).toBe(0);
    const marks = parseMarks(fs.readFileSync(file, 'utf8'));
    const steps = (proc: string) => marks.filter((m) => m.proc === proc).map((m) => m.step);
    const boot = ['process-start', 'v8-start', 'node-bootstrapped', 'launcher', 'bundle-evaluated'];
    // The cgroup is made after the spawns (sentry-sandbox.ts), while both Nodes boot.
    expect(steps('tvisor')).toEqual([...boot, 'cli-loaded', 'args-parsed', 'env-loaded', 'bundle-validated', 'state-reserved',
      'spawned', ...(steps('tvisor').includes('cgroup-created') ? ['cgroup-created'] : []), 'cgroup-joined', 'sandbox-ready', 'state-saved',
      'state-read', 'sandbox-stopped', 'state-removed', 'command-done', 'exit']);
    // Once init has exited, the CLI's delete may SIGKILL the sentry before its own exit step.
    // The confinement's steps each have a mark (one per step, so that each one's cost shows).
    const confinement = ['seccomp-prepared', 'root-pivoted', 'credentials-dropped', 'confined'];
    const sentry = [...boot, 'main', 'config-parsed', 'boot-begin', 'kernel-made', 'mounted', 'booted', 'control-listening', 'host-net-open', ...confinement, 'init-start', 'init-exit'];
    expect(steps('sentry').slice(0, sentry.length)).toEqual(sentry);
    // The gofer exits when the sentry's socket closes, possibly after the CLI has returned.
    const gofer = [...boot, 'main', 'exports-open', ...confinement];
    expect(steps('gofer').slice(0, gofer.length)).toEqual(gofer);
  });

  test('without TVISOR_PROFILE nothing is written', () => {
    const file = path.join(rt.dir, 'profile');
    expect(run(`profile-off-${process.pid}`)).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
  });
});
