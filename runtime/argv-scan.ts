/**
 * argv-scan.ts looks at the raw command line before yargs is loaded: where the command
 * is, and whether only the version is asked for (answered without loading the CLI).
 */

/** VALUE_FLAGS are the global flags that take a separate value argument. */
export const VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--debug-log', '--platform', '--network']);

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
