// train-code-cache.mjs: the build's training run of the sandbox processes' V8 code caches
// (`make` runs it once per build of the bundles; see scripts/tvisor-launcher.js and
// native/code-cache.ts).
//
// A confined sentry or gofer loses its path to dist/ when it pivots into its empty root,
// so a cache it writes itself holds only what it compiled before: every later start
// compiled init's run, the 9P handlers and the teardown again (CompileLazy). Here one
// trusted container, `true` on Debian's static busybox, runs with TVISOR_CODE_CACHE_TRAIN=1:
// its sentry and gofer write their caches at exit through descriptors opened at load, into
// files named after their pids, and this script renames each into place once the process
// that wrote it is gone and V8 accepts it for the bundle. A sandbox process never renames
// one: a cache written after an application has run becomes input to later (unconfined)
// starts only through this script's trusted run.
//
// The CLI's cache is left to the `run` (the CLI runs unconfined and writes its own at
// exit). Nothing here is required: without root or busybox, or if the run fails, it says why
// and the runtime writes its caches at the pivot as before. Exit status 0 either way.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

const top = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(top, 'dist');
const tvisor = path.join(top, 'bin', 'tvisor');
const BUSYBOX = process.env.BUSYBOX ?? '/bin/busybox';
const BUNDLES = ['sentry.js', 'gofer.js'];
const note = (msg) => process.stderr.write(`train-code-cache: ${msg}\n`);

/** cacheName is the launcher's name of a bundle's cache without V8 flags (scripts/tvisor-launcher.js). */
function cacheName(bundle) {
  const st = fs.statSync(path.join(dist, bundle));
  return `${bundle}.${st.size}-${Math.trunc(st.mtimeMs)}.cache`;
}

/** accepted says whether V8 takes `data` as the code cache of `bundle`, loaded as the launcher loads it. */
function accepted(bundle, data) {
  const file = path.join(dist, bundle);
  const source = fs.readFileSync(file, 'latin1');
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  return !new vm.Script(wrapper, { filename: file, cachedData: data }).cachedDataRejected;
}

/** gone says whether a process has exited (no such pid, or a zombie). */
function gone(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return ['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2)[0]);
  } catch {
    return true;
  }
}

function main() {
  if (process.getuid?.() !== 0) return note('not root: no training run (the runtime writes its caches at the pivot)');
  if (!fs.existsSync(BUSYBOX)) return note(`${BUSYBOX} is missing (busybox-static): no training run`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-train-'));
  const id = `train-code-cache-${process.pid}`;
  const root = path.join(tmp, 'state');
  try {
    const rootfs = path.join(tmp, 'bundle', 'rootfs');
    for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'true'));
    const bundle = path.join(tmp, 'bundle');
    const env = { ...process.env, TVISOR_CODE_CACHE_TRAIN: '1' };
    const run = (args, what) => {
      const r = spawnSync(tvisor, ['--root', root, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
      if (r.status !== 0) throw new Error(`${what}: ${r.error?.message ?? `exit status ${r.status}`} ${String(r.stderr ?? '').trim().split('\n').pop() ?? ''}`);
    };
    run(['spec', '--bundle', bundle], 'tvisor spec');
    const specFile = path.join(bundle, 'config.json');
    const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
    spec.process.args = ['/bin/true'];
    spec.process.terminal = false;
    fs.writeFileSync(specFile, JSON.stringify(spec, null, 2));
    // The CLI writes its own cache at its first exit: that of `run` rather than `spec`'s.
    fs.rmSync(path.join(dist, cacheName('tvisor.js')), { force: true });
    const before = new Set(fs.readdirSync(dist));
    // --keep: the sandbox ends on its own (process exit, exit handlers run) instead of
    // being killed by the delete.
    run(['run', '--keep', '--bundle', bundle, id], 'tvisor run');
    const written = fs.readdirSync(dist).filter((f) => !before.has(f) && /\.cache\.\d+$/.test(f));
    const until = Date.now() + 10_000;
    for (const f of written) {
      const pid = Number(f.slice(f.lastIndexOf('.') + 1));
      while (!gone(pid) && Date.now() < until) spawnSync('sleep', ['0.02']);
    }
    const done = [];
    for (const b of BUNDLES) {
      const f = written.find((w) => w.startsWith(`${cacheName(b)}.`));
      if (!f) {
        note(`${b}: its process wrote no cache`);
        continue;
      }
      const data = fs.readFileSync(path.join(dist, f));
      if (!gone(Number(f.slice(f.lastIndexOf('.') + 1))) || !data.length || !accepted(b, data)) {
        note(`${b}: the cache written (${data.length} bytes) is ${data.length ? 'rejected by V8 or its writer still runs' : 'empty'}: left out`);
        fs.rmSync(path.join(dist, f), { force: true });
        continue;
      }
      fs.renameSync(path.join(dist, f), path.join(dist, cacheName(b)));
      done.push(`${b} ${(data.length / 1024).toFixed(0)} KiB`);
      // Older builds' caches of this bundle go, as the launcher's writer removes them (this
      // build's under V8 flags stay: the sentry of a container with a memory limit).
      const thisBuild = cacheName(b).replace(/\.cache$/, '');
      for (const old of fs.readdirSync(dist)) {
        if (old.startsWith(`${b}.`) && !old.startsWith(thisBuild) && /\.cache(\.\d+)?$/.test(old)) fs.rmSync(path.join(dist, old), { force: true });
      }
    }
    for (const f of written) fs.rmSync(path.join(dist, f), { force: true });
    if (done.length) note(`trained after a run of true: ${done.join(', ')}`);
  } catch (e) {
    note(`no training: ${e.message}`);
  } finally {
    spawnSync(tvisor, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
