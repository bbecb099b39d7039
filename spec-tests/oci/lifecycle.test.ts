/**
 * OCI lifecycle conformance, written from the runtime-spec (runtime.md "Lifecycle",
 * "Operations", "State") and runc's command-line conventions, run against each runtime
 * binary on a real busybox bundle in a private --root.
 *
 * Runtimes: Debian's runc and tvisor (each skipped, with the reason, only when absent or
 * when not root).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime, pidAlive } from './harness';

const REPO = path.resolve(__dirname, '..', '..');
const TVISOR = path.join(REPO, 'bin', 'tvisor');
const isRoot = process.getuid?.() === 0;

/** skipReason returns why a runtime cannot be tested here, or undefined when it can. */
function skipReason(name: string, bin: string): string | undefined {
  if (!isRoot) return 'OCI lifecycle tests need root (namespaces, mounts)';
  if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} is missing (install busybox-static)`;
  if (!fs.existsSync(bin)) return `${bin} is missing${name === 'tvisor' ? ' (run make)' : ''}`;
  return undefined;
}

const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]];

describe.each(RUNTIMES)('%s', (name, bin) => {
  const reason = skipReason(name, bin);
  if (reason) {
    test.skip(`skipped: ${reason}`, () => {});
    return;
  }
  let rt: OciRuntime;
  beforeEach(() => { rt = new OciRuntime(name, bin); });
  afterEach(() => { rt.cleanup(); });

  test('create gives a created container with a pid, and writes the pid file', () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    const pidFile = path.join(rt.dir, 'pid');
    const r = rt.run('create', '--bundle', bundle, '--pid-file', pidFile, 'c1');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const st = rt.state('c1')!;
    expect(st.id).toBe('c1');
    expect(st.status).toBe('created');
    expect(st.bundle).toBe(bundle);
    expect(st.pid).toBeGreaterThan(0);
    expect(fs.readFileSync(pidFile, 'utf8').trim()).toBe(String(st.pid));
    expect(pidAlive(st.pid)).toBe(true);
    expect(rt.run('list', '-q').stdout).toBe('c1\n');
  });

  test('start runs the process; kill stops it; delete removes the container', async () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    expect(rt.run('create', '--bundle', bundle, 'c2').status).toBe(0);
    const pid = rt.state('c2')!.pid;
    expect(rt.run('start', 'c2').status).toBe(0);
    expect(rt.state('c2')!.status).toBe('running');
    expect(rt.run('kill', 'c2', 'KILL').status).toBe(0);
    await rt.waitStatus('c2', 'stopped');
    expect(pidAlive(pid)).toBe(false);
    expect(rt.run('delete', 'c2').status).toBe(0);
    expect(rt.state('c2')).toBeUndefined();
    expect(rt.run('list', '-q').stdout).toBe('');
  });

  test('a process that exits by itself leaves the container stopped', async () => {
    const bundle = rt.bundle('b', ['true']);
    expect(rt.run('create', '--bundle', bundle, 'c3').status).toBe(0);
    expect(rt.run('start', 'c3').status).toBe(0);
    await rt.waitStatus('c3', 'stopped');
    expect(rt.run('delete', 'c3').status).toBe(0);
  });

  test('start is only allowed from created', async () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    rt.run('create', '--bundle', bundle, 'c4');
    expect(rt.run('start', 'c4').status).toBe(0);
    const again = rt.run('start', 'c4');
    expect(again.status).not.toBe(0);
    expect(again.stderr).not.toBe('');
    expect(rt.state('c4')!.status).toBe('running');
    rt.run('kill', 'c4', '9');
    await rt.waitStatus('c4', 'stopped');
    expect(rt.run('start', 'c4').status).not.toBe(0);
    expect(rt.state('c4')!.status).toBe('stopped');
  });

  test('kill of a stopped container is an error that changes nothing', async () => {
    const bundle = rt.bundle('b', ['true']);
    rt.run('create', '--bundle', bundle, 'c5');
    rt.run('start', 'c5');
    await rt.waitStatus('c5', 'stopped');
    const r = rt.run('kill', 'c5', 'TERM');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not running/);
    expect(rt.state('c5')!.status).toBe('stopped');
  });

  test('kill accepts names with and without SIG and numbers, and a created container can be killed', async () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    rt.run('create', '--bundle', bundle, 'c6');
    expect(rt.run('kill', 'c6', 'SIGKILL').status).toBe(0);
    await rt.waitStatus('c6', 'stopped');
    rt.run('delete', 'c6');
    rt.run('create', '--bundle', bundle, 'c6');
    rt.run('start', 'c6');
    // A pid-namespace init ignores signals it has no handler for, except SIGKILL and SIGSTOP.
    expect(rt.run('kill', 'c6', '9').status).toBe(0);
    await rt.waitStatus('c6', 'stopped');
  });

  test('delete of a running container needs --force', async () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    rt.run('create', '--bundle', bundle, 'c7');
    rt.run('start', 'c7');
    const pid = rt.state('c7')!.pid;
    const r = rt.run('delete', 'c7');
    expect(r.status).not.toBe(0);
    expect(rt.state('c7')!.status).toBe('running');
    expect(rt.run('delete', '--force', 'c7').status).toBe(0);
    expect(rt.state('c7')).toBeUndefined();
    expect(pidAlive(pid)).toBe(false);
  });

  test('delete of a created container kills it (runc behaviour)', () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    rt.run('create', '--bundle', bundle, 'c8');
    const pid = rt.state('c8')!.pid;
    expect(rt.run('delete', 'c8').status).toBe(0);
    expect(rt.state('c8')).toBeUndefined();
    expect(pidAlive(pid)).toBe(false);
  });

  test('duplicate ids are refused and the first container is untouched', () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    expect(rt.run('create', '--bundle', bundle, 'dup').status).toBe(0);
    const before = rt.state('dup')!;
    const r = rt.run('create', '--bundle', bundle, 'dup');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exist/);
    expect(rt.state('dup')).toEqual(before);
  });

  test('operations on an unknown id fail and say it does not exist', () => {
    for (const cmd of [['state'], ['start'], ['kill'], ['delete']]) {
      const r = rt.run(...cmd, 'nosuch');
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/does not exist/);
    }
  });

  test('run in the foreground exits with the status of the container process', () => {
    const bundle = rt.bundle('b', ['sh', '-c', 'exit 3']);
    expect(rt.run('run', '--bundle', bundle, 'c9').status).toBe(3);
    const ok = rt.bundle('ok', ['true']);
    expect(rt.run('run', '--bundle', ok, 'c10').status).toBe(0);
    expect(rt.run('list', '-q').stdout).toBe('');
  });

  test('run --detach returns once the container runs, in a session of its own', () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    // rt.run waits for the runtime to exit: a detached run that kept it alive would time out.
    const r = rt.run('run', '--detach', '--bundle', bundle, 'd1');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const st = rt.state('d1')!;
    expect(st.status).toBe('running');
    const stat = fs.readFileSync(`/proc/${st.pid}/stat`, 'utf8');
    const [, , , sid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    expect(sid).not.toBe(process.pid);
    expect(sid).not.toBe(Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[3]));
    expect(rt.run('delete', '--force', 'd1').status).toBe(0);
  });

  test('hooks receive the state on stdin', async () => {
    const out = path.join(rt.dir, 'hook-state');
    const hook = path.join(rt.dir, 'hook.sh');
    fs.writeFileSync(hook, `#!/bin/sh\ncat > ${out}\n`, { mode: 0o755 });
    const bundle = rt.bundle('b', ['true'], (s) => { s.hooks = { poststart: [{ path: hook }] }; });
    rt.run('create', '--bundle', bundle, 'h1');
    const pid = rt.state('h1')!.pid;
    expect(rt.run('start', 'h1').status).toBe(0);
    const st = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(st).toMatchObject({ id: 'h1', pid, bundle });
    expect(typeof st.ociVersion).toBe('string');
  });
});

