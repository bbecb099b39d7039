/**
 * lean-argv.ts parses the plain command lines of the lifecycle commands without yargs
 * (loading and running yargs costs 10-20 ms of every CLI call here; containerd and Docker
 * call create, start, state, kill, delete and exec once or more per container).
 *
 * It takes only what it is sure of: known global flags, a command marked `lean`, that
 * command's declared flags (each at most once, `--name`, `--name=value`, `--name value`
 * or its one-letter alias) and the positionals its command string names (a variadic one
 * stays empty, and what follows `--` goes to `_` as yargs puts it: `exec --process FILE ID`,
 * as containerd calls it, and `exec ID CMD...` are taken). Anything else
 * (help, an unknown or repeated flag, a missing or extra argument, a bad choice or number,
 * `--`, bundled short flags) returns undefined, and yargs parses the line as before, with
 * its messages. The result has the shape yargs would give the command: kebab-case keys,
 * the declared defaults.
 */

/** FlagSpec is one option as yargs declares it (the subset the lean parser understands). */
export interface FlagSpec {
  type: 'string' | 'boolean' | 'number';
  alias?: string;
  default?: unknown;
  choices?: readonly string[];
  /** array: repeatable; the lean parser leaves a line using it to yargs. */
  array?: boolean;
  describe?: string;
  hidden?: boolean;
}

/** LeanCommand is what the parser needs of a command: its yargs command string and its flags. */
export interface LeanCommand {
  command: string;
  flags?: Record<string, FlagSpec>;
  /** positionalDefaults are the defaults of its optional positionals, by name. */
  positionalDefaults?: Record<string, string>;
}

/** LeanParse is a parsed command line: the global options, the command and its arguments. */
export interface LeanParse<C> {
  globals: Record<string, unknown>;
  command: C;
  args: Record<string, unknown> & { _: string[] };
}

/** globalChoiceFlags: yargs declares these with `choices` and no `type`: they take a value. */
function takesValue(spec: FlagSpec | { choices?: readonly string[]; type?: string }): boolean {
  return spec.type !== 'boolean';
}

/**
 * takeFlags reads `--name[=value]` and `-x` flags of `flags` from argv[i] on into `out`;
 * it returns the index of the next argument, or -1 when the line is not for the lean parser.
 * Positionals met on the way are appended to `positionals` when given, else they stop it.
 */
function takeFlags(argv: string[], i: number, flags: Record<string, FlagSpec | { choices?: readonly string[]; type?: string }>, out: Record<string, unknown>, positionals?: string[]): number {
  const byAlias = new Map(Object.entries(flags).filter(([, s]) => 'alias' in s && s.alias).map(([n, s]) => [(s as FlagSpec).alias!, n]));
  for (; i < argv.length; i++) {
    const a = argv[i];
    // After `--` (the CLI puts one after exec's container id) everything is positional.
    if (a === '--' && positionals) {
      positionals.push(...argv.slice(i + 1).map((p) => `${REST}${p}`));
      return argv.length;
    }
    if (!a.startsWith('-') || a === '-') {
      if (!positionals) return i;
      positionals.push(a);
      continue;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (eq >= 0) value = a.slice(eq + 1);
    } else if (a.length === 2) {
      name = byAlias.get(a[1]);
    }
    const spec = name === undefined ? undefined : flags[name];
    if (name === undefined || !spec || name in out || ('array' in spec && spec.array)) return -1;
    if (!takesValue(spec)) {
      if (value !== undefined) return -1;
      out[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('-')) return -1;
      value = argv[++i];
    }
    if (spec.choices && !spec.choices.includes(value)) return -1;
    if (spec.type === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) return -1;
      out[name] = n;
    } else out[name] = value;
  }
  return i;
}

/** REST marks, among the positionals takeFlags collects, those after `--` (as a prefix). */
const REST = '\0';

/** withDefaults adds the declared default of every flag not given. */
function withDefaults(out: Record<string, unknown>, flags: Record<string, { default?: unknown }>): void {
  for (const [name, spec] of Object.entries(flags)) if (!(name in out) && spec.default !== undefined) out[name] = spec.default;
}

/**
 * leanParse parses argv when it is a plain line of one of `commands` (see the module
 * comment), and returns undefined otherwise. `globalFlags` are the global options.
 */
export function leanParse<C extends LeanCommand>(argv: string[], globalFlags: Record<string, { type?: string; choices?: readonly string[]; default?: unknown }>, commands: C[]): LeanParse<C> | undefined {
  const globals: Record<string, unknown> = {};
  const at = takeFlags(argv, 0, globalFlags, globals);
  if (at < 0 || at >= argv.length) return undefined;
  const name = argv[at];
  const command = commands.find((c) => c.command.split(' ')[0] === name);
  if (!command) return undefined;
  const flags = command.flags ?? {};
  const args: Record<string, unknown> & { _: string[] } = { _: [name] };
  const taken: string[] = [];
  if (takeFlags(argv, at + 1, flags, args, taken) < 0) return undefined;
  const positionals = taken.filter((p) => !p.startsWith(REST));
  const rest = taken.filter((p) => p.startsWith(REST)).map((p) => p.slice(REST.length));
  const slots = command.command.split(' ').slice(1);
  // A variadic slot ([command..]) takes nothing on the lean path: such a line goes to yargs.
  const variadic = slots.at(-1)?.endsWith('..]') ? slots.pop()!.slice(1, -3) : undefined;
  // What follows `--` goes where yargs puts it, after the command in `_`: only for a command
  // with a variadic slot (exec), whose handler reads it there.
  if (rest.length && !variadic) return undefined;
  args._.push(...rest);
  const required = slots.filter((s) => s.startsWith('<')).length;
  if (positionals.length < required || positionals.length > slots.length) return undefined;
  slots.forEach((s, k) => {
    if (k < positionals.length) args[s.slice(1, -1)] = positionals[k];
  });
  if (variadic) args[variadic] = [];
  withDefaults(globals, globalFlags);
  withDefaults(args, flags);
  for (const [k, v] of Object.entries(command.positionalDefaults ?? {})) if (!(k in args)) args[k] = v;
  return { globals, command, args };
}
