// Bundles each entry point of tvisor into one CommonJS file under dist/.
//
// Every Node process that tvisor starts sits on the container start-up path (a bare
// `node` costs about 75 ms here), so each process loads exactly one pre-bundled file
// and nothing else of ours: no module resolution over hundreds of files at start-up.
// Native modules (koffi, our node-gyp addon) stay external and load from disk.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

/** Entry points: output name -> source. A missing source is skipped (built as the tree grows). */
const entries = {
  tvisor: 'runtime/main.ts',
  gofer: 'gofer/main.ts',
  sentry: 'sentry/main.ts',
};

const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(src)));

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
  define: { 'process.env.TVISOR_BUNDLED': '"1"' },
});
console.log(`built ${Object.keys(entryPoints).map((e) => `dist/${e}.js`).join(' ')}`);
