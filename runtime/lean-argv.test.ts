/**
 * The lean parser gives a command what yargs gives it, for every line it takes, and
 * leaves every other line to yargs (whose messages the CLI's usage errors are).
 */
import yargs from 'yargs';
import { EXTRA_COMMANDS, GLOBAL_FLAGS, OCI_COMMANDS } from './cli';
import { leanParse } from './lean-argv';
import { endExecFlags } from './commands/exec';

const COMMANDS = [...OCI_COMMANDS, ...EXTRA_COMMANDS];

/** prepared is argv as runCli hands it on: flags end after exec's container id (endExecFlags). */
const prepared = (argv: string[]) => {
  const at = argv.indexOf('exec');
  return at < 0 ? argv : [...argv.slice(0, at + 1), ...endExecFlags(argv.slice(at + 1))];
};
const LEAN = COMMANDS.filter((c) => c.lean);

/** viaYargs parses argv as the CLI's yargs does and returns what the handler receives. */
async function viaYargs(argv: string[]): Promise<Record<string, unknown>> {
  let got: Record<string, unknown> | undefined;
  let y = yargs(argv).options(GLOBAL_FLAGS).version(false).strict().exitProcess(false).fail((msg, err) => { throw err ?? new Error(msg); });
  for (const c of COMMANDS) y = y.command({ command: c.command, aliases: c.aliases, describe: c.describe, builder: (s) => (c.builder ? c.builder(s) : s), handler: (a) => { got = a; } });
  await y.parseAsync();
  if (!got) throw new Error(`yargs ran no command for ${argv.join(' ')}`);
  return got;
}

const TAKEN = [
  ['state', 'c1'],
  ['--root', '/tmp/r', 'start', 'c1'],
  ['--root=/tmp/r', '--debug', 'delete', '-f', 'c1'],
  ['delete', 'c1', '--force'],
  ['kill', 'c1'],
  ['kill', '--all', 'c1', 'KILL'],
  ['kill', 'c1', '9'],
  ['create', '--bundle', '/b', '--pid-file', '/p', 'c1'],
  ['create', '-b', '/b', '--preserve-fds', '2', 'c1'],
  ['run', '-d', '--bundle=/b', 'c1'],
  ['--log', '/l', '--log-format', 'json', '--systemd-cgroup', 'create', '--console-socket', '/s', 'c1'],
  ['--platform', 'ptrace', '--network', 'host', '--strace', 'run', 'c1', '--bundle', '/b'],
  ['exec', '--process', '/p.json', '--detach', '--pid-file', '/x', 'c1'],
  ['--log', '/l', '--log-format', 'json', 'exec', '-p', '/p.json', '-d', '--remove-process-file', 'c1'],
  ['exec', '--process', '/p', '--console-socket', '/s', '--tty', '--no-new-privs', 'c1'],
  ['exec', 'c1', '/bin/true'],
  ['exec', 'c1', 'sh', '-c', 'echo 1 -- 2'],
  ['exec', '-t', '--cwd', '/tmp', '--user', '1:2', 'c1', 'sleep', '100'],
  ['exec', 'c1', '--', 'ls', '-l'],
];

const LEFT = [
  [], ['state'], ['state', 'a', 'b'], ['delete', '--force', '--force', 'c'], ['delete', '-fx', 'c'], ['--help'], ['state', '--help'],
  ['--log-format', 'xml', 'state', 'c'], ['create', '--preserve-fds', 'x', 'c'], ['state', '--', 'c'],
  ['--unknown', 'state', 'c'], ['kill', 'c', '-9'], ['--root'], ['--root', '--debug', 'state', 'c'], ['--debug=false', 'state', 'c'],
  ['list'], ['create', '--bundle'], ['-v'], ['state', 'c1', '--', 'x'], ['exec', '--', 'c1'],
  ['exec', '-e', 'A=1', '--process', '/p', 'c1'], ['exec', '--cap', 'CAP_CHOWN', '-p', '/p', 'c1'],
];

describe('leanParse', () => {
  test.each(TAKEN)('takes %p as yargs does', async (...raw) => {
    const argv = prepared(raw);
    const lean = leanParse(argv, GLOBAL_FLAGS, LEAN);
    expect(lean).toBeDefined();
    const y = await viaYargs(argv);
    // yargs turns numbers in `_` into numbers; the handler takes each with String().
    expect(lean!.args._).toEqual((y._ as unknown[]).map(String));
    for (const [k, v] of Object.entries(lean!.args)) if (k !== '_') expect([k, v]).toEqual([k, y[k]]);
    // Every key a command reads (kebab-case) that yargs set, the lean parser set too.
    for (const k of Object.keys(y).filter((k) => !k.includes('$') && k !== '_' && !/[A-Z]/.test(k))) {
      if (k in GLOBAL_FLAGS) expect([k, lean!.globals[k]]).toEqual([k, y[k]]);
      else if (y[k] !== undefined && !k.startsWith('no-') && k.length > 1) expect([k, lean!.args[k]]).toEqual([k, y[k]]);
    }
  });

  test('--no-pivot and --no-new-keyring are accepted, as runc accepts them, by both parsers (boolean negation is off in yargs for create and run)', async () => {
    const lean = leanParse(['create', '--no-pivot', '--no-new-keyring', '--bundle', '/b', 'c1'], GLOBAL_FLAGS, LEAN);
    expect(lean?.args).toMatchObject({ 'container-id': 'c1', bundle: '/b', 'no-pivot': true, 'no-new-keyring': true });
    await expect(viaYargs(['create', '--no-pivot', '--no-new-keyring', '--bundle', '/b', 'c1'])).resolves.toMatchObject({ 'no-pivot': true, 'no-new-keyring': true });
  });

  test.each(LEFT)('leaves %p to yargs', (...argv) => {
    expect(leanParse(prepared(argv), GLOBAL_FLAGS, LEAN)).toBeUndefined();
  });
});
