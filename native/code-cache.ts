/**
 * code-cache.ts: the sandbox processes' handle on bin/tvisor's V8 code cache
 * (scripts/tvisor-launcher.js). When a process's bundle had no usable cache, the launcher
 * writes one at exit, by path, with what the process compiled; the launcher leaves the
 * writer at Symbol.for('tvisor.writeCodeCache') for a process that must write it sooner:
 * one about to give up its view of dist/ (native/confine/root.ts), or about to change a
 * V8 flag (V8 rejects a cache made under other flags, so one written after the change
 * would be rejected at every later start) or to collect in a way that flushes bytecode
 * (native/idle-gc.ts: the cache would lack the flushed functions).
 *
 * The build's training run (scripts/train-code-cache.mjs) sets CODE_CACHE_TRAIN_ENV: the
 * sentry and the gofer of that one trusted `true` container then write their caches at
 * exit, after init's run, through a descriptor the launcher opened at load (confined,
 * they have no path to dist/), into a file of their pid that only the training script
 * renames into place once it has checked it. Without the training, a confined process's
 * cache holds only what it compiled before its pivot, and every later start compiles
 * init's run, the 9P handlers and the teardown again.
 *
 * A leaf module.
 */

/** CODE_CACHE_TRAIN_ENV is the variable of the build's training run (see above). */
export const CODE_CACHE_TRAIN_ENV = 'TVISOR_CODE_CACHE_TRAIN';

/**
 * CodeCacheMoment says why a cache is written early: 'path' when the process is about to
 * lose its path to dist/ (a training process keeps a descriptor and waits for its exit),
 * 'flags' when a V8 flag is about to change or bytecode may be flushed (any cache is written now).
 */
export type CodeCacheMoment = 'path' | 'flags';

/** writeCodeCacheNow writes this process's code cache now, when the launcher left one to write (it writes once). */
export function writeCodeCacheNow(moment: CodeCacheMoment): void {
  const write = (globalThis as Record<symbol, unknown>)[Symbol.for('tvisor.writeCodeCache')];
  if (typeof write === 'function') write(moment);
}

/** codeCacheEnv is the training variable to hand to a sandbox process (empty unless this process has it). */
export function codeCacheEnv(): NodeJS.ProcessEnv {
  return process.env[CODE_CACHE_TRAIN_ENV] === '1' ? { [CODE_CACHE_TRAIN_ENV]: '1' } : {};
}
