/**
 * memory-report.ts: what a sandbox process's memory holds as V8 and Node see it, for
 * `make profile-memory` (spec-tests/bench/profile-memory.ts), which adds what only
 * /proc/PID/smaps shows (text, malloc, stacks, the memory file).
 *
 * A debug switch: with TVISOR_MEMORY_REPORT set in its environment (the runtime passes it
 * on to the sentry and the gofer, as TVISOR_PROFILE) and a start-up profile open
 * (native/startup-profile.ts: the line goes through its descriptor, which a confined
 * process keeps), the process appends one `memory:{json}` step to the profile every
 * second. Without the variable nothing runs: one environment read at start.
 *
 * A leaf module, imported by the sentry and the gofer.
 */
import { profileMark } from './startup-profile';

/** MEMORY_REPORT_ENV is the variable that turns the report on. */
export const MEMORY_REPORT_ENV = 'TVISOR_MEMORY_REPORT';

/** MemoryReport is one report: kB figures, by Node (process.memoryUsage) and by V8 heap space (physical size). */
export interface MemoryReport {
  /** heap totals of v8.getHeapStatistics() in kB: committed, physical, used, malloced (V8's own), external (Buffers and other memory V8 was told of). */
  node: Record<string, number>;
  /** spaces maps each V8 heap space to its committed physical size in kB. */
  spaces: Record<string, number>;
  /** code is V8's code and metadata size (getHeapCodeStatistics), in kB. */
  code: number;
}

const kB = (n: number): number => Math.round(n / 1024);

/** memoryReport takes this process's report now. */
export function memoryReport(): MemoryReport {
  // Not process.memoryUsage(): it reads /proc/self, which a confined process no longer sees.
  // node:v8 is required here, not imported: loading it costs every sandbox process 1.5-3 ms
  // of its start-up, for a report that is off unless asked for.
  const v8 = require('node:v8') as typeof import('node:v8');
  const h = v8.getHeapStatistics();
  const node: Record<string, number> = {
    committed: kB(h.total_heap_size), physical: kB(h.total_physical_size), used: kB(h.used_heap_size),
    malloced: kB(h.malloced_memory), peakMalloced: kB(h.peak_malloced_memory), external: kB(h.external_memory),
  };
  const spaces: Record<string, number> = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = kB(s.physical_space_size);
  const c = v8.getHeapCodeStatistics();
  return { node, spaces, code: kB(c.code_and_metadata_size + c.bytecode_and_metadata_size) };
}

/** memoryReportEnv is the switch to hand to a child process: empty when it is off. */
export function memoryReportEnv(): NodeJS.ProcessEnv {
  const v = process.env[MEMORY_REPORT_ENV];
  return v ? { [MEMORY_REPORT_ENV]: v } : {};
}

/** startMemoryReport records this process's report in its start-up profile every second (unreferenced: it keeps nothing alive) when the switch is on. */
export function startMemoryReport(): void {
  if (!process.env[MEMORY_REPORT_ENV]) return;
  const mark = () => profileMark(`memory:${JSON.stringify(memoryReport())}`);
  mark();
  setInterval(mark, 1000).unref();
}
