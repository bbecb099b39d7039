/** run.ts is `tvisor run`: create and start a container, then wait for it unless detached. */
import type { Command } from './command';
import { CREATE_FLAGS, createFlags } from './create';

const RUN_FLAGS = { ...CREATE_FLAGS, detach: { alias: 'd', type: 'boolean', describe: 'detach from the container once it runs' } } as const;

/** run is the `run` command. */
export const run: Command = {
  command: 'run <container-id>',
  describe: 'create and run a container',
  builder: (y) => createFlags(y).option('detach', RUN_FLAGS.detach),
  flags: RUN_FLAGS,
  lean: true,
  async run(ctx, args) {
    const { runContainer } = await import('../container/container-run');
    // In the foreground the sandbox stays in this session (a terminal's ^C reaches it) and
    // this process waits for it; detached, it gets a session of its own, as with create.
    return runContainer(await ctx.env({ foreground: !args.detach }), {
      id: String(args['container-id']),
      bundle: String(args.bundle),
      pidFile: args['pid-file'] as string | undefined,
      consoleSocket: args['console-socket'] as string | undefined,
      preserveFds: args['preserve-fds'] as number | undefined,
      detach: Boolean(args.detach),
    });
  },
};
