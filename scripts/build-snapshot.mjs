// Builds the V8 start-up snapshots of one bundle (native/snapshot.ts says why and how
// they are used): `node scripts/build-snapshot.mjs <bundle>`, run in the tree (dist/ is
// ./dist). The bundle names the Node flag sets its process is started with through an
// exported snapshotFlagSets() (each set one string, flags separated by spaces); without
// one it is started with none. Writes dist/<bundle>.<node version><flags hash>.blob for
// each set (the name from native/snapshot.ts), and removes the bundle's other blobs
// (older Node versions or bundles, flag sets no longer used).
//
// The bundle is evaluated in `node --build-snapshot` through an entry script made here
// (build/snapshot/<bundle>-entry.js): the bundle's source inside a CommonJS wrapper whose
// `require` loads built-in modules only during the build and, in a process started from
// the blob, whatever bin/tvisor hands it (setRequire). While the bundle's top-level code
// runs, the entry traps reads of the running process (clocks, host memory, environment,
// argv, files, timers, listeners, addons) that the bundle's own code makes outside an
// atProcessStart callback: such a value would be the builder's in every process. The
// build then fails naming the module.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const [bundle] = process.argv.slice(2);
if (!bundle) {
  console.error('usage: build-snapshot.mjs <bundle>');
  process.exit(2);
}
const dist = path.resolve('dist');
const file = path.join(dist, `${bundle}.js`);
const st = statSync(file);
// bin/tvisor takes the snapshot only for this very file: same path, size and mtime.
const stamp = `${st.size}-${Math.trunc(st.mtimeMs)}`;

// The blobs' names come from native/snapshot.ts, as the runtime computes them.
mkdirSync('build/snapshot', { recursive: true });
const namesJs = path.resolve('build/snapshot/names.js');
await build({
  entryPoints: [path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'native', 'snapshot.ts')],
  outfile: namesJs, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning',
});
const require = createRequire(import.meta.url);
const { snapshotBlobName } = require(namesJs);
// The flag sets the bundle declares (loading it runs its top-level code only).
const declared = require(file).snapshotFlagSets?.() ?? [''];

