/**
 * koffi.ts loads koffi, tvisor's FFI, for the rest of native/ and platform/.
 *
 * koffi's own entry (`require('koffi')`) finds its native module at run time: it reads
 * Node's ELF header to tell glibc from musl, probes several directories and wraps the
 * module with deprecation shims; ~5 ms of every tvisor process's start-up here, and
 * three processes start per container. Its npm install puts the module at one known path
 * beside it, so that path is tried first; anything unexpected there (another layout, a
 * musl host) falls back to koffi's loader, so the result is the same module either way.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type Koffi from 'koffi';

type KoffiModule = typeof Koffi;

function loadKoffi(): KoffiModule {
  // Bundled, __dirname is dist/; under ts-jest it is native/: both sit beside node_modules/.
  // (Code evaluated in a worker has no file of its own: it takes koffi's loader.)
  if (path.isAbsolute(__filename)) {
    const triplet = `${process.platform}-${process.arch}`;
    const direct = path.join(__dirname, '..', 'node_modules', '@koromix', `koffi-${triplet}`, `${process.platform}_${process.arch}`, 'koffi.node');
    try {
      const native = createRequire(__filename)(direct) as KoffiModule;
      if (typeof native.load === 'function' && typeof native.view === 'function') return native;
    } catch {
      // not there, or not loadable here: koffi's loader knows better
    }
  }
  return require('koffi') as KoffiModule;
}

const koffi: KoffiModule = loadKoffi();
export default koffi;
