/** ps.ts is `tvisor ps`: the processes of a container, in sandbox pids (as runsc shows them). */
import type { Command } from './command';

/** ps is the `ps` command. */
export const ps: Command = {
  command: 'ps <container-id>',
  describe: 'ps displays the processes running inside a container',
  builder: (y) => y.option('format', { alias: 'f', type: 'string', choices: ['table', 'json'], default: 'table' }),
  async run(ctx, args) {
    const { Container } = await import('../container/container');
    const env = await ctx.env();
    const list = await Container.locked(env, String(args['container-id']), async (c) => {
      const status = c.status();
      if (status === 'stopped' || status === 'creating') return [];
      return (await env.sandbox.processes?.(c.sandboxRef())) ?? [];
    });
    if (args.format === 'json') {
      ctx.out(`${JSON.stringify(list.map((p) => p.pid))}\n`);
      return;
    }
    const time = (ms: number) => new Date(ms).toTimeString().slice(0, 5);
    const rows = list.map((p) => `${String(p.uid).padEnd(8)} ${String(p.pid).padStart(5)} ${String(p.ppid).padStart(5)} ${time(p.start)} ${p.cmd}`);
    ctx.out(`UID        PID  PPID STIME CMD\n${rows.join('\n')}${rows.length ? '\n' : ''}`);
  },
};
