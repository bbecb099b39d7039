/**
 * heap-native loads tvisor_heap.node (native/heap/heap.cc: V8's memory-reducing
 * collection and the thread's CPU clock) on first use, naming every path it tried when it
 * cannot. The sentry and the gofer load it before they give up their view of the host
 * (the file is a host path): sentry/main.ts, gofer/main.ts.
 */
import { loadAddonFile } from '../ptrace/ptrace-native';

/** HeapAddon is tvisor_heap.node's contract. */
export interface HeapAddon {
  /** lowMemory is v8::Isolate::LowMemoryNotification(): memory-reducing full collections until nothing more is freed (the young generation shrunk too). */
  lowMemory(): void;
  /** threadCpuMs is the calling thread's CPU time in ms (CLOCK_THREAD_CPUTIME_ID). */
  threadCpuMs(): number;
}

let addon: HeapAddon | undefined;

/** loadHeapAddon returns the loaded addon, loading it on first use. */
export function loadHeapAddon(): HeapAddon {
  addon ??= loadAddonFile<HeapAddon>('tvisor_heap.node').exports;
  return addon;
}
