// Bundles each entry point of tvisor into one CommonJS file under dist/.
//
// Every Node process that tvisor starts sits on the container start-up path (a bare
// `node` costs about 75 ms here), so each process loads exactly one pre-bundled file
// and nothing else of ours: no module resolution over hundreds of files at start-up.
// Native modules (koffi, our node-gyp addon) stay external and load from disk.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Entry points: output name -> source. A missing source is skipped (built as the tree grows). */
const entries = {
  tvisor: 'runtime/main.ts',
  gofer: 'gofer/main.ts',
  sentry: 'sentry/main.ts',
};

const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(src)));

// The seccomp programs of the sandbox processes (native/confine) are compiled here, once,
// and each is embedded in its own process's bundle, in the mode it runs in by default
// (kill): a starting sentry or gofer then only decodes its own. The sentry's program is
// 14 KB, the gofer's 4 KB; all six (two processes, three modes) in base64 were 72 KB of
// each bundle and of its code cache, read, decoded and parsed at every start. `--debug`'s
// trap mode and the log mode compile theirs at start-up.
mkdirSync('build', { recursive: true });
await build({
  entryPoints: ['native/confine/seccomp.ts'],
  outfile: 'build/confine-precompile.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi', '*.node'],
  logLevel: 'warning',
});
// The vDSO image (vdso/module.mk) is embedded too: every exec maps it (sentry/loader/vdso.ts).
const vdsoImage = readFileSync('build/vdso/vdso.so').toString('base64');
const { precompile } = createRequire(import.meta.url)('../build/confine-precompile.js');
/** hostFiltersOf is what a bundle embeds as process.env.TVISOR_HOST_FILTERS: its process's program, if any. */
const hostFiltersOf = (name) => JSON.stringify(name === 'sentry' || name === 'gofer' ? precompile(name, ['kill']) : {});

// The sandbox's bundles are minified (whitespace and syntax; names are kept, so stack
// traces still name functions, and the linked source maps give their lines): V8 keeps a
// process's whole source on its heap for as long as the process lives (lazy compilation
// and Function.prototype.toString read it), one copy per sentry and per gofer. Measured
// with `make profile-memory`: the sentry's bundle 1.17 -> 0.78 MB, the gofer's 0.19 ->
// 0.13 MB, each sandbox's V8 large-object space smaller by about that. The CLI's is
// not: it lives for one command.
const MINIFIED = new Set(['sentry', 'gofer']);

// The CLI's bundle leaves yargs and winston to bundles of their own beside it
// (dist/tvisor-yargs.js, dist/tvisor-winston.js), loaded by the CLI on their first use:
// they were 535 of tvisor.js's 818 KB, and bin/tvisor reads, copies and hands V8 the
// whole bundle at every CLI start, while the commands containerd and Docker call (a plain
// create, run, start, state, kill, delete, exec: lean-argv.ts) use neither yargs nor,
// unless something is logged, winston. The sentry's and the gofer's keep theirs.
const CLI_VENDOR = ['yargs', 'winston'];
/** vendorOut is the bundle of a package the CLI loads on first use, relative to dist/tvisor.js. */
const vendorOut = (pkg) => `tvisor-${pkg}`;
const cliVendor = {
  name: 'cli-vendor',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${CLI_VENDOR.join('|')})$`) }, (a) => ({ path: `./${vendorOut(a.path)}.js`, external: true }));
  },
};

// One build per bundle: each gets its own process's seccomp program. Nothing is written in
// place: a running sentry or gofer maps its bundle (bin/tvisor: native/heap/heap.cc's
// mapSource) and compiles functions from it for as long as it lives, so each file is
// replaced by rename (writeOut), and a process keeps the text it started with.
/** COMMON are the options every bundle is built with. */
const COMMON = { write: false, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked', logLevel: 'warning' };
const results = await Promise.all(Object.entries(entryPoints).map(([name, src]) => [build({
  ...COMMON,
  entryPoints: { [name]: src },
  outdir: 'dist',
  ...(MINIFIED.has(name) ? { minifyWhitespace: true, minifySyntax: true } : {}),
  external: ['koffi', '*.node'],
  ...(name === 'tvisor' ? { plugins: [cliVendor] } : {}),
  define: { 'process.env.TVISOR_BUNDLED': '"1"', 'process.env.TVISOR_HOST_FILTERS': JSON.stringify(hostFiltersOf(name)),
    'process.env.TVISOR_VDSO_IMAGE': JSON.stringify(vdsoImage) },
}), ...(name !== 'tvisor' ? [] : CLI_VENDOR.map((pkg) => build({
  stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: '.', sourcefile: `${vendorOut(pkg)}.js` },
  ...COMMON,
  outfile: `dist/${vendorOut(pkg)}.js`,
})))]).flat());
// Each bundle is kept ASCII: a single other character (a comment esbuild keeps, a regex
// literal it does not escape) makes the whole source a two-byte string, which bin/tvisor
// then decodes and V8 hashes at twice the size (~1.7 ms more of every CLI start here).
// What is left is in comments and regex literals, where \uXXXX means the same.
mkdirSync('dist', { recursive: true });
for (const file of results.flatMap((r) => r.outputFiles)) {
  let data = file.contents;
  if (file.path.endsWith('.js')) {
    const text = file.text;
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(text)) data = Buffer.from(text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
  writeOut(file.path, data);
}

/** writeOut replaces `file` with `data` by rename, never rewriting the old file (which a running process may map). */
function writeOut(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
console.log(`built ${Object.keys(entryPoints).map((e) => `dist/${e}.js`).join(' ')}`);
