/**
 * The sandbox processes' V8 code caches (scripts/tvisor-launcher.js, native/code-cache.ts):
 * a confined sentry or gofer writes its own cache before its pivot, with what it compiled
 * by then; the build's training run (scripts/train-code-cache.mjs) installs caches written
 * after a trusted container's init has run; and a sandbox given the training variable
 * outside that script never installs the cache it wrote (only the script renames one
 * into place, after V8 has accepted it).
 *
 * A running sandbox process compiles from a mapping of its bundle, which a rebuild (a
 * rename over the file) leaves to it.
 *
 * Each case works on a copy of the built tree in a temporary directory (bundles copied,
 * so they carry new mtimes and caches of their own; the rest hard-linked), so that the
 * tree's dist/ is never touched.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { OciRuntime, requireSandboxPrerequisites } from './harness';

const REPO = path.resolve(__dirname, '..', '..');

/** copyTree makes a runnable copy of the built tree (bin, dist's bundles, the addon, the stubs, the training script). */
function copyTree(dir: string): string {
  for (const d of ['bin', 'dist', 'scripts', 'native', 'build']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'bin', 'tvisor'), path.join(dir, 'bin', 'tvisor'));
  fs.chmodSync(path.join(dir, 'bin', 'tvisor'), 0o755);
  // The CLI's yargs and winston are bundles of their own beside tvisor.js (scripts/build.mjs).
  for (const f of ['tvisor.js', 'tvisor-yargs.js', 'tvisor-winston.js', 'sentry.js', 'gofer.js']) fs.copyFileSync(path.join(REPO, 'dist', f), path.join(dir, 'dist', f));
  fs.copyFileSync(path.join(REPO, 'scripts', 'train-code-cache.mjs'), path.join(dir, 'scripts', 'train-code-cache.mjs'));
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  const links = ['native/build', 'build/native', 'build/platform', 'build/vdso', 'build/kvm'].filter((d) => fs.existsSync(path.join(REPO, d)));
  for (const d of links) {
    const r = spawnSync('cp', ['-al', path.join(REPO, d), path.join(dir, d)]);
    if (r.status !== 0) throw new Error(`cp -al ${d}: ${r.stderr}`);
  }
  return path.join(dir, 'bin', 'tvisor');
}

/** cacheOf is the launcher's cache name of a bundle without V8 flags. */
function cacheOf(dist: string, bundle: string): string {
  const st = fs.statSync(path.join(dist, bundle));
  return path.join(dist, `${bundle}.${st.size}-${Math.trunc(st.mtimeMs)}.cache`);
}

