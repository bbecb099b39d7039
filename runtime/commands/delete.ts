/** delete.ts is `tvisor delete`: delete a stopped container (or any with --force). */
import type { Command } from './command';

/** del is the `delete` command. */
export const del: Command = {
  command: 'delete <container-id>',
  describe: 'delete any resources held by the container',
  builder: (y) => y.option('force', { alias: 'f', type: 'boolean', describe: 'forcibly delete the container if it is still running (uses SIGKILL)' }),
  async run(ctx, args) {
    const { deleteContainer } = await import('../container/container-delete');
    await deleteContainer(await ctx.env(), String(args['container-id']), Boolean(args.force));
  },
};
