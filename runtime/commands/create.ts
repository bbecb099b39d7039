/** create.ts is `tvisor create`: create a container from a bundle (runc create). */
import type { Argv } from 'yargs';
import type { Command } from './command';
import type { FlagSpec } from '../lean-argv';

/** CREATE_FLAGS are the flags create and run share with runc. */
export const CREATE_FLAGS: Record<string, FlagSpec> = {
  bundle: { alias: 'b', type: 'string', default: '.', describe: 'path to the bundle directory' },
  'console-socket': { type: 'string', describe: 'AF_UNIX socket that receives the pty master of the console' },
  'pid-file': { type: 'string', describe: 'file to write the sandbox process id to' },
  'no-pivot': { type: 'boolean', describe: 'accepted for runc compatibility (no effect)' },
  'no-new-keyring': { type: 'boolean', describe: 'accepted for runc compatibility (no effect)' },
  'preserve-fds': { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container' },
};

/** createFlags declares the flags create and run share with runc. */
export function createFlags(y: Argv): Argv {
  return y
    // runc's --no-pivot, --no-new-keyring (and run's --no-subreaper) are flags of their own,
    // not negations of a --pivot, --new-keyring, --subreaper.
    .parserConfiguration({ 'boolean-negation': false })
    .positional('container-id', { type: 'string', describe: 'unique name of the container' })
    .options(CREATE_FLAGS);
}

/** create is the `create` command. */
export const create: Command = {
  command: 'create <container-id>',
  describe: 'create a container',
  builder: createFlags,
  flags: CREATE_FLAGS,
  lean: true,
  async run(ctx, args) {
    const { createContainer } = await import('../container/container-create');
    await createContainer(await ctx.env(), {
      id: String(args['container-id']),
      bundle: String(args.bundle),
      pidFile: args['pid-file'] as string | undefined,
      consoleSocket: args['console-socket'] as string | undefined,
      preserveFds: args['preserve-fds'] as number | undefined,
    });
  },
};
