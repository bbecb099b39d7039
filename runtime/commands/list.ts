/** list.ts is `tvisor list`: list the containers under --root (table, JSON or ids). */
import type { StateOutput } from '../../oci/state';
import type { Command } from './command';

/** formatTable lays out rows in columns as runc's tabwriter does (min width 12, padding 3). */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(12, ...rows.map((r) => r[i].length + 3)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('') + '\n').join('');
}

function table(list: StateOutput[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const s of list) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
  return formatTable(rows);
}

/** list is the `list` command. */
export const list: Command = {
  command: 'list',
  aliases: ['ps-all'],
  describe: 'lists containers started by tvisor with the given root',
  builder: (y) => y
    .option('format', { alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'display only container IDs' }),
  async run(ctx, args) {
    const { listContainers } = await import('../container/container-state');
    const all = listContainers(await ctx.env());
    if (args.quiet) ctx.out(all.map((s) => `${s.id}\n`).join(''));
    else if (args.format === 'json') ctx.out(JSON.stringify(all) + '\n');
    else ctx.out(table(all));
  },
};
