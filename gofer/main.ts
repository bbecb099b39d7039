/**
 * `tvisor gofer`: serve host directories over 9P2000.L, confined to them.
 *
 *   tvisor gofer --root DIR (--socket PATH | --fd N) [--ro]
 *                [--export NAME=DIR]... [--export-ro NAME=DIR]... [--uid-map C:H:N]... [--gid-map C:H:N]...
 *                [--debug] [--log-format text|json] [--host-seccomp kill|trap|log] [--confine]
 *                [--control PATH]
 *
 * --confine: the gofer runs in namespaces of its own (the runtime's doing); once its
 * exports are open it pivots into an empty root, reaches them only through their
 * descriptors, and keeps only its file capabilities (native/confine/credentials.ts).
 *
 * --root is the export attached by the names '' and '/'; each --export adds one more
 * (a bind mount), attached by NAME. With --fd the gofer serves one connected socket
 * and exits when it closes; with --socket it listens until SIGTERM/SIGINT. --uid-map and
 * --gid-map are the container's user-namespace mappings (config.json's linux.uidMappings
 * and gidMappings): container id C..C+N-1 is host id H..H+N-1 (server/idmap.ts).
 *
 * --control (with --fd): a pod's gofer also listens at PATH for the runtime's requests
 * that add a pod member's exports and 9P connection (server/members.ts); it still exits
 * when its last 9P connection closes.
 */
import { unlinkSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { listenUnix } from '../native/unixsock';
import { Exports, ExportError, openExport } from './server/export';
import { IdMap, type IdMaps } from './server/idmap';
import { Server } from './server/server';
import { procSelfFd } from './server/file';
import { enterProcFd } from './hostfs/inotify';
import { restoreOwn } from './hostfs/creds';
import { lineLogger } from './log';
import { phasesStart } from '../native/phases';
import { loadFsAddon } from '../native/fs/fs-native';
import { installProgram, precompiledProgram, SECCOMP_MODES, type SeccompMode } from '../native/confine/seccomp-program';
import { pivotToEmptyRoot } from '../native/confine/root';
import { GOFER_CAPABILITIES, keepCapabilities } from '../native/confine/credentials';
import { profileMark } from '../native/startup-profile';
import { startMemoryReport } from '../native/memory-report';
import { scheduleIdleGc } from '../native/idle-gc';
import { loadHeapAddon } from '../native/heap/heap-native';

const USAGE = `usage: tvisor gofer --root DIR (--socket PATH | --fd N) [--ro] [--export NAME=DIR]... [--export-ro NAME=DIR]...
       [--uid-map C:H:N]... [--gid-map C:H:N]... [--debug] [--log-format text|json]
       [--host-seccomp kill|trap|log] [--confine] [--control PATH]

Serves DIR (and each export) over 9P2000.L. The gofer never follows a symlink for the
client, never leaves an export through "..", and answers EROFS to every change of a
read-only export.`;

/**
 * IDLE_GC_DELAY_MS is how long after its confinement the gofer arms its idle collection
 * (native/idle-gc.ts). Armed at once, its first idle window ended while short containers
 * still ran, under load most of all: 20+20 interleaved `run`s of busybox `true` at a load of
 * 8-9 (process accounting), the gofer's CPU was 0.845x main's without the collection and
 * 0.969x with it (a LowMemoryNotification costs it 40-70 ms of wall time there).
 */
const IDLE_GC_DELAY_MS = 1000;

/** UsageError is a bad command line: one line for the person who typed it. */
export class UsageError extends Error {}

/** GoferOptions is the gofer's command line, parsed. */
export interface GoferOptions {
  root?: string;
  socket?: string;
  fd?: string;
  ro: boolean;
  export: string[];
  'export-ro': string[];
  'uid-map': string[];
  'gid-map': string[];
  debug: boolean;
  'log-format': string;
  'host-seccomp'?: string;
  confine: boolean;
  control?: string;
  help: boolean;
}

/** OPTION_KINDS says what each of the gofer's options takes: nothing (a flag), one value, or a value each time it is given. */
const OPTION_KINDS: Readonly<Record<string, 'flag' | 'value' | 'list'>> = {
  root: 'value', socket: 'value', fd: 'value', ro: 'flag', export: 'list', 'export-ro': 'list', 'uid-map': 'list',
  'gid-map': 'list', debug: 'flag', 'log-format': 'value', 'host-seccomp': 'value', confine: 'flag', control: 'value',
  help: 'flag',
};

/**
 * parseGoferArgs reads the command line strictly, as node:util's parseArgs did (which cost each
 * gofer start the loading of its module): `--name VALUE` or `--name=VALUE`, a flag without a
 * value, `-h` for --help, no positional argument, and a value starting with "-" only in the
 * `=` form.
 */
export function parseGoferArgs(argv: string[]): GoferOptions {
  const o: GoferOptions = {
    ro: false, export: [], 'export-ro': [], 'uid-map': [], 'gid-map': [], debug: false, 'log-format': 'text', confine: false, help: false,
  };
  const values = o as unknown as Record<string, string | string[] | boolean>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      o.help = true;
      continue;
    }
    if (arg === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument "${argv[i + 1]}": the gofer takes none`);
      break;
    }
    if (!arg.startsWith('--')) throw new UsageError(arg.startsWith('-') ? `unknown option "${arg}"` : `unexpected argument "${arg}": the gofer takes none`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const kind = Object.hasOwn(OPTION_KINDS, name) ? OPTION_KINDS[name] : undefined;
    if (!kind) throw new UsageError(`unknown option "--${name}"`);
    if (kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
      if (value.startsWith('-')) throw new UsageError(`--${name} "${value}": a value starting with "-" is given as --${name}=${value}`);
    }
    if (kind === 'list') (values[name] as string[]).push(value);
    else values[name] = value;
  }
  return o;
}

/** main runs the gofer; it resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  profileMark('main');
  let opts: GoferOptions;
  try {
    opts = parseGoferArgs(argv);
    if (opts.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (!opts.root) throw new UsageError('--root is required');
    if (!!opts.socket === !!opts.fd) throw new UsageError('exactly one of --socket and --fd is required');
    if (opts.control !== undefined && !opts.fd) throw new UsageError('--control goes with --fd');
    if (opts['log-format'] !== 'text' && opts['log-format'] !== 'json') throw new UsageError(`--log-format: "${opts['log-format']}" is not text or json`);
    const mode = opts['host-seccomp'] ?? (opts.debug ? 'trap' : 'kill');
    if (!SECCOMP_MODES.includes(mode as SeccompMode)) throw new UsageError(`--host-seccomp: "${mode}" is not one of ${SECCOMP_MODES.join(', ')}`);
    opts['host-seccomp'] = mode;
  } catch (e) {
    process.stderr.write(`tvisor gofer: ${(e as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  const log = lineLogger({ json: opts['log-format'] === 'json', debug: opts.debug });
  let ids: IdMaps;
  try {
    ids = { uid: IdMap.parse(opts['uid-map']), gid: IdMap.parse(opts['gid-map']) };
  } catch (e) {
    process.stderr.write(`tvisor gofer: ${(e as Error).message}\n`);
    return 2;
  }
  const exports = new Exports(ids);
  // Absolute: the working directory moves to /proc/self/fd before serving (enterProcFd).
  const socketPath = opts.socket ? resolvePath(opts.socket) : '';
  let listenFd = -1, controlFd = -1;
  const connFds: number[] = [];
  try {
    exports.add(openExport('/', opts.root, opts.ro));
    for (const [list, ro] of [[opts.export, false], [opts['export-ro'], true]] as const) {
      for (const spec of list) {
        const eq = spec.indexOf('=');
        if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--export${ro ? '-ro' : ''} "${spec}": want NAME=DIR`);
        exports.add(openExport(spec.slice(0, eq), spec.slice(eq + 1), ro));
      }
    }
    if (opts.fd) {
      const fd = Number(opts.fd);
      if (!Number.isInteger(fd) || fd < 3) throw new UsageError(`--fd "${opts.fd}": want a descriptor number of 3 or more`);
      connFds.push(fd);
      // Listening before the gofer gives up its view of the host (the path is the host's).
      if (opts.control) controlFd = listenUnix(resolvePath(opts.control));
    } else {
      listenFd = listenUnix(socketPath);
    }
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof ExportError || (e as Error).name === 'HostError')) throw e;
    process.stderr.write(`tvisor gofer: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  // /proc/self/fd is opened now, once: files are re-opened through it (server/file.ts),
  // and it must be open before the gofer gives up its view of the host.
  procSelfFd();
  // The native listing (Treaddirstat) is a host file too: loaded before the gofer gives
  // up its view of the host, and before its allowlist forbids loading code.
  loadFsAddon();
  // So is the heap addon of the idle collection (native/idle-gc.ts).
  loadHeapAddon();
  // The phase sums' file is a host path too: opened before the gofer gives it up.
  phasesStart('gofer');
  profileMark('exports-open');
  const server = new Server({ exports, listenFd, connFds, controlFd, log });
  if (listenFd >= 0) {
    const stop = () => {
      restoreOwn(); // the socket's path is removed as the gofer, not as its last caller
      server.close();
      try {
        unlinkSync(socketPath);
      } catch {
        // already gone
      }
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }
  // Everything is open: from here on the gofer sees no host path and holds only its file
  // capabilities (with --confine), and keeps to its allowlist of host syscalls.
  try {
    const mode = opts['host-seccomp'] as SeccompMode;
    // The bundle's own program (kill mode) needs neither the host-syscall table nor the
    // BPF compiler: they are evaluated only for another mode (their top-level tables were
    // most of what the gofer's bundle evaluation allocated).
    const pre = precompiledProgram('gofer', mode, -1);
    let seccomp: () => void;
    if (pre) {
      seccomp = () => installProgram(pre);
    } else {
      // The syscall names are for the trap mode's message only: the table is not loaded otherwise (~2 MB of the gofer's memory).
      const names = mode === 'trap' ? (await import('../sentry/syscalls/linux/table/syscalls')).SYSCALLS.map((s) => s?.name) : [];
      seccomp = (await import('../native/confine/seccomp')).prepareSeccomp('gofer', { mode, names });
    }
    profileMark('seccomp-prepared');
    if (opts.confine) {
      pivotToEmptyRoot();
      profileMark('root-pivoted');
      keepCapabilities(GOFER_CAPABILITIES);
      profileMark('credentials-dropped');
    }
    // inotify_add_watch names a held descriptor by its number in /proc/self/fd (Twatch).
    enterProcFd(procSelfFd());
    seccomp();
    profileMark('confined');
    startMemoryReport(); // make profile-memory's debug switch (native/memory-report.ts)
    // Its start's garbage and young generation, given back once idle (its main thread's
    // CPU time tells: it waits in poll(2) from JavaScript, which libuv counts as busy),
    // armed IDLE_GC_DELAY_MS from now: a short-lived container's gofer (`run` of `true`)
    // has ended by then instead of collecting a heap it is about to give back whole.
    setTimeout(() => scheduleIdleGc((m) => log.debug(m), 'cpu'), IDLE_GC_DELAY_MS).unref();
  } catch (e) {
    process.stderr.write(`tvisor gofer: cannot confine the gofer: ${(e as Error).message}\n`);
    return 1;
  }
  log.debug(`gofer: serving ${exports.list().map((e) => `${e.name}=${e.hostPath}${e.readonly ? ' (ro)' : ''}`).join(', ')}`);
  await server.run();
  restoreOwn(); // what Node does at exit is done as the gofer, not as its last caller
  return 0;
}
