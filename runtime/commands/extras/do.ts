/**
 * do.ts is `tvisor do`: run a command in a sandbox without preparing a bundle, like
 * `runsc do`. It writes a throwaway bundle whose root is the host's / (read-only, seen
 * only through the gofer) with a private tmpfs on /tmp, runs it in the foreground and removes everything afterwards.
 *
 * The command gets the caller's whole environment, as with `runsc do` (measured: a
 * variable set only in the caller's environment is seen by the command). It is handed
 * to the sandbox over a pipe (CreateOptions.processEnv), never written into the bundle's
 * config.json or the container's state directory; the bundle itself is removed as soon as
 * the sandbox has read it. Signals are forwarded to the command as by `run`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSpec } from '../../../oci/default-spec';
import type { Command } from '../command';

/** endDoFlags puts `--` after do's own flags (only --cwd), before the command to run. */
export function endDoFlags(args: string[]): string[] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return args;
    if (a === '--cwd') {
      i++;
      continue;
    }
    if (a.startsWith('--cwd=') || a === '--help' || a === '-h') continue;
    return [...args.slice(0, i), '--', ...args.slice(i)];
  }
  return args;
}

/** doCommand is the `do` command. */
export const doCommand: Command = {
  // The CLI puts `--` before the command (endDoFlags), so that its flags stay its own;
  // yargs then leaves the command in `_`, after "do".
  command: 'do [command..]',
  describe: 'run a command in a new sandbox with the host filesystem, read-only, as its root',
  builder: (y) => y
    .option('cwd', { type: 'string', default: process.cwd(), describe: 'working directory of the command' }),
  async run(ctx, args) {
    const given = (args.command as unknown[] | undefined) ?? [];
    const command = (given.length > 0 ? given : args._.slice(args._[0] === 'do' ? 1 : 0)).map(String);
    if (command.length === 0) throw new Error('do: a command is required (tvisor do CMD [ARG...])');
    const { runContainer } = await import('../../container/container-run');
    const bundle = mkdtempSync(path.join(os.tmpdir(), 'tvisor-do-'));
    const removeBundle = () => rmSync(bundle, { recursive: true, force: true });
    try {
      const spec = defaultSpec();
      const cwd = path.resolve(String(args.cwd));
      spec.root = { path: '/', readonly: true };
      // Programs expect a writable /tmp (Python's tempfile, shells' here-documents): give
      // the sandbox its own, in memory, gone with it.
      // (Not when the command runs from inside the host's /tmp: it would hide its cwd.)
      if (cwd !== '/tmp' && !cwd.startsWith('/tmp/')) {
        spec.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
      }
      spec.process!.terminal = false;
      spec.process!.args = command;
      spec.process!.cwd = cwd;
      spec.process!.env = [];
      writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
      const processEnv = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
      return await runContainer(await ctx.env({ foreground: true, network: 'none' }), { id: path.basename(bundle), bundle, processEnv, created: removeBundle });
    } finally {
      removeBundle();
    }
  },
};
