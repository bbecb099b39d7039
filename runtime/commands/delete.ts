/** delete.ts is `tvisor delete`: delete a stopped container (or any with --force). */
import type { Command } from './command';
import type { FlagSpec } from '../lean-argv';

const DELETE_FLAGS: Record<string, FlagSpec> = {
  force: { alias: 'f', type: 'boolean', describe: 'forcibly delete the container if it is still running (uses SIGKILL)' },
};

/** del is the `delete` command. */
export const del: Command = {
  command: 'delete <container-id>',
  describe: 'delete any resources held by the container',
  builder: (y) => y.options(DELETE_FLAGS),
  flags: DELETE_FLAGS,
  lean: true,
  async run(ctx, args) {
    const { deleteContainer } = await import('../container/container-delete');
    await deleteContainer(await ctx.env(), String(args['container-id']), Boolean(args.force));
  },
};
