/** start.ts is `tvisor start`: run the user program of a created container. */
import type { Command } from './command';

/** start is the `start` command. */
export const start: Command = {
  command: 'start <container-id>',
  describe: 'executes the user defined process in a created container',
  lean: true,
  async run(ctx, args) {
    const [{ Container }, { startContainer }] = await Promise.all([import('../container/container'), import('../container/container-start')]);
    await Container.locked(await ctx.env(), String(args['container-id']), startContainer);
  },
};
