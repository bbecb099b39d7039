/** pause.ts is `tvisor pause` and `tvisor resume`. */
import type { Command } from './command';

function pauseCommand(pause: boolean): Command {
  return {
    command: `${pause ? 'pause' : 'resume'} <container-id>`,
    describe: pause ? 'pause suspends all processes inside the container' : 'resumes all processes that have been previously paused',
    async run(ctx, args) {
      const [{ Container }, { pauseContainer }] = await Promise.all([import('../container/container'), import('../container/container-pause')]);
      await Container.locked(await ctx.env(), String(args['container-id']), (c) => pauseContainer(c, pause));
    },
  };
}

/** pause and resume are the `pause` and `resume` commands. */
export const pause = pauseCommand(true);
export const resume = pauseCommand(false);
