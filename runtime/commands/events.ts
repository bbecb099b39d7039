/** events.ts is `tvisor events`: resource statistics and OOM notices of a container (runc events). */
import type { Command } from './command';

/** events is the `events` command. */
export const events: Command = {
  command: 'events <container-id>',
  describe: 'display container events such as OOM notifications and resource statistics',
  builder: (y) => y
    .option('interval', { type: 'string', default: '5s', describe: 'set the stats collection interval' })
    .option('stats', { type: 'boolean', default: false, describe: "display the container's stats then exit" }),
  async run(ctx, args) {
    const [{ parseDuration, statsEvent, watchEvents }, { encodeEvent }] = await Promise.all([import('../container/container-events'), import('../container/stats')]);
    const intervalMs = parseDuration(String(args.interval));
    if (!(intervalMs > 0)) throw new Error('--interval must be greater than 0');
    const env = await ctx.env();
    const id = String(args['container-id']);
    if (args.stats) {
      ctx.out(`${encodeEvent(await statsEvent(env, id))}\n`);
      return;
    }
    // A reader that goes away (`| head -1`) ends the loop instead of an EPIPE crash.
    const stop = new AbortController();
    process.stdout.on('error', () => stop.abort());
    await watchEvents(env, id, { intervalMs, signal: stop.signal }, (e) => ctx.out(`${encodeEvent(e)}\n`));
  },
};
