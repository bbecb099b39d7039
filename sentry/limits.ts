/**
 * limits derives every resource bound of a sandbox from one figure, the container's memory
 * limit (linux.resources.memory.limit; without one, the host's RAM, as Linux sizes its own
 * defaults from RAM): the sentry's V8 heap, the sandbox-wide budget of in-memory inodes
 * and the one of IPC objects (kernel/ipc/budget.ts),
 * the default tmpfs `size=` and `nr_inodes=`, the overcommit limit of a single mapping and
 * RLIMIT_SIGPENDING. The aim is that the application meets ENOSPC, ENOMEM or EAGAIN before
 * the sentry meets its own heap limit (a V8 fatal error kills the whole sandbox).
 *
 * Pure functions only (the runtime imports this module to build the sentry's argv).
 *
 * Figures measured on Node 20 (x86-64) for this code:
 * - A tmpfs file costs about 500 bytes of V8 heap: 200,000 empty files made through
 *   Tmpfs.create plus a Dentry each grew heapUsed by 501 bytes a file (after gc). Longer
 *   names and directories cost more: the budget counts INODE_HEAP_BYTES (1 KiB) a name,
 *   and one more unit for each KiB of a symlink's target (a string on the heap).
 * - File bytes live in the memory file (64 KiB chunks, as application memory), outside
 *   the V8 heap: the heap holds a chunk map entry a stored chunk. So `size=` bounds the
 *   memory file's use by tmpfs (pages stored), not the sentry's heap.
 * - A sentry running a shell that lists / and sleeps had 7.7-9.4 MB of heap in use
 *   (--trace-gc: scavenges from 9.4 to 7.7 MB); SENTRY_BASE_HEAP keeps 64 MiB of the heap
 *   for the sentry itself (tasks, buffers in flight, the gofer client's dentries) before
 *   the inode budget is counted, and the budget takes half of the rest.
 */
import * as os from 'node:os';

const MiB = 2 ** 20, GiB = 2 ** 30;
const PAGE = 4096;

/** INODE_HEAP_BYTES is the V8 heap counted for one in-memory inode with its dentry. */
export const INODE_HEAP_BYTES = 1024;
/** SENTRY_BASE_HEAP is the heap kept for the sentry's own working set. */
export const SENTRY_BASE_HEAP = 64 * MiB;
/** Bounds of the sentry's heap whatever the memory limit: Node needs some to start, and
 * past 4 GiB V8's pointer compression no longer applies. */
export const MIN_HEAP = 192 * MiB, MAX_HEAP = 4 * GiB;

/** SandboxLimits are the bounds of one sandbox. */
export interface SandboxLimits {
  /** memory is the container's memory limit in bytes (or the host's RAM). */
  memory: number;
  /** heapBytes is the sentry's V8 old-space limit (--max-old-space-size). */
  heapBytes: number;
  /** inodeBudget bounds the in-memory inodes (tmpfs files) of the whole sandbox. */
  inodeBudget: number;
  /** tmpfsBytes is the default `size=` of a tmpfs (half the memory, as Linux). */
  tmpfsBytes: number;
  /** tmpfsInodes is the default `nr_inodes=` of a tmpfs (half the memory's pages, as Linux, within the budget). */
  tmpfsInodes: number;
  /** sigpending is the default RLIMIT_SIGPENDING (Linux: RAM / 256 KiB, i.e. max_threads / 2). */
  sigpending: number;
  /** ipcBytes bounds the sentry heap held by IPC objects (queued messages, semaphore sets): a quarter of what the sentry does not keep for itself. */
  ipcBytes: number;
}

/** memoryLimitOf returns the spec's memory limit in bytes, or the host's RAM when none is set (or it is -1, "unlimited"). */
export function memoryLimitOf(spec: { linux?: { resources?: { memory?: { limit?: number } } } } | undefined, hostRam = os.totalmem()): number {
  const l = spec?.linux?.resources?.memory?.limit;
  return typeof l === 'number' && Number.isSafeInteger(l) && l > 0 ? Math.min(l, hostRam) : hostRam;
}

