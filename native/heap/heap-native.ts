/**
 * heap-native loads tvisor_heap.node (native/heap/heap.cc: V8's memory-reducing
 * collection, the thread's CPU clock, the file mappings bin/tvisor loads a sandbox's
 * bundle with) on first use, naming every path it tried when it cannot. The sentry and the
 * gofer load it before they give up their view of the host (the file is a host path):
 * sentry/main.ts, gofer/main.ts.
 */
import { loadAddonFile } from '../ptrace/ptrace-native';

/** HeapAddon is tvisor_heap.node's contract. */
export interface HeapAddon {
  /** lowMemory is v8::Isolate::LowMemoryNotification(): memory-reducing full collections until nothing more is freed (the young generation shrunk too). */
  lowMemory(): void;
  /** threadCpuMs is the calling thread's CPU time in ms (CLOCK_THREAD_CPUTIME_ID). */
  threadCpuMs(): number;
  /** mapSource is prefix + the file's text + suffix as an external string over a read-only mapping of the file (undefined where Node cannot make one); bin/tvisor's bundle load. */
  mapSource(file: string, prefix: string, suffix: string): string | undefined;
  /** mapBytes is a Buffer over a read-only mapping of the file; bin/tvisor's code-cache load. */
  mapBytes(file: string): Buffer;
}

let addon: HeapAddon | undefined;

/** loadHeapAddon returns the loaded addon, loading it on first use. */
export function loadHeapAddon(): HeapAddon {
  // bin/tvisor may have loaded it already, to map the bundle (scripts/tvisor-launcher.js).
  addon ??= (globalThis as Record<symbol, HeapAddon | undefined>)[Symbol.for('tvisor.heapAddon')] ?? loadAddonFile<HeapAddon>('tvisor_heap.node').exports;
  return addon;
}
