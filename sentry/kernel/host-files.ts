/**
 * host-files: the few host files the sentry reads about its machine before it confines
 * itself (/proc/cpuinfo, /proc/self/status, /proc/self/cgroup, /proc/cgroups,
 * /sys/devices/system/cpu/...). Each is read once and kept, so that the parts that need
 * the same file (the vDSO clock and /proc/cpuinfo both want cpuinfo's flags; the CPU
 * affinity and the capability check both want /proc/self/status) share one read at
 * start-up. Nothing here is read after confinement: a file first asked for then reads as
 * missing.
 */
import { readFileSync } from 'node:fs';

const kept = new Map<string, string | null>();

/** hostFile returns the host file at `path` (null when it cannot be read), read once. */
export function hostFile(path: string): string | null {
  if (kept.has(path)) return kept.get(path)!;
  let text: string | null;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = null;
  }
  kept.set(path, text);
  return text;
}
