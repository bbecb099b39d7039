// Bundles each entry point of tvisor into one CommonJS file under dist/.
//
// Every Node process that tvisor starts sits on the container start-up path (a bare
// `node` costs about 75 ms here), so each process loads exactly one pre-bundled file
// and nothing else of ours: no module resolution over hundreds of files at start-up.
// Native modules (koffi, our node-gyp addon) stay external and load from disk.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Entry points: output name -> source. A missing source is skipped (built as the tree grows). */
const entries = {
  tvisor: 'runtime/main.ts',
  gofer: 'gofer/main.ts',
  sentry: 'sentry/main.ts',
};

const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(src)));

// The seccomp programs of the sandbox processes (native/confine) are compiled here, once,
// and embedded: a starting sentry or gofer then only decodes its own.
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
const hostFilters = JSON.stringify(createRequire(import.meta.url)('../build/confine-precompile.js').precompileAll());

await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['koffi', '*.node'],
  logLevel: 'warning',
  define: { 'process.env.TVISOR_BUNDLED': '"1"', 'process.env.TVISOR_HOST_FILTERS': JSON.stringify(hostFilters),
    'process.env.TVISOR_VDSO_IMAGE': JSON.stringify(vdsoImage) },
});
console.log(`built ${Object.keys(entryPoints).map((e) => `dist/${e}.js`).join(' ')}`);
