/** kill.ts is `tvisor kill`: send a signal (default SIGTERM) to a container's init. */
import type { Command } from './command';
import type { FlagSpec } from '../lean-argv';

/** DEFAULT_SIGNAL is kill's signal when none is named, as runc's. */
const DEFAULT_SIGNAL = 'SIGTERM';
const KILL_FLAGS: Record<string, FlagSpec> = {
  all: { alias: 'a', type: 'boolean', describe: 'send the signal to all processes inside the container' },
};

/** kill is the `kill` command. */
export const kill: Command = {
  command: 'kill <container-id> [signal]',
  describe: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  builder: (y) => y
    .positional('signal', { type: 'string', default: DEFAULT_SIGNAL, describe: 'signal name (with or without SIG) or number' })
    .options(KILL_FLAGS),
  flags: KILL_FLAGS,
  positionalDefaults: { signal: DEFAULT_SIGNAL },
  lean: true,
  async run(ctx, args) {
    const { parseSignal } = await import('../container/signal');
    const signo = parseSignal(String(args.signal));
    const [{ Container }, { killContainer }] = await Promise.all([import('../container/container'), import('../container/container-kill')]);
    await Container.locked(await ctx.env(), String(args['container-id']), (c) => killContainer(c, signo, Boolean(args.all)));
  },
};