// The guard, run by the entry before the bundle and undone after it (nothing of it stays
// in the snapshot). A call counts as allowed when atProcessStart is on its stack.
const prelude = `'use strict';
const __trapped = [];
const __undo = [];
// The builder runs without stack traces (no Error.stackTraceLimit): on for the guard only.
const __limit = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
Error.stackTraceLimit = 30;
__undo.push(() => { if (__limit) Object.defineProperty(Error, 'stackTraceLimit', __limit); else delete Error.stackTraceLimit; });
// A read counts when the bundle's own code makes it (Node's built-in modules, loaded by
// the bundle's require, are Node's to snapshot) outside an atProcessStart callback.
// An addon counts whoever loads it (koffi's loader and Node's require sit in between).
function __counts(stack, what) {
  const caller = stack.split('\\n')[2] || '';
  const mine = what === 'process.dlopen()' ? stack.includes(${JSON.stringify(`${bundle}-entry.js:`)}) : caller.includes(${JSON.stringify(`${bundle}-entry.js:`)});
  return mine && !/\\batProcessStart\\d*\\b/.test(stack);
}
function __trap(obj, key, what) {
  const orig = obj[key];
  const wrapped = function (...args) {
    const stack = new Error().stack || '';
    if (__counts(stack, what)) __trapped.push({ what, stack });
    return orig.apply(this, args);
  };
  if (typeof orig.bigint === 'function') wrapped.bigint = orig.bigint;
  obj[key] = wrapped;
  __undo.push(() => { obj[key] = orig; });
}
function __trapValue(obj, key, what) {
  const orig = obj[key];
  const proxy = new Proxy(orig, {
    get(t, k, r) {
      const stack = new Error().stack || '';
      if (typeof k === 'string' && __counts(stack, what)) __trapped.push({ what: what + '.' + k, stack });
      return Reflect.get(t, k, r);
    },
  });
  obj[key] = proxy;
  __undo.push(() => { obj[key] = orig; });
}
{
  const os = require('os'), fs = require('fs');
  __trap(process.hrtime, 'bigint', 'process.hrtime.bigint()');
  __trap(process, 'hrtime', 'process.hrtime()');
  __trap(Date, 'now', 'Date.now()');
  for (const k of ['totalmem', 'freemem', 'cpus', 'hostname', 'uptime', 'loadavg', 'networkInterfaces', 'userInfo', 'homedir', 'tmpdir']) __trap(os, k, 'os.' + k + '()');
  for (const k of ['readFileSync', 'existsSync', 'statSync', 'lstatSync', 'openSync', 'readdirSync', 'accessSync', 'realpathSync', 'readlinkSync']) __trap(fs, k, 'fs.' + k + '()');
  for (const k of ['cwd', 'on', 'once', 'dlopen', 'umask', 'getuid', 'geteuid', 'getgid']) __trap(process, k, 'process.' + k + '()');
  for (const k of ['setTimeout', 'setInterval', 'setImmediate']) __trap(globalThis, k, k + '()');
  __trapValue(process, 'env', 'process.env');
  __trapValue(process, 'argv', 'process.argv');
}
`;
const source = readFileSync(file, 'utf8');
const preludeLines = prelude.split('\n').length;
const entry = `${prelude}
const __mod = { exports: {} };
let __require = require;
(function (exports, require, module, __filename, __dirname) {${source}
})(__mod.exports, (id) => __require(id), __mod, ${JSON.stringify(file)}, ${JSON.stringify(dist)});
for (const u of __undo.reverse()) u();
if (__trapped.length) {
  const src = require('fs').readFileSync(${JSON.stringify(file)}, 'utf8').split('\\n');
  // The modules of the bundle's own frames, innermost first (esbuild heads each module's
  // code with a '// path' comment).
  const moduleAt = (n) => {
    let line = n - ${preludeLines} - 1;
    while (line >= 0 && !/^\\/\\/ [\\w./-]+\\.[tj]s$/.test(src[line])) line--;
    return (line >= 0 ? src[line].slice(3) : 'the bundle') + ':' + (n - ${preludeLines});
  };
  const where = (stack) => {
    const re = new RegExp(${JSON.stringify(`${bundle}-entry\\.js:(\\d+)`)}, 'g');
    const mods = [...stack.split('\\n').slice(2).join('\\n').matchAll(re)].map((m) => moduleAt(Number(m[1])));
    return mods.length ? mods.slice(0, 4).join(' < ') + ' (${bundle}.js lines)' : 'Node itself';
  };
  const seen = new Set();
  for (const t of __trapped) {
    const msg = t.what + ' at the top level of ' + where(t.stack);
    if (!seen.has(msg)) { seen.add(msg); process.stderr.write('build-snapshot: ${bundle}: ' + msg + '\\n'); }
  }
  process.stderr.write('build-snapshot: ${bundle}: read such state in an atProcessStart callback (native/snapshot.ts)\\n');
  process.exit(1);
}
globalThis[Symbol.for('tvisor.snapshot')] = {
  bundle: ${JSON.stringify(`${bundle}.js`)},
  file: ${JSON.stringify(file)},
  stamp: ${JSON.stringify(stamp)},
  exports: __mod.exports,
  setRequire(r) { __require = r; },
};
`;
const entryFile = path.resolve(`build/snapshot/${bundle}-entry.js`);
writeFileSync(entryFile, entry);

const keep = new Set();
for (const set of declared) {
  const flags = set.split(' ').filter(Boolean);
  const name = snapshotBlobName(bundle, flags);
  const tmp = path.join(dist, `${name}.${process.pid}`);
  const r = spawnSync(process.execPath, [...flags, '--snapshot-blob', tmp, '--build-snapshot', entryFile], { stdio: 'inherit', env: {} });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    console.error(`build-snapshot: ${bundle}: node --build-snapshot ${flags.join(' ')} failed (status ${r.status ?? r.signal})`);
    process.exit(1);
  }
  renameSync(tmp, path.join(dist, name));
  keep.add(name);
}
for (const f of readdirSync(dist)) {
  if (f.startsWith(`${bundle}.`) && /\.blob(\.\d+)?$/.test(f) && !keep.has(f)) rmSync(path.join(dist, f), { force: true });
}
console.log(`built ${[...keep].map((f) => `dist/${f}`).join(' ')}`);
