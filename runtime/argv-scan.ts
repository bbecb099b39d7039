/**
 * argv-scan.ts looks at the raw command line before yargs is loaded: where the command
 * is, and whether only the version is asked for (answered without loading the CLI).
 */

/** VALUE_FLAGS are the global flags that take a separate value argument. */
export const VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--debug-log', '--platform', '--network', '--criu', '--rootless']);

/** firstCommand returns the index of the first non-flag argument (the command), or -1. */
export function firstCommand(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!a.startsWith('-')) return i;
    if (VALUE_FLAGS.has(a)) i++;
  }
  return -1;
}

/** wantsVersion tells whether `--version` / `-v` appears among the global flags. */
export function wantsVersion(argv: string[]): boolean {
  const at = firstCommand(argv);
  const globals = at < 0 ? argv : argv.slice(0, at);
  return globals.includes('--version') || globals.includes('-v');
}

/**
 * endFlagsAfterId inserts `--` after a command's first positional argument (the container
 * id), so that flags end there as with runc: in `exec ID sh -c x`, -c belongs to sh, and in
 * `ps ID -o pid`, -o belongs to ps(1). `args` starts after the command's name;
 * `valueFlags` are the command's flags that take a separate value.
 */
export function endFlagsAfterId(args: string[], valueFlags: ReadonlySet<string>): string[] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return args;
    if (a.startsWith('-')) {
      if (valueFlags.has(a)) i++;
      continue;
    }
    return i + 1 === args.length || args[i + 1] === '--' ? args : [...args.slice(0, i + 1), '--', ...args.slice(i + 1)];
  }
  return args;
}

/**
 * IGNORED_GLOBALS are runc's global flags that take a value and change nothing in tvisor:
 * --criu (tvisor does not checkpoint or restore yet) and --rootless (tvisor always runs as
 * root and never ignores a cgroup error). They are accepted, as containerd and Docker may
 * send them, and taken out before yargs sees them (spec has a --rootless of its own).
 */
const IGNORED_GLOBALS: Record<string, (v: string) => string | undefined> = {
  '--criu': (v) => (v === '' ? '--criu: a path is required' : undefined),
  '--rootless': (v) => (['true', 'false', 'auto'].includes(v) ? undefined : `--rootless "${v}": want true, false or auto`),
};

/**
 * dropIgnoredGlobals returns argv without the IGNORED_GLOBALS among the global flags
 * (before the command at `cmdAt`, -1 when none), or a one-line error for a bad value.
 */
export function dropIgnoredGlobals(argv: string[], cmdAt: number): string[] | string {
  const end = cmdAt < 0 ? argv.length : cmdAt;
  const out: string[] = [];
  for (let i = 0; i < end; i++) {
    const [flag, inline] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const check = IGNORED_GLOBALS[flag];
    if (!check) {
      out.push(argv[i]);
      if (VALUE_FLAGS.has(argv[i]) && i + 1 < end) out.push(argv[++i]);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || i >= end) return `${flag}: a value is required`;
    const bad = check(value);
    if (bad) return bad;
  }
  return [...out, ...argv.slice(end)];
}
