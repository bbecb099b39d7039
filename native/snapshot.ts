/**
 * snapshot.ts: V8 start-up snapshots of tvisor's bundles (the sentry's, opt-in), the rules
 * their top-level code follows, and where the runtime finds a blob.
 *
 * `make snapshots` evaluates such a bundle once in `node --build-snapshot`
 * (scripts/build-snapshot.mjs) and saves the resulting heap as dist/<bundle>.<tag>.blob;
 * a process started with `--snapshot-blob` that blob begins with the bundle already
 * evaluated, and bin/tvisor takes its exports instead of compiling and running the bundle
 * (scripts/tvisor-launcher.js: it checks that the blob was made from the bundle on disk,
 * else loads the bundle as before and says why in the debug log).
 *
 * Not built by default (`make snapshots` builds the sentry's): measured on this project's
 * 2-CPU machine at loads of 1-4 (a busybox `true` `run`, 21 interleaved rounds, twice,
 * medians), a sentry started from its blob took the same time as one that loads its
 * bundle with the code cache (wall 165.4 / 188.8 ms against 162.3 / 187.9, CPU of the
 * whole tree 201.3 / 200.0 against 199.4 / 196.9), and kept a copy of the blob's V8 part
 * for its lifetime: an idle sentry's private memory 24.1 MiB against 21.1, the sandbox's
 * unique pages 73.4 against 70.7 MiB. Deserializing the blob's 7.5 MB costs what
 * compiling and running the bundle from its code cache costs; the blob won (1146 against
 * 1392 ms per `run`) only at loads of 15, where Node's start dominates. The gofer never
 * had one (its start is off the critical path; a blob cost it 4 MB).
 *
 * Not the CLI's, measured (hyperfine, CPU time, same run): any user-land blob costs Node
 * ~6 ms more to start than its built-in snapshot (an empty blob: 29.2 against 23.4 ms),
 * and each MB of evaluated modules ~4 ms more; a blob of dist/tvisor.js with the lifecycle
 * commands' modules evaluated (6.6 MB) started `state` in 42.7 ms against 40.1 ms for the
 * bundle loaded with its code cache. What the snapshot saves (compiling and running the
 * CLI's modules, ~15 ms) it pays back in deserialization; the sentry's bundle is several
 * times bigger, which is why it gains. A CLI snapshot would also need a launcher that
 * survives V8 refusing the blob (below), which a `#!` script cannot be.
 *
 * Rules for a bundle's top-level code (the builder fails naming the module that breaks
 * one of the checked ones):
 * - No native module is loaded at the top level (V8 cannot snapshot one): koffi and the
 *   node-gyp addons load on first use (native/koffi.ts, native/ptrace/ptrace-native.ts).
 * - Nothing of the running process is read at the top level (clocks, the host's memory,
 *   the environment, files): the snapshot would carry the builder's values. Such state is
 *   set in an `atProcessStart` callback, which runs at import and again in every process
 *   that starts from a snapshot, before anything else of the bundle runs.
 *
 * V8 refuses a blob made by another Node, under other V8 flags or on a CPU with other
 * features (it checks a tag and exits with status 14, which no JavaScript can catch; seen
 * in a QEMU guest running the host's tree): the blob's name carries Node's version, a
 * hash of the flags and one of the CPU's model and features, and the runtime passes
 * `--snapshot-blob` only when a blob of that name exists (snapshotArgs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * atProcessStart runs `fn` now and, while a start-up snapshot is being built, registers it
 * to run again in each process started from that snapshot (v8.startupSnapshot's
 * deserialize callbacks run before the process's main script).
 */
export function atProcessStart(fn: () => void): void {
  fn();
  // node:v8 costs a process 1.5-3 ms to load: it is required only by a snapshot's build.
  if (!process.execArgv.includes('--build-snapshot')) return;
  const v8 = require('node:v8') as typeof import('node:v8');
  if (v8.startupSnapshot.isBuildingSnapshot()) v8.startupSnapshot.addDeserializeCallback(fn);
}

/** fnv is a short FNV-1a hash of s, '' for none. */
function fnv(s: string): string {
  if (!s) return '';
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return `-${h.toString(16)}`;
}

/** flagsTag is a short FNV-1a hash of Node/V8 flags, '' for none (bin/tvisor names its code caches the same way). */
export function flagsTag(flags: readonly string[]): string {
  return fnv(flags.join(' '));
}

let cpu: string | undefined;

/**
 * cpuTag is a short hash of the first CPU's vendor, model and feature flags in
 * /proc/cpuinfo ('' where it cannot be read), read once per process (its first 16 KiB).
 */
export function cpuTag(): string {
  if (cpu !== undefined) return cpu;
  let text = '';
  try {
    const fd = fs.openSync('/proc/cpuinfo', 'r');
    try {
      const b = Buffer.alloc(16 << 10);
      text = b.toString('utf8', 0, fs.readSync(fd, b, 0, b.length, null));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no /proc/cpuinfo: no CPU tag
  }
  const first = text.split('\n\n')[0].split('\n').filter((l) => /^(vendor_id|model name|flags)\s*:/.test(l));
  cpu = fnv(first.join('\n'));
  return cpu;
}

/** snapshotBlobName is the file name of `bundle`'s blob (e.g. 'sentry') for this Node under `flags` on this CPU. */
export function snapshotBlobName(bundle: string, flags: readonly string[], nodeVersion = process.version): string {
  return `${bundle}.${nodeVersion}${flagsTag(flags)}${cpuTag()}.blob`;
}

/**
 * snapshotArgs returns the arguments that start `bundle` from its snapshot under `flags`
 * (`--snapshot-blob FILE`), or none when there is no blob for this Node and these flags:
 * then the process loads the bundle itself. `dist` is the folder of the bundles.
 */
export function snapshotArgs(dist: string, bundle: string, flags: readonly string[]): string[] {
  const blob = path.join(dist, snapshotBlobName(bundle, flags));
  return fs.existsSync(blob) ? ['--snapshot-blob', blob] : [];
}

/**
 * nodeArgs returns the Node arguments before `launcher` (bin/tvisor) for a process that
 * runs `bundle` under `flags`: its snapshot when there is one (bundles sit in dist/ beside
 * the launcher's bin/), then the flags.
 */
export function nodeArgs(launcher: string, bundle: string, flags: readonly string[]): string[] {
  return [...snapshotArgs(path.join(path.dirname(launcher), '..', 'dist'), bundle, flags), ...flags];
}

/** snapshotFallback returns why this process did not start from its snapshot although it was given one (bin/tvisor sets it), else undefined. */
export function snapshotFallback(): string | undefined {
  return (globalThis as Record<symbol, string | undefined>)[Symbol.for('tvisor.snapshotFallback')];
}
