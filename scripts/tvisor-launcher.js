#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS node
// tvisor's executable. Installed as bin/tvisor by `make`.
//
// Node starts without NODE_EXTRA_CA_CERTS and NODE_OPTIONS: tvisor makes no TLS
// connection, and a CA bundle parsed at every start costs ~35 ms per process here (three
// processes per container start).
//
// It picks the one bundle a process needs before loading anything else: the gofer and
// the sentry are started by tvisor itself and must not pay for loading the CLI.
//
// Each bundle is compiled with V8's code cache (dist/<bundle>.cache): without it, every
// start parses the bundle and compiles again each function it calls (~10 ms of the CLI's
// and of the sentry's start-up here). The cache is written by the first process that
// finds it missing or stale, when that process exits, so that it holds the functions a
// real run compiled. V8 checks a cache against Node's version and flags but knows the
// source only by its length, so the cache's name carries the bundle's size and mtime: a
// rebuilt bundle never meets the cache of another build. V8 also rejects a cache made
// under other V8 flags (the sentry's --max-old-space-size follows the container's memory
// limit: sentry/limits.ts), so the name carries a hash of the flags too, and sentries of
// differently limited containers keep one cache each instead of rewriting a shared one at
// every start. A rejected cache only costs the compile it was meant to save.
//
// The build trains the sentry's and the gofer's caches (scripts/train-code-cache.mjs): with
// TVISOR_CODE_CACHE_TRAIN=1 (native/code-cache.ts), such a process compiles its bundle
// without a cache and writes one at exit, after its container's init has run, through a
// descriptor opened here into `<cache>.<pid>` (confined, it has lost the path to dist/ by
// then); only the training script renames that file into place, after checking it. The
// CLI is never trained (it writes its cache at exit, unconfined).
//
// A process started with `--snapshot-blob dist/<bundle>.*.blob` (the runtime starts the
// sentry so: native/snapshot.ts) already holds its bundle evaluated: it is taken from the
// snapshot, without compiling or running anything, when the snapshot was made of the
// bundle file on disk; otherwise the bundle is loaded as above and the reason is kept for
// the process's debug log.
//
// Start-up profile (`make profile-start`): with TVISOR_PROFILE=<file> in its environment,
// each process appends one line per step of its start to that file, `<ms since the epoch>
// <pid> <process> <step>`, through a descriptor opened here (a confined sandbox process
// keeps it after it has lost the path). Node's own steps come from perf_hooks; the bundles
// add theirs through the function stored at Symbol.for('tvisor.profile') (see
// native/startup-profile.ts). Without the variable nothing is opened or written.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { createRequire } = require('module');

const dist = path.join(__dirname, '..', 'dist');
const sub = process.argv[2];
const bundle = sub === 'gofer' ? 'gofer.js' : sub === 'sentry' || sub === 'syscalls' || sub === 'platforms' ? 'sentry.js' : 'tvisor.js';
const argv = bundle === 'tvisor.js' ? process.argv.slice(2) : process.argv.slice(3);

/** startProfile opens TVISOR_PROFILE, records Node's boot steps and returns the mark function (undefined when off). */
function startProfile() {
  const file = process.env.TVISOR_PROFILE;
  if (!file) return undefined;
  let fd;
  try {
    fd = fs.openSync(file, 'a', 0o600);
  } catch {
    return undefined;
  }
  const { performance } = require('perf_hooks');
  const who = bundle.replace(/\.js$/, '');
  const line = (t, step) => {
    try {
      fs.writeSync(fd, `${t.toFixed(3)} ${process.pid} ${who} ${step}\n`);
    } catch {
      // the file is gone or full: the profile is incomplete, the process goes on
    }
  };
  const origin = performance.timeOrigin;
  const nt = performance.nodeTiming;
  line(origin, 'process-start');
  line(origin + nt.v8Start, 'v8-start');
  line(origin + nt.bootstrapComplete, 'node-bootstrapped');
  const mark = (step) => line(origin + performance.now(), step);
  mark('launcher');
  process.on('exit', () => mark('exit'));
  return mark;
}
const profileMark = startProfile();
if (profileMark) globalThis[Symbol.for('tvisor.profile')] = profileMark;

/** flagsTag is a short FNV-1a hash of this process's Node/V8 flags ('' without flags). */
function flagsTag() {
  const flags = process.execArgv.join(' ');
  if (!flags) return '';
  let h = 0x811c9dc5;
  for (let i = 0; i < flags.length; i++) h = Math.imul(h ^ flags.charCodeAt(i), 0x01000193) >>> 0;
  return `-${h.toString(16)}`;
}

/**
 * mapper returns tvisor_heap.node's file mappings (native/heap/heap.cc: mapSource,
 * mapBytes) for a sandbox process's load, or undefined (the CLI, or no built addon). The
 * sentry and the gofer load that addon anyway (their idle collection); it is kept at
 * Symbol.for('tvisor.heapAddon') for native/heap/heap-native.ts, so it is opened once.
 */
function mapper() {
  if (bundle === 'tvisor.js') return undefined;
  const dirs = [process.env.TVISOR_NATIVE_DIR, path.join(__dirname, '..')].filter(Boolean);
  for (const dir of dirs) {
    const file = path.join(dir, 'native', 'build', 'Release', 'tvisor_heap.node');
    if (!fs.existsSync(file)) continue;
    const mod = { exports: {} };
    try {
      process.dlopen(mod, file);
    } catch {
      return undefined;
    }
    globalThis[Symbol.for('tvisor.heapAddon')] = mod.exports;
    return mod.exports;
  }
  return undefined;
}

