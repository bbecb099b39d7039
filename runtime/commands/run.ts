/** run.ts is `tvisor run`: create and start a container, then wait for it unless detached. */
import type { Command } from './command';
import { CREATE_FLAGS, createFlags } from './create';

const RUN_FLAGS = {
  ...CREATE_FLAGS,
  detach: { alias: 'd', type: 'boolean', describe: 'detach from the container once it runs' },
  keep: { type: 'boolean', describe: 'do not delete the container after it exits' },
  // tvisor's foreground run is the sandbox's parent and reaps it; it never makes itself a
  // subreaper (the sentry reaps the container's processes), so there is nothing to disable.
  'no-subreaper': { type: 'boolean', describe: 'accepted as runc does (tvisor never uses a subreaper: the sentry reaps the container\'s processes)' },
} as const;

/** run is the `run` command. */
export const run: Command = {
  command: 'run <container-id>',
  describe: 'create and run a container',
  builder: (y) => createFlags(y).options({ detach: RUN_FLAGS.detach, keep: RUN_FLAGS.keep, 'no-subreaper': RUN_FLAGS['no-subreaper'] }),
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
      keep: Boolean(args.keep),
    });
  },
};
