/**
 * code-cache.ts: the sandbox processes' handle on bin/tvisor's V8 code cache
 * (scripts/tvisor-launcher.js). When a process's bundle had no usable cache, the launcher
 * writes one at exit, by path, with what the process compiled; the launcher leaves the
 * writer at Symbol.for('tvisor.writeCodeCache') for a process that must write it sooner:
 * one about to give up its view of dist/ (native/confine/root.ts), or about to change a
 * V8 flag (native/idle-gc.ts: V8 rejects a cache made under other flags, so one written
 * after the change would be rejected at every later start).
 *
 * A leaf module.
 */

/** writeCodeCacheNow writes this process's code cache now, when the launcher left one to write (it writes once). */
export function writeCodeCacheNow(): void {
  const write = (globalThis as Record<symbol, unknown>)[Symbol.for('tvisor.writeCodeCache')];
  if (typeof write === 'function') write();
}
