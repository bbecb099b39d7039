/**
 * cli.ts is tvisor's command line: runc's global flags and commands (yargs 17), each
 * command in its own file under commands/ (OCI standard) or commands/extras/ (tvisor's own).
 *
 * Errors: a failed command prints exactly one line `tvisor: <message>` on stderr, writes
 * the same message as an error event to --log when one is given (containerd reads the last
 * error of that file), and exits 1 (or the error's `exitStatus`: exec's are 255, as runc's). Usage errors (unknown command or flag, missing
 * argument) are one line too.
 *
 * yargs is loaded only for the lines the lean parser (lean-argv.ts) leaves to it: a plain
 * create, run, start, state, kill or delete is parsed without it.
 */
import * as path from 'node:path';
import type { Argv } from 'yargs';
import type { Command } from './commands/command';
import type { CommandContext, GlobalOptions } from './commands/context';
import { create } from './commands/create';
import { del } from './commands/delete';
import { events } from './commands/events';
import { endExecFlags, exec } from './commands/exec';
import { features } from './commands/features';
import { pause, resume } from './commands/pause';
import { endPsFlags, ps } from './commands/ps';
import { kill } from './commands/kill';
import { list } from './commands/list';
import { run } from './commands/run';
import { spec } from './commands/spec';
import { start } from './commands/start';
import { state } from './commands/state';
import { unsupported } from './commands/unsupported';
import { update } from './commands/update';
import { doCommand, endDoFlags } from './commands/extras/do';
import { install, uninstall } from './commands/extras/install';
import { gofer, sentry, syscalls } from './commands/extras/internal';
import { hostSyscalls } from './commands/extras/host-syscalls';
import { platforms } from './commands/extras/platforms';
import { createLogger, type Logger } from './log';
import { VALUE_FLAGS, dropIgnoredGlobals, firstCommand, wantsVersion } from './argv-scan';
import { versionText } from './version';
import { profileMark } from '../native/startup-profile';
import { leanParse } from './lean-argv';

/**
 * launcherPath is bin/tvisor, which starts the sentry: this file sits in dist/ when
 * bundled and in runtime/ in the sources, both one level below the repository root.
 */
function launcherPath(): string {
  return path.resolve(__dirname, '..', 'bin', 'tvisor');
}

/** OCI_COMMANDS are runc's commands. */
export const OCI_COMMANDS: Command[] = [create, start, state, kill, del, run, exec, ps, pause, resume, events, update, list, spec, features, ...unsupported];
/** EXTRA_COMMANDS are tvisor's own commands. */
export const EXTRA_COMMANDS: Command[] = [doCommand, install, uninstall, syscalls, hostSyscalls, platforms, gofer, sentry];

/** GLOBAL_FLAGS are the global options; the ones taking a value matter to pre-scanning. */
export const GLOBAL_FLAGS = {
  root: { type: 'string', default: '/run/tvisor', describe: 'root directory for storage of container state (this should be located in tmpfs)' },
  log: { type: 'string', describe: 'log file (default: stderr)' },
  'log-format': { choices: ['text', 'json'], default: 'text', describe: 'log format' },
  debug: { type: 'boolean', default: false, describe: 'enable debug logging' },
  'debug-log': { type: 'string', describe: 'additional log file receiving debug events of every tvisor process' },
  'systemd-cgroup': { type: 'boolean', default: false, describe: 'lay out the sandbox cgroup as systemd would (slice:prefix:name paths)' },
  platform: { choices: ['ptrace', 'systrap', 'kvm'], describe: 'how the sentry runs application code (default: systrap, seccomp traps over shared memory, where its start-up self-check passes, else ptrace; `tvisor platforms` shows which; kvm: user mode of a virtual machine, needs /dev/kvm, opt-in)' },
  network: { choices: ['none', 'host'], describe: 'sandbox network: host sockets in the sandbox\'s network namespace (the default of run and create), none (loopback inside the sandbox only; the default of do), or host with the host\'s namespace when config.json names none' },
  strace: { type: 'boolean', default: false, describe: 'log the system calls of the container' },
  'syscall-coverage': { type: 'boolean', default: false, hidden: true, describe: 'log, when the container ends, which implemented system calls it made (the tests\' coverage of the syscall table)' },
} as const;

/** UsageError is a command line tvisor cannot parse. */
export class UsageError extends Error {}

function commandNames(c: Command): string[] {
  return [c.command.split(' ')[0], ...(c.aliases ?? [])];
}

async function build(argv: string[], ctx: CommandContext, outcome: { code: number }): Promise<Argv> {
  // Required, not import()ed: bundled, yargs is dist/tvisor-yargs.js beside the CLI's
  // bundle (scripts/build.mjs), and bin/tvisor's vm.Script has no loader for import().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yargs = require('yargs') as typeof import('yargs');
  let y = yargs(argv)
    .scriptName('tvisor')
    .usage('tvisor - an OCI container runtime with a user-space kernel\n\nUsage: tvisor [global options] <command> [command options] [arguments...]')
    .options(GLOBAL_FLAGS)
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .help('help')
    .alias('help', 'h')
    .strict()
    .demandCommand(1, 'a command is required')
    .recommendCommands()
    .exitProcess(false)
    .wrap(process.stdout.isTTY ? Math.min(120, process.stdout.columns) : null)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  for (const c of [...OCI_COMMANDS, ...EXTRA_COMMANDS]) {
    y = y.command({
      command: c.command,
      aliases: c.aliases,
      describe: c.describe,
      builder: (sub: Argv) => (c.builder ? c.builder(sub) : sub),
      handler: async (args) => {
        const code = await c.run(ctx, args as never);
        profileMark('command-done');
        outcome.code = typeof code === 'number' ? code : 0;
      },
    });
  }
  return y.epilogue("runc's --criu PATH and --rootless true|false|auto are accepted and change nothing. Commands marked internal are started by tvisor itself. See https://github.com/opencontainers/runtime-spec for the OCI lifecycle.");
}

