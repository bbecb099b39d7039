/**
 * koffi.ts loads koffi, tvisor's FFI, for the rest of native/ and platform/.
 *
 * koffi's own entry (`require('koffi')`) finds its native module at run time: it reads
 * Node's ELF header to tell glibc from musl, probes several directories and wraps the
 * module with deprecation shims; ~5 ms of every tvisor process's start-up here, and
 * three processes start per container. Its npm install puts the module at one known path
 * beside it, so that path is tried first; anything unexpected there (another layout, a
 * musl host) falls back to koffi's loader, so the result is the same module either way.
 *
 * The module loads on first use, not at import: a bundle's top-level code loads no native
 * module, so that the bundle can be part of a V8 start-up snapshot (native/snapshot.ts),
 * where an addon cannot be loaded; the first property read after start-up loads it.
 */
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
      // node:module is required here, not imported: a snapshot builder warns about it at the top level.
      const { createRequire } = require('node:module') as typeof import('node:module');
      const native = createRequire(__filename)(direct) as KoffiModule;
      if (typeof native.load === 'function' && typeof native.view === 'function') return native;
    } catch {
      // not there, or not loadable here: koffi's loader knows better
    }
  }
  return require('koffi') as KoffiModule;
}

let loaded: KoffiModule | undefined;

/** koffi is koffi's module, loaded on the first property read (a Proxy: see above). */
const koffi: KoffiModule = new Proxy({} as KoffiModule, {
  get(_target, key) {
    loaded ??= loadKoffi();
    return Reflect.get(loaded, key);
  },
});
export default koffi;