/** WRAP_HEAD and WRAP_TAIL are the CommonJS wrapper the bundle's text is compiled in. */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {';
const WRAP_TAIL = '\n})';

/**
 * load runs a CommonJS bundle through vm.Script with its code cache, and returns its exports.
 *
 * A sandbox process maps the bundle and its cache instead of reading them (mapper): the
 * sentry's 0.8 MB of source and 1 MB of cache cost 450 page faults and two copies per start
 * when read (~10 ms of its CPU here), and its source stayed on its V8 heap for its lifetime,
 * a private copy per sandbox; mapped, both are the host's page cache, shared by all.
 */
function load(file) {
  const st = fs.statSync(file);
  const build = `${st.size}-${Math.trunc(st.mtimeMs)}`;
  const cacheFile = `${file}.${build}${flagsTag()}.cache`;
  const training = process.env.TVISOR_CODE_CACHE_TRAIN === '1' && bundle !== 'tvisor.js';
  const map = mapper();
  let cachedData;
  try {
    if (!training) cachedData = map ? map.mapBytes(cacheFile) : fs.readFileSync(cacheFile);
  } catch {
    // none yet
  }
  let wrapper;
  try {
    wrapper = map?.mapSource(file, WRAP_HEAD, WRAP_TAIL);
  } catch {
    // read below
  }
  // Read as latin1: scripts/build.mjs keeps every bundle ASCII, so that is the same text,
  // copied rather than UTF-8-validated and decoded (the sentry's 1.1 MB took 2.7-7 ms
  // as utf8 and 1.5-1.9 as latin1 in fresh processes here).
  wrapper ??= `${WRAP_HEAD}${fs.readFileSync(file, 'latin1')}${WRAP_TAIL}`;
  const script = new vm.Script(wrapper, { filename: file, cachedData });
  if (training) {
    // Opened now, written at exit or before a V8 flag changes (idle-gc.ts), once.
    let fd = -1;
    try {
      fd = fs.openSync(`${cacheFile}.${process.pid}`, 'wx', 0o644);
    } catch {
      // dist/ read-only: nothing to train
    }
    let written = fd < 0;
    const writeTrained = (moment) => {
      if (written || moment === 'path') return;
      written = true;
      try {
        const data = script.createCachedData();
        for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off);
        fs.closeSync(fd);
      } catch {
        // a short file: the training script's check rejects it
      }
    };
    process.once('exit', () => writeTrained('exit'));
    globalThis[Symbol.for('tvisor.writeCodeCache')] = writeTrained;
  } else if (!cachedData || script.cachedDataRejected) {
    let written = false;
    const writeCache = () => {
      if (written) return;
      written = true;
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
        fs.renameSync(tmp, cacheFile);
        const base = path.basename(file);
        for (const f of fs.readdirSync(path.dirname(file))) {
          // Older builds' caches (this build's under other flags stay), and the temporary
          // files of writers killed before their rename.
          const thisBuild = f.startsWith(`${base}.${build}`) && f.endsWith('.cache');
          const stale = !thisBuild && f !== path.basename(tmp) && /\.cache(\.\d+)?$/.test(f);
          if (f.startsWith(`${base}.`) && stale) fs.rmSync(path.join(path.dirname(file), f), { force: true });
        }
      } catch {
        // dist/ read-only: every start compiles, as plain require would
      }
    };
    process.once('exit', writeCache);
    // A sandbox process that confines itself (native/confine) loses the path to dist/
    // before it exits: it writes the cache just before, with what its start-up compiled.
    globalThis[Symbol.for('tvisor.writeCodeCache')] = writeCache;
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, path.dirname(file));
  return mod.exports;
}

/**
 * fromSnapshot returns the bundle's exports when this process started from its V8
 * start-up snapshot (`--snapshot-blob`, native/snapshot.ts) made of this very file, and
 * hands it a require for its first-use loads (koffi, the addons). Otherwise undefined, with
 * the reason kept at Symbol.for('tvisor.snapshotFallback') for the process's debug log.
 */
function fromSnapshot(file) {
  const snap = globalThis[Symbol.for('tvisor.snapshot')];
  if (!snap) return undefined;
  let reason;
  if (snap.bundle !== bundle || snap.file !== file) {
    reason = `the start-up snapshot holds ${snap.file}, not ${file}`;
  } else {
    let st;
    try {
      st = fs.statSync(file);
    } catch {
      // the bundle is gone: load() names it
    }
    if (st && snap.stamp === `${st.size}-${Math.trunc(st.mtimeMs)}`) {
      snap.setRequire(createRequire(file));
      return snap.exports;
    }
    reason = `the start-up snapshot is stale (${file} was rebuilt after it): loading the bundle`;
  }
  globalThis[Symbol.for('tvisor.snapshotFallback')] = reason;
  return undefined;
}

const bundleFile = path.join(dist, bundle);
const mod = fromSnapshot(bundleFile) ?? load(bundleFile);
if (profileMark) profileMark('bundle-evaluated');
const exit = sub === 'syscalls' ? mod.syscallsMain(argv) : sub === 'platforms' ? mod.platformsMain(argv) : mod.main(argv);
if (exit && typeof exit.then === 'function') {
  exit.then((code) => { if (typeof code === 'number') process.exitCode = code; }, (err) => {
    process.stderr.write(`tvisor: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
} else if (typeof exit === 'number') {
  process.exitCode = exit;
}