function globalOptions(a: Record<string, unknown>): GlobalOptions {
  return {
    root: String(a.root), log: a.log as string | undefined, logFormat: a['log-format'] as 'text' | 'json',
    debug: Boolean(a.debug), debugLog: a['debug-log'] as string | undefined, systemdCgroup: Boolean(a['systemd-cgroup']),
    platform: a.platform as 'ptrace' | 'systrap' | 'kvm' | undefined, network: a.network as 'none' | 'host' | undefined, strace: Boolean(a.strace),
    syscallCoverage: Boolean(a['syscall-coverage']),
  };
}

/** runCli runs one tvisor command line and resolves with its exit status. */
export async function runCli(argv: string[]): Promise<number> {
  let cmdAt = firstCommand(argv);
  if (cmdAt >= 0 && argv[cmdAt] === 'exec') argv = [...argv.slice(0, cmdAt + 1), ...endExecFlags(argv.slice(cmdAt + 1))];
  if (cmdAt >= 0 && argv[cmdAt] === 'ps') argv = [...argv.slice(0, cmdAt + 1), ...endPsFlags(argv.slice(cmdAt + 1))];
  if (cmdAt >= 0 && argv[cmdAt] === 'do') argv = [...argv.slice(0, cmdAt + 1), ...endDoFlags(argv.slice(cmdAt + 1))];
  cmdAt = firstCommand(argv);
  if (wantsVersion(argv)) {
    process.stdout.write(versionText());
    return 0;
  }
  const ignored = dropIgnoredGlobals(argv, cmdAt);
  if (typeof ignored === 'string') {
    process.stderr.write(`tvisor: ${ignored}\n`);
    return 1;
  }
  argv = ignored;
  cmdAt = firstCommand(argv);
  const globals = cmdAt < 0 ? argv : argv.slice(0, cmdAt);
  const known = new Set([...Object.keys(GLOBAL_FLAGS).map((f) => `--${f}`), '--version', '-v', '--help', '-h']);
  for (let i = 0; i < globals.length; i++) {
    const flag = globals[i].split('=')[0];
    if (flag === '--') break;
    if (!known.has(flag) && !known.has(flag.replace(/^--no-/, '--'))) {
      process.stderr.write(`tvisor: unknown global flag "${flag}" (see tvisor --help)\n`);
      return 1;
    }
    if (VALUE_FLAGS.has(globals[i])) i++;
  }
  if (cmdAt >= 0) {
    const name = argv[cmdAt];
    if (name !== 'help' && ![...OCI_COMMANDS, ...EXTRA_COMMANDS].some((c) => commandNames(c).includes(name))) {
      process.stderr.write(`tvisor: unknown command "${name}" (see tvisor --help)\n`);
      return 1;
    }
  }

  let log: Logger | undefined;
  let opts: GlobalOptions | undefined;
  const ctx: CommandContext = {
    get opts() {
      return opts!;
    },
    get log() {
      return log!;
    },
    env: async (envOpts) => {
      const [{ StateStore }, { SentrySandbox }] = await Promise.all([import('./container/store'), import('./sandbox/sentry-sandbox')]);
      profileMark('env-loaded');
      const o = opts!;
      const sandbox = new SentrySandbox({
        launcher: launcherPath(), platform: o.platform, strace: o.strace, syscallCoverage: o.syscallCoverage, debug: o.debug, logFormat: o.logFormat, log: o.log, debugLog: o.debugLog, systemdCgroup: o.systemdCgroup, network: o.network,
        sockets: o.network ?? envOpts?.network ?? 'host',
        foreground: envOpts?.foreground ?? false,
      });
      return { store: new StateStore(o.root), sandbox, log: log! };
    },
    out: (text) => process.stdout.write(text),
  };
  const outcome = { code: 0 };
  const setGlobals = (a: Record<string, unknown>) => {
    opts = globalOptions(a);
    log = createLogger({ file: opts.log, format: opts.logFormat, level: opts.debug ? 'debug' : 'warn', debugFile: opts.debugLog, component: 'tvisor' });
    log.debug('command', { argv: argv.join(' ') });
    profileMark('args-parsed');
  };
  try {
    const lean = leanParse(argv, GLOBAL_FLAGS, [...OCI_COMMANDS, ...EXTRA_COMMANDS].filter((c) => c.lean));
    if (lean) {
      setGlobals(lean.globals);
      const code = await lean.command.run(ctx, lean.args);
      outcome.code = typeof code === 'number' ? code : 0;
      profileMark('command-done');
    } else {
      await (await build(argv, ctx, outcome)).middleware(setGlobals).parseAsync();
    }
    return outcome.code;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const usage = err instanceof UsageError;
    process.stderr.write(`tvisor: ${msg}${usage ? ' (see tvisor --help)' : ''}\n`);
    if (log?.toFile) log.error(msg);
    // A command may carry runc's own status for its failures (exec: 255), else 1.
    return (err as { exitStatus?: number } | undefined)?.exitStatus ?? 1;
  } finally {
    await log?.close();
  }
}
