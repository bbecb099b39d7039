/**
 * ps.ts is `tvisor ps`: the processes of a container as runc shows them. `--format json`
 * is the list of host pids that run the container's processes (under the ptrace platform,
 * one stub process per address space); the table is host ps(1) run with the arguments
 * after the container id (default `-ef`), keeping its header and the lines of those pids,
 * which is what runc does and what `docker top` expects.
 */
import type { Command } from './command';
import { endFlagsAfterId } from '../argv-scan';

const PS_VALUE_FLAGS = new Set(['-f', '--format']);

/** endPsFlags inserts `--` after ps's container id: what follows is ps(1)'s (runc ps ID -o pid,comm). */
export function endPsFlags(args: string[]): string[] {
  return endFlagsAfterId(args, PS_VALUE_FLAGS);
}

/** filterPsTable keeps ps(1)'s header and its lines whose PID column is one of `pids`. */
export function filterPsTable(output: string, pids: ReadonlySet<number>): string {
  const lines = output.split('\n');
  const at = lines[0].trim().split(/\s+/).indexOf('PID');
  if (at < 0) throw new Error("couldn't find PID field in ps output");
  const kept = lines.slice(1).filter((l) => l.trim() !== '' && pids.has(Number(l.trim().split(/\s+/)[at])));
  return `${[lines[0], ...kept].join('\n')}\n`;
}

/** ps is the `ps` command. */
export const ps: Command = {
  // The CLI puts `--` after the id (endPsFlags); yargs then leaves ps(1)'s arguments in `_`.
  command: 'ps <container-id> [ps-options..]',
  describe: 'ps displays the processes running inside a container',
  builder: (y) => y
    .positional('ps-options', { type: 'string', array: true, describe: 'arguments of ps(1) (default: -ef)' })
    .option('format', { alias: 'f', type: 'string', choices: ['table', 'json'], default: 'table' }),
  async run(ctx, args) {
    const { Container } = await import('../container/container');
    const env = await ctx.env();
    const list = await Container.locked(env, String(args['container-id']), async (c) => {
      const status = c.status();
      if (status === 'stopped' || status === 'creating') return [];
      return (await env.sandbox.processes?.(c.sandboxRef())) ?? [];
    });
    // Threads and vfork children share their process's host pid: each is listed once.
    const pids = [...new Set(list.map((p) => p.hostPid).filter((p): p is number => p !== undefined))];
    if (args.format === 'json') {
      ctx.out(`${JSON.stringify(pids)}\n`);
      return;
    }
    const given = ((args['ps-options'] as unknown[] | undefined) ?? []).map(String);
    const psArgs = given.length > 0 ? given : args._.slice(1).map(String);
    // Loaded here: cli.ts imports every command, and child_process would cost each of them ~2 ms.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const r = spawnSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8' });
    if (r.error) throw new Error(`ps: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`ps ${psArgs.join(' ')}: exit status ${r.status}: ${(r.stdout + r.stderr).trim().split('\n')[0]}`);
    ctx.out(filterPsTable(r.stdout, new Set(pids)));
  },
};
