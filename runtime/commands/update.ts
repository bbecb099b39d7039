/** update.ts is `tvisor update`: new resource limits for a container (runc update). */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import type { Command } from './command';

const DESCRIBE: Record<string, string> = {
  'blkio-weight': 'per cgroup block I/O weight, from 10 to 1000',
  'cpu-period': 'CPU CFS period to be used for hardcapping (in usecs); 0 leaves it unchanged',
  'cpu-quota': 'CPU CFS hardcap limit (in usecs): allowed CPU time in a given period',
  'cpu-share': 'CPU shares (relative weight vs. other containers)',
  'cpu-rt-period': 'CPU realtime period to be used for hardcapping (in usecs)',
  'cpu-rt-runtime': 'CPU realtime hardcap limit (in usecs)',
  'cpuset-cpus': 'CPU(s) to use',
  'cpuset-mems': 'memory node(s) to use',
  'kernel-memory': '(obsolete; ignored)',
  'kernel-memory-tcp': '(obsolete; ignored)',
  memory: 'memory limit (bytes, or with a k, m, g suffix)',
  'memory-reservation': 'memory reservation or soft limit (bytes, or with a k, m, g suffix)',
  'memory-swap': "total memory usage (memory + swap); '-1' for unlimited swap",
  'pids-limit': 'maximum number of pids allowed in the container (-1: unlimited)',
};

/** update is the `update` command. */
export const update: Command = {
  command: 'update <container-id>',
  describe: 'update container resource constraints',
  builder: (y) => {
    // nargs 1: the value may be `-` (standard input, as containerd's shim and docker update
    // send it), which yargs would otherwise read as a flag of its own and leave the id over.
    let out: Argv = y.option('resources', {
      alias: 'r', type: 'string', nargs: 1, describe: "JSON file of linux.resources fields to update, or '-' for standard input (the other flags are then ignored)",
    });
    for (const [flag, describe] of Object.entries(DESCRIBE)) {
      out = out.option(flag, { type: 'string', describe, ...(flag === 'cpu-share' ? { alias: 'cpu-shares' } : {}) });
    }
    return out;
  },
  async run(ctx, args) {
    const [{ Container }, u] = await Promise.all([import('../container/container'), import('../container/container-update')]);
    let req;
    const file = args.resources as string | undefined;
    if (file !== undefined && file !== '') {
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        throw new Error(`-r ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
      req = u.parseResourcesJson(text, file === '-' ? 'standard input' : file);
    } else {
      const flags: Record<string, string> = {};
      for (const f of u.UPDATE_FLAGS) if (args[f] !== undefined) flags[f] = String(args[f]);
      req = u.parseUpdateFlags(flags);
    }
    await Container.locked(await ctx.env(), String(args['container-id']), (c) => u.updateContainer(c, req));
  },
};
