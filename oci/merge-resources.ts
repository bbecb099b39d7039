/** merge-resources.ts: how `update` combines new linux.resources with those in force. */
import type { LinuxResources } from './config';

/** mergeResources is `old` with every field present in `r` replaced (what the record keeps). */
export function mergeResources(old: LinuxResources | undefined, r: LinuxResources): LinuxResources {
  const out: LinuxResources = { ...(old ?? {}) };
  if (r.memory) out.memory = { ...out.memory, ...r.memory };
  if (r.cpu) out.cpu = { ...out.cpu, ...r.cpu };
  if (r.pids) out.pids = { ...out.pids, ...r.pids };
  if (r.blockIO) out.blockIO = { ...out.blockIO, ...r.blockIO };
  if (r.unified) out.unified = { ...out.unified, ...r.unified };
  return out;
}
