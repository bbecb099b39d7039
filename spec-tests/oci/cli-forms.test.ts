/**
 * The runc command-line forms containerd's runc shim and Docker send, against Debian's
 * runc (the reference) and tvisor on a busybox bundle: `update --resources -` (JSON on
 * standard input) and update's flags as the container sees them in /sys/fs/cgroup;
 * malformed JSON and unknown flags refused in one line with nothing changed; `ps ID -e -o
 * pid,comm` and `ps --format json` (host pids); `kill ID 0`; `kill --all` of a stopped
 * container; global --criu, --rootless, --systemd-cgroup; `exec --cgroup`; `exec --detach
 * --pid-file` whose pid lives as long as the exec'd process; `exec --ignore-paused` in a
 * paused container; `run --keep --no-subreaper`;
 * a failed exec's reason as the last error of a --log-format json log (what the shim
 * reads); and linux.resources.pids.limit met by a forking program (spec-tests/behaviour/
 * programs/forkcount.c) exactly as under runc.
 *
 * Ids are unique per run: a cgroup path (/<id> for runc, /tvisor/<id> for tvisor) is
 * shared by every --root.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { v1Mounts } from '../../runtime/sandbox/cgroup';
import { BUSYBOX, OciRuntime, pidAlive, type Result } from './harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const FORKCOUNT = path.resolve(__dirname, '../../build/programs/forkcount');
const MiB = 1024 * 1024;
const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]];

/** missing names a prerequisite this machine lacks (the test then fails, saying which). */
function missing(bin: string): string | undefined {
  if (process.getuid?.() !== 0) return 'root (cgroups, namespaces)';
  const mounts = v1Mounts();
  for (const c of ['memory', 'pids', 'cpu']) if (!mounts.has(c)) return `the cgroup v1 ${c} hierarchy`;
  for (const f of [BUSYBOX, bin, FORKCOUNT]) if (!fs.existsSync(f)) return `${f} (install busybox-static; run make build)`;
  return undefined;
}