/** limitsFor derives a sandbox's bounds from its memory limit (bytes). */
export function limitsFor(memory: number): SandboxLimits {
  // A quarter of the memory, rounded down to a power of two: the heap flag then takes one
  // of six values, and bin/tvisor keeps one V8 code cache per flag set (V8 rejects a cache
  // made under other flags), so differently limited sandboxes do not recompile at start.
  const quarter = Math.max(1, Math.floor(memory / 4 / MiB));
  const heapBytes = Math.min(MAX_HEAP, Math.max(MIN_HEAP, 2 ** Math.floor(Math.log2(quarter)) * MiB));
  // Half of what the sentry does not keep for itself goes to in-memory inodes.
  const inodeBudget = Math.floor((heapBytes - SENTRY_BASE_HEAP) / 2 / INODE_HEAP_BYTES);
  const tmpfsBytes = Math.floor(memory / 2 / PAGE) * PAGE;
  const tmpfsInodes = Math.min(inodeBudget, Math.floor(memory / 2 / PAGE));
  const sigpending = Math.max(64, Math.floor(memory / (256 * 1024)));
  const ipcBytes = Math.floor((heapBytes - SENTRY_BASE_HEAP) / 4);
  return { memory, heapBytes, inodeBudget, tmpfsBytes, tmpfsInodes, sigpending, ipcBytes };
}

/** SANDBOX_BASE_BYTES is the sandbox's own memory besides the sentry's V8 heap: the
 * sentry's and gofer's Node processes (code, native heap, buffers) and the stubs, about
 * 100 MB resident when idle, with room for their I/O buffers. */
const SANDBOX_BASE_BYTES = 192 * MiB;

/**
 * sandboxMemoryOverhead is what the sandbox's host cgroup holds beyond the container's
 * memory `limit` (bytes): the sentry's heap limit and SANDBOX_BASE_BYTES. The sentry keeps
 * the application within `limit` itself (its OOM killer, sentry/mm/oom.ts), so the host
 * cgroup gets limit + overhead: at `limit` alone the host kernel would kill the sentry's
 * Node process, and with it every process of the container, before the sentry's own
 * accounting chose a victim.
 */
export function sandboxMemoryOverhead(limit: number): number {
  return limitsFor(limit).heapBytes + SANDBOX_BASE_BYTES;
}

/**
 * SANDBOX_MALLOC_ENV is glibc malloc's tuning in the environment of the sentry and the
 * gofer (mallopt(3)'s M_ARENA_MAX, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD by their variables),
 * measured with `make profile-memory` on idle sandboxes (kB per process, USS):
 * - one arena: each thread that mallocs (V8's workers, libuv's pool) otherwise gets an
 *   arena of its own, 0.7-1 MB resident per process for an idle sandbox, whose threads
 *   hardly allocate;
 * - fixed mmap and trim thresholds of 128 KiB: glibc raises both after the first big block
 *   is freed (up to 32 MiB), after which freed memory stays in the heap; the sentry's
 *   start (its V8 snapshot, the ELF loader's reads) left 8 MB in its main heap, 5.5 MB
 *   with these (3.2 MB without a snapshot).
 * Together 23.0 -> 21.3 MB for the sentry and 8.8 -> 8.4 MB for the gofer. Their work is
 * on V8's heap and the memory file, not malloc's: `make bench-syscalls` is the check.
 */
export const SANDBOX_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

