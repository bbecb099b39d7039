/**
 * resources-update.ts applies `tvisor update` inside the sandbox: the runtime has set the
 * host cgroup (with tvisor's own share on top); here the new linux.resources become what
 * the sentry enforces on the application (the memory bound of mm/oom.ts and the overcommit
 * limit, the pids limit of kernel/pids-limit.ts) and what it shows (the /sys/fs/cgroup
 * views read the spec's resources at each read).
 */
import * as os from 'node:os';
import type { LinuxResources, Spec } from '../oci/config';
import { mergeResources } from '../oci/merge-resources';
import { pidsLimitOf, sandboxPids } from './kernel/pids-limit';
import { limitsFor, memoryLimitOf } from './limits';
import { MemoryManager } from './mm/mm';
import { sandboxMemory } from './mm/oom';
import { atProcessStart } from '../native/snapshot';

/** hostRam is read at the process's start, before the sentry is confined (sysinfo is not in its allowlist). */
let hostRam = 0;
atProcessStart(() => { hostRam = os.totalmem(); });

/** updateResources merges `r` into spec.linux.resources and applies the limits the sentry enforces. */
export function updateResources(spec: Spec, r: LinuxResources): void {
  spec.linux = spec.linux ?? {};
  spec.linux.resources = mergeResources(spec.linux.resources, r);
  if (r.memory) {
    const l = limitsFor(memoryLimitOf(spec, hostRam));
    MemoryManager.commitLimit = l.memory;
    sandboxMemory.limit = l.memory;
  }
  if (r.pids) sandboxPids.limit = pidsLimitOf(spec);
}
