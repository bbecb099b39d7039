/**
 * do.ts is `tvisor do`: run a command in a sandbox without preparing a bundle, like
 * `runsc do`. It writes a throwaway bundle whose root is the host's / (read-only, seen
 * only through the gofer), runs it in the foreground and removes everything afterwards.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSpec } from '../../oci/default-spec';
import type { Command } from '../command';

/** doCommand is the `do` command. */
export const doCommand: Command = {
  command: 'do <command..>',
  describe: 'run a command in a new sandbox with the host filesystem, read-only, as its root',
  builder: (y) => y
    .option('cwd', { type: 'string', default: process.cwd(), describe: 'working directory of the command' })
    .parserConfiguration({ 'halt-at-non-option': true }),
  async run(ctx, args) {
    const { runContainer } = await import('../../container/container-run');
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-do-'));
    try {
      const spec = defaultSpec();
      spec.root = { path: '/', readonly: true };
      spec.process!.terminal = false;
      spec.process!.args = (args.command as unknown[]).map(String);
      spec.process!.cwd = path.resolve(String(args.cwd));
      spec.process!.env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
      return await runContainer(await ctx.env({ foreground: true }), { id: path.basename(bundle), bundle });
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  },
};
