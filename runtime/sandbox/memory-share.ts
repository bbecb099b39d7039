/**
 * memory-share: the sandbox's host memory cgroup holds the container's memory limit plus
 * the sandbox's own share (the sentry's heap and its Node processes: sentry/limits.ts
 * sandboxMemoryOverhead), since the sentry keeps the application within the container's
 * limit itself. These convert between the two figures.
 */
import { sandboxMemoryOverhead } from '../../sentry/limits';

/** hostMemory is the host cgroup's memory limit for a container limit (-1 and unset kept). */
export function hostMemory(limit: number | undefined): number | undefined {
  return limit === undefined || limit < 0 ? limit : limit + sandboxMemoryOverhead(limit);
}

/** containerMemory is the container's memory limit behind a host cgroup's (hostMemory's inverse). */
export function containerMemory(host: number | undefined): number | undefined {
  // Unset, unlimited (-1, or the kernel's PAGE_COUNTER_MAX): as it is.
  if (host === undefined || host < 0 || host >= 2 ** 62) return host;
  // The overhead depends on the limit: find the limit whose host figure this is.
  let guess = host;
  for (let i = 0; i < 8; i++) {
    const next = Math.max(0, host - sandboxMemoryOverhead(Math.max(1, guess)));
    if (next === guess) break;
    guess = next;
  }
  return guess;
}
