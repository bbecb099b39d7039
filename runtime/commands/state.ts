/** state.ts is `tvisor state`: print the state JSON of a container. */
import type { Command } from './command';

/** state is the `state` command. */
export const state: Command = {
  command: 'state <container-id>',
  describe: 'output the state of a container',
  lean: true,
  async run(ctx, args) {
    const { containerState } = await import('../container/container-state');
    ctx.out(JSON.stringify(containerState(await ctx.env(), String(args['container-id'])), null, 2) + '\n');
  },
};