/**
 * sentryNodeFlags returns the Node flags the sentry is started with for a spec: its heap
 * limit when the container has a memory limit, none otherwise.
 *
 * Without a memory limit the bounds come from the host's RAM, and so does V8's default
 * old-space limit, which is never below limitsFor's: Node 20 gives V8 half the memory it
 * sees (its cgroup's limit or the RAM), at least 256 MiB and at most 2 GiB (4 GiB from
 * 16 GiB of RAM), where limitsFor takes a quarter rounded down to a power of two within
 * 192 MiB..4 GiB (sentry/limits.test.ts checks the node it runs under). The flag would
 * change nothing there but cost every start: V8 rejects Node's embedded code cache of its
 * own modules under any flag that is not the build's, so each Node module the sentry
 * loads after bootstrap (vm in bin/tvisor, os, net and streams, util's parseArgs) was
 * compiled from source, about 12 ms of CPU per start here (perf: CompileToplevel under
 * BuiltinLoader::LookupAndCompile, 13 ms of a 280 ms sentry at a load of 5).
 */
export function sentryNodeFlags(spec: Parameters<typeof memoryLimitOf>[0]): string[] {
  if (!hasMemoryLimit(spec)) return [];
  return heapFlags(limitsFor(memoryLimitOf(spec)).heapBytes);
}

/** hasMemoryLimit says whether the spec sets a memory limit that memoryLimitOf takes. */
function hasMemoryLimit(spec: Parameters<typeof memoryLimitOf>[0]): boolean {
  const l = spec?.linux?.resources?.memory?.limit;
  return typeof l === 'number' && Number.isSafeInteger(l) && l > 0;
}

function heapFlags(heapBytes: number): string[] {
  return [`--max-old-space-size=${heapBytes / MiB}`];
}

/**
 * sentryNodeFlagSets lists every flag set sentryNodeFlags can return (none, or the heap
 * limit, which takes a few values): `make` builds one start-up snapshot of the sentry for each, as V8 starts
 * from a snapshot only under the flags it was made with (native/snapshot.ts).
 */
export function sentryNodeFlagSets(): string[][] {
  const heaps = new Set<number>();
  for (let memory = MiB; memory <= 64 * MAX_HEAP; memory *= 2) heaps.add(limitsFor(memory).heapBytes);
  return [[], ...[...heaps].map(heapFlags)];
}

/**
 * parseSize reads a tmpfs `size=`/`nr_inodes=` value as mount(8) does: a number with an
 * optional k, m, g (or t, p, e) suffix, powers of 1024; `size=N%` is a percentage of
 * `percentOf`. It returns undefined for anything else.
 */
export function parseSize(v: string, percentOf?: number): number | undefined {
  const m = /^(\d+)([kmgtpe%]?)$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2].toLowerCase();
  if (suffix === '%') return percentOf === undefined ? undefined : Math.floor((percentOf * n) / 100);
  const mult = suffix ? 1024 ** ('kmgtpe'.indexOf(suffix) + 1) : 1;
  const r = n * mult;
  return Number.isSafeInteger(r) ? r : undefined;
}

/** TmpfsOptions are the bounds of one tmpfs mount (bytes, inodes; 0 means unlimited, as on Linux). */
export interface TmpfsOptions {
  maxBytes: number;
  maxInodes: number;
}

/**
 * tmpfsOptions reads `size=` and `nr_inodes=` from a mount's options, the defaults taken
 * from the sandbox's limits (an unparsable value keeps the default, as a warning-free
 * best effort; Linux would refuse the mount).
 */
export function tmpfsOptions(options: readonly string[], l: SandboxLimits): TmpfsOptions {
  let maxBytes = l.tmpfsBytes, maxInodes = l.tmpfsInodes;
  for (const o of options) {
    const eq = o.indexOf('=');
    if (eq < 0) continue;
    const k = o.slice(0, eq), v = o.slice(eq + 1);
    if (k === 'size') {
      const n = parseSize(v, l.memory);
      if (n !== undefined) maxBytes = Math.ceil(n / PAGE) * PAGE;
    } else if (k === 'nr_inodes') {
      const n = parseSize(v);
      if (n !== undefined) maxInodes = n;
    }
  }
  return { maxBytes, maxInodes };
}