/** withInput runs `<bin> --root <root> ...args` with `input` on its standard input. */
function withInput(rt: OciRuntime, input: string, ...args: string[]): Result {
  const r = spawnSync(rt.bin, [...rt.globals, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** waitFor polls `cond` every 50 ms for up to 20 s. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** outcomes collects what each runtime gave, compared at the end. */
const outcomes = new Map<string, Record<string, unknown>>();

describe.each(RUNTIMES)('%s command-line forms', (name, bin) => {
  const lacking = missing(bin);
  const rt = new OciRuntime(name, bin);
  const id = `clf-${name}-${process.pid}`;
  const seen: Record<string, unknown> = {};
  outcomes.set(name, seen);
  afterAll(() => rt.cleanup());

  test('prerequisites are here', () => {
    expect(lacking).toBeUndefined();
  });

  test('update, ps, kill, exec and the global flags as containerd and Docker send them', async () => {
    // A tmpfs /tmp (the root is read-only and exec'd processes leave a file there) and a
    // host directory at /out.
    fs.mkdirSync(path.join(rt.dir, 'shared'));
    const bundle = rt.bundle('b', ['sleep', '1000'], (s) => {
      s.mounts = [...(s.mounts ?? []), { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] },
        { destination: '/out', type: 'bind', source: path.join(rt.dir, 'shared'), options: ['rbind', 'rw'] }];
    });
    expect(rt.run('run', '--detach', '--bundle', bundle, id).status).toBe(0);
    try {
      const view = () => rt.run('exec', id, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/cpu/cpu.shares').stdout;
      // containerd's shim and docker update: the JSON on standard input.
      let r = withInput(rt, JSON.stringify({ memory: { limit: 32 * MiB }, pids: { limit: 50 } }), 'update', '--resources', '-', id);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      seen.afterStdin = view();
      r = rt.run('update', '--memory', String(64 * MiB), '--pids-limit', '20', '--cpu-share', '512', id);
      expect(r.status).toBe(0);
      seen.afterFlags = view();
      // Refused: one line, exit 1, the limits as they were.
      for (const bad of [withInput(rt, '{"memory": {"limit": ', 'update', '-r', '-', id), rt.run('update', '--no-such-flag', '1', id)]) {
        expect(bad.status).toBe(1);
        expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      }
      expect(view()).toBe(seen.afterFlags);

      // ps: the table filtered from host ps(1), and the host pids as JSON.
      r = rt.run('ps', id, '-e', '-o', 'pid,user');
      expect(r.status).toBe(0);
      const rows = r.stdout.trim().split('\n');
      seen.psHeader = rows[0];
      const json = rt.run('ps', '--format', 'json', id);
      expect(json.status).toBe(0);
      const pids = JSON.parse(json.stdout) as number[];
      expect(pids).toHaveLength(1);
      expect(pidAlive(pids[0])).toBe(true);
      expect(rows.slice(1).map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual(pids);
      seen.psBadFormat = rt.run('ps', id, '-o', 'user').status;

      seen.kill0 = rt.run('kill', id, '0').status;
      seen.globals = rt.run('--criu', '/usr/sbin/criu', '--rootless', 'false', '--systemd-cgroup', 'state', id).status;
      seen.execCgroup = rt.run('exec', '--cgroup', 'memory:/', id, 'true').status;

      // exec --detach --pid-file: the pid lives as long as the exec'd process.
      const pidFile = path.join(rt.dir, 'exec.pid');
      r = rt.run('exec', '--detach', '--pid-file', pidFile, id, 'sh', '-c', 'echo $$ > /tmp/exec.pid; exec sleep 1000');
      expect(r.status).toBe(0);
      seen.execDetachStatus = r.status;
      const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(pidAlive(execPid)).toBe(true);
      // Ended from inside the container (its own pid, whatever the runtime's pid file says).
      r = rt.run('exec', id, 'sh', '-c', 'while [ ! -s /tmp/exec.pid ]; do sleep 0.05; done; kill $(cat /tmp/exec.pid)');
      expect(r.status).toBe(0);
      await waitFor(() => !pidAlive(execPid), `exec'd pid ${execPid} ends with its process`);

      // In a paused container exec is refused, unless --ignore-paused: then the process
      // runs once the container is resumed.
      expect(rt.run('pause', id).status).toBe(0);
      seen.execPaused = rt.run('exec', id, 'true').status;
      const out = path.join(rt.dir, 'shared');
      const paused = spawn(rt.bin, [...rt.globals, 'exec', '--ignore-paused', id, 'sh', '-c', 'echo ran > /out/resumed'], { stdio: 'ignore' });
      const pausedExit = new Promise<number | null>((resolve) => paused.on('exit', (code) => resolve(code)));
      // Not a timing assertion: whenever the exec gets in, nothing runs before the resume.
      await new Promise((r) => setTimeout(r, 500));
      expect(fs.existsSync(path.join(out, 'resumed'))).toBe(false);
      expect(rt.run('resume', id).status).toBe(0);
      seen.execIgnorePaused = await pausedExit;
      seen.resumedRan = fs.readFileSync(path.join(out, 'resumed'), 'utf8');

      // A failed exec: its reason is the last error of the json log.
      const log = path.join(rt.dir, 'exec-log.json');
      r = rt.run('--log', log, '--log-format', 'json', 'exec', '--detach', id, '/no/such/program');
      expect(r.status).not.toBe(0);
      const last = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.level === 'error').pop();
      expect(last?.msg).toMatch(/\/no\/such\/program/);
      expect(last?.msg).toMatch(/no such file or directory/);

      // Stopped: kill --all succeeds as runc's, kill 0 says the container is not running.
      expect(rt.run('kill', id, 'KILL').status).toBe(0);
      await rt.waitStatus(id, 'stopped');
      seen.killAllStopped = rt.run('kill', '--all', id, 'KILL').status;
      r = rt.run('kill', id, '0');
      seen.kill0Stopped = r.status;
      expect(r.stderr).toMatch(/container not running/);
    } finally {
      rt.run('delete', '--force', id);
    }
  }, 120_000);

  test('run --keep --no-subreaper leaves the stopped container to delete', () => {
    const bundle = rt.bundle('keep', ['sh', '-c', 'exit 3']);
    const kid = `${id}-keep`;
    seen.runKeep = rt.run('run', '--keep', '--no-subreaper', '--bundle', bundle, kid).status;
    seen.keptStatus = rt.state(kid)?.status;
    seen.keptDelete = rt.run('delete', kid).status;
  }, 60_000);

  test('linux.resources.pids.limit 5: the forks and threads a program gets', () => {
    const bundle = rt.bundle('pids', ['/forkcount'], (s) => { s.linux!.resources = { ...s.linux!.resources, pids: { limit: 5 } }; });
    fs.copyFileSync(FORKCOUNT, path.join(bundle, 'rootfs', 'forkcount'));
    fs.chmodSync(path.join(bundle, 'rootfs', 'forkcount'), 0o755);
    const r = rt.run('run', '--bundle', bundle, `${id}-pids`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    seen.forkcount = r.stdout;
  }, 60_000);
});

describe('tvisor against runc', () => {
  test('every outcome is runc\'s', () => {
    const runc = outcomes.get('runc')!;
    expect(runc.forkcount).toBe('forks 4 first failure EAGAIN\nthreads 4 first failure EAGAIN\n');
    expect(runc.afterStdin).toBe(`${32 * MiB}\n50\n1024\n`);
    expect(outcomes.get('tvisor')).toEqual(runc);
  });
});