test('the runc binary used is the expected one (sanity)', () => {
  if (!fs.existsSync('/usr/sbin/runc')) return void console.warn('runc missing: sanity check skipped');
  expect(spawnSync('/usr/sbin/runc', ['--version'], { encoding: 'utf8' }).stdout).toMatch(/^runc version /);
});

/** processesWith lists the host processes whose command line holds all of `words` (as whole arguments). */
function processesWith(words: string[]): number[] {
  const found: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (words.every((w) => args.includes(w))) found.push(Number(p));
  }
  return found;
}

describe('tvisor: a sandbox cgroup that is in use', () => {
  // tvisor refuses to share a cgroup that already holds processes (runtime/sandbox/cgroup.ts);
  // it makes the cgroup after the sentry and the gofer are spawned (sentry-sandbox.ts), so
  // a refused create must take both down with it.
  test('create fails in one line and leaves no container and no sandbox process', async () => {
    const reason = skipReason('tvisor', TVISOR);
    if (reason) throw new Error(reason);
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
    if (!/ cgroup [^ ]*\bmemory\b/.test(mounts)) throw new Error('needs the cgroup v1 memory hierarchy');
    const a = new OciRuntime('tvisor', TVISOR);
    const b = new OciRuntime('tvisor', TVISOR);
    try {
      const cgroupsPath = `/tvisor-lifecycle-busy-${process.pid}`;
      const limited = (s: { linux?: { cgroupsPath?: string; resources?: object } }) => {
        s.linux = { ...s.linux, cgroupsPath, resources: { memory: { limit: 256 * 1024 * 1024 } } };
      };
      expect(a.run('create', '--bundle', a.bundle('b1', ['sleep', '100'], limited), 'busy1').status).toBe(0);
      const bundle2 = b.bundle('b2', ['sleep', '100'], limited);
      const r = b.run('create', '--bundle', bundle2, 'busy2');
      expect(r.stderr).toMatch(/^tvisor: cgroup \S+ is in use by \d+ process\(es\): choose another container id or linux\.cgroupsPath\n$/);
      expect(r.status).toBe(1);
      expect(b.run('list', '-q').stdout).toBe('');
      // Its sentry (--id busy2) and its gofer (--root <its rootfs>) are gone (SIGKILL: at once).
      const left = () => [...processesWith(['sentry', '--id', 'busy2']), ...processesWith(['gofer', '--root', path.join(bundle2, 'rootfs')])];
      for (const until = Date.now() + 5000; left().length && Date.now() < until;) await new Promise((res) => setTimeout(res, 20));
      expect(left()).toEqual([]);
      expect(a.state('busy1')?.status).toBe('created');
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });
});

describe('what tvisor run loads', () => {
  // node:net with its streams and node:crypto were loaded (and compiled function by
  // function) at every run, for the ready pipe and two short hashes; yargs and winston
  // are bundles of their own (scripts/build.mjs), for what a plain run never does.
  test("a foreground run loads neither node:net, node:crypto, yargs nor winston, and gives init's exit status", () => {
    const reason = skipReason('tvisor', TVISOR);
    if (reason) throw new Error(reason);
    const rt = new OciRuntime('tvisor', TVISOR);
    try {
      const list = path.join(rt.dir, 'modules');
      const hook = path.join(rt.dir, 'hook.js');
      fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, [...process.moduleLoadList, ...Object.keys(require.cache).map((f) => 'File ' + require('path').basename(f))].join('\\n')));\n`);
      const bundle = rt.bundle('b', ['sh', '-c', 'exit 3']);
      // stdout and stderr are files, as a pipe would load net for process.stdout itself.
      const out = fs.openSync(path.join(rt.dir, 'run-out'), 'w');
      const r = spawnSync(process.execPath, ['--require', hook, TVISOR, ...rt.globals, 'run', '--bundle', bundle, 'r1'], { stdio: ['ignore', out, out], timeout: 60_000 });
      fs.closeSync(out);
      expect(fs.readFileSync(path.join(rt.dir, 'run-out'), 'utf8')).toBe('');
      expect(r.status).toBe(3);
      const loaded = fs.readFileSync(list, 'utf8').split('\n').filter((m) => /^NativeModule (net|crypto|stream)$/.test(m) || /^File tvisor-(yargs|winston)\.js$/.test(m));
      expect(loaded).toEqual([]);
      expect(rt.run('list', '-q').stdout).toBe('');
    } finally {
      rt.cleanup();
    }
  });
});