/** accepted says whether V8 takes `data` as the cache of dist/`bundle`, loaded as the launcher loads it. */
function accepted(dist: string, bundle: string, data: Buffer): boolean {
  const file = path.join(dist, bundle);
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'latin1')}\n})`;
  return !new vm.Script(wrapper, { filename: file, cachedData: data }).cachedDataRejected;
}

/** waitGone polls until no process runs `bin` (the sandbox of a finished `run --keep` exits on its own). */
async function waitGone(bin: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const running = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return false;
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(bin);
      } catch {
        return false;
      }
    });
    if (!running) return;
    if (Date.now() > until) throw new Error(`processes of ${bin} still run after 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the sandbox processes’ code caches', () => {
  let tmp: string;
  let bin: string;
  let rt: OciRuntime;
  beforeAll(() => requireSandboxPrerequisites('code-cache'));
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'code-cache-'));
    bin = copyTree(tmp);
    rt = new OciRuntime('tvisor-code-cache', bin);
  });
  afterEach(() => {
    rt.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the training run installs caches that V8 accepts and that hold more than the pre-pivot ones', async () => {
    const dist = path.join(tmp, 'dist');
    // Untrained: the first run's sentry and gofer write theirs at the pivot.
    const bundle = rt.bundle('t', ['true']);
    const r = rt.run('run', '--bundle', bundle, `cc-${process.pid}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pre = Object.fromEntries(['sentry.js', 'gofer.js'].map((b) => [b, fs.readFileSync(cacheOf(dist, b)).length]));

    // An older build's cache, which the training removes as the launcher's writer would.
    fs.writeFileSync(path.join(dist, 'sentry.js.1-2.cache'), 'old');
    const t = spawnSync(process.execPath, [path.join(tmp, 'scripts', 'train-code-cache.mjs')], { encoding: 'utf8', timeout: 120_000 });
    expect(t.status).toBe(0);
    expect(t.stderr).toMatch(/trained after a run of true: sentry\.js \d+ KiB, gofer\.js \d+ KiB/);
    for (const b of ['sentry.js', 'gofer.js']) {
      const data = fs.readFileSync(cacheOf(dist, b));
      expect(accepted(dist, b, data)).toBe(true);
      // Init's run, the 9P handlers and the teardown were compiled after the pivot.
      expect(data.length).toBeGreaterThan(pre[b]);
    }
    // No training file is left behind, nor the older build's cache.
    expect(fs.readdirSync(dist).filter((f) => /\.cache\.\d+$/.test(f))).toEqual([]);
    expect(fs.existsSync(path.join(dist, 'sentry.js.1-2.cache'))).toBe(false);
  });

  test('a sandbox given the training variable outside the training script installs no cache of its own', async () => {
    const dist = path.join(tmp, 'dist');
    const bundle = rt.bundle('t', ['true']);
    const id = `cc-env-${process.pid}`;
    const r = spawnSync(bin, [...rt.globals, 'run', '--keep', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TVISOR_CODE_CACHE_TRAIN: '1' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await waitGone(bin);
    const files = fs.readdirSync(dist);
    for (const b of ['sentry.js', 'gofer.js']) {
      // It wrote its file of its pid after init's run (through the descriptor opened at
      // load: it could not have reached dist/ by path once confined)...
      const written = files.filter((f) => f.startsWith(`${path.basename(cacheOf(dist, b))}.`) && /\.\d+$/.test(f));
      expect(written).toHaveLength(1);
      expect(fs.statSync(path.join(dist, written[0])).size).toBeGreaterThan(0);
      // ...and nothing named as a cache the launcher would load.
      expect(fs.existsSync(cacheOf(dist, b))).toBe(false);
    }
  });

  test('a running sentry and gofer map their bundle and code cache, and keep them when the build replaces the files', async () => {
    const dist = path.join(tmp, 'dist');
    const warm = rt.run('run', '--bundle', rt.bundle('t', ['true']), `cc-warm-${process.pid}`);
    expect(warm.status).toBe(0); // writes the caches (at the pivot), which the next start maps
    const id = `cc-map-${process.pid}`;
    const c = rt.run('run', '--detach', '--bundle', rt.bundle('s', ['sleep', '60']), id);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    const sentry = JSON.parse(rt.run('state', id).stdout).pid as number;
    const gofer = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).find((p) => {
      try {
        const args = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return args.includes(bin) && args.includes('gofer');
      } catch {
        return false;
      }
    });
    expect(gofer).toBeDefined();
    const mapped = (pid: number) => fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((l) => l.split(/\s+/).slice(5).join(' ')).filter((f) => f.startsWith(dist));
    // The source stays mapped for the process's life (V8 compiles from it); the cache until
    // a collection finds its Buffer unused (the idle one may have run by now).
    expect(mapped(sentry)).toContain(path.join(dist, 'sentry.js'));
    expect(mapped(sentry).every((f) => f === path.join(dist, 'sentry.js') || f === cacheOf(dist, 'sentry.js'))).toBe(true);
    expect(mapped(gofer!)).toContain(path.join(dist, 'gofer.js'));
    // A rebuild replaces the bundle by rename (scripts/build.mjs): the sentry keeps the text
    // it maps, and goes on compiling from it (an exec runs code it had not compiled yet).
    const old = path.join(dist, 'sentry.js');
    fs.writeFileSync(`${old}.new`, `${fs.readFileSync(old, 'latin1')}\n// rebuilt\n`, 'latin1');
    fs.renameSync(`${old}.new`, old);
    expect(mapped(sentry)).toContain(`${old} (deleted)`);
    const e = rt.run('exec', id, 'sh', '-c', 'echo $((6 * 7)) > /tmp/x && cat /tmp/x && ls / | wc -l');
    expect(e.stderr).toBe('');
    expect(e.stdout.split('\n')[0]).toBe('42');
    expect(rt.run('kill', id, 'KILL').status).toBe(0);
  });
});
