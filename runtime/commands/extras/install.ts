/**
 * install.ts holds `tvisor install` and `tvisor uninstall`: register tvisor as a Docker
 * runtime in daemon.json (dockerd must be reloaded to see it), or remove it.
 *
 *   tvisor install [--config-file F] [--runtime NAME] [-- GLOBAL-FLAGS...]
 *
 * As `runsc install`, whatever follows `--` becomes the entry's runtimeArgs, given by
 * dockerd (through containerd's shim) before every command: e.g. `-- --debug --debug-log
 * /var/log/tvisor.log`.
 */
import * as path from 'node:path';
import type { Command } from '../command';

/** selfPath returns the absolute path of the bin/tvisor that is running. */
export function selfPath(): string {
  // In the bundle, this file is dist/tvisor.js and the launcher is ../bin/tvisor.
  if (process.env.TVISOR_BUNDLED) return path.resolve(__dirname, '..', 'bin', 'tvisor');
  return path.resolve(process.argv[1] ?? 'tvisor');
}

const flags = {
  'config-file': { type: 'string', default: '/etc/docker/daemon.json', describe: 'path of the Docker daemon configuration file' },
  runtime: { type: 'string', default: 'tvisor', describe: 'name of the runtime in daemon.json' },
} as const;

/** install is the `install` command. */
export const install: Command = {
  command: 'install',
  describe: 'add tvisor to the runtimes of the Docker daemon configuration',
  builder: (y) => y.options(flags).parserConfiguration({ 'populate--': true }),
  async run(ctx, args) {
    const { installRuntime } = await import('../../docker/daemon-json');
    const file = String(args['config-file']);
    const runtimeArgs = ((args['--'] as unknown[] | undefined) ?? []).map(String);
    installRuntime(file, String(args.runtime), { path: selfPath(), ...(runtimeArgs.length ? { runtimeArgs } : {}) });
    const withArgs = runtimeArgs.length ? ` with runtimeArgs ${JSON.stringify(runtimeArgs)}` : '';
    ctx.out(`added runtime "${args.runtime}" (${selfPath()})${withArgs} to ${file}; reload dockerd to use it\n`);
  },
};

/** uninstall is the `uninstall` command. */
export const uninstall: Command = {
  command: 'uninstall',
  describe: 'remove tvisor from the runtimes of the Docker daemon configuration',
  builder: (y) => y.options(flags),
  async run(ctx, args) {
    const { uninstallRuntime } = await import('../../docker/daemon-json');
    const file = String(args['config-file']);
    const removed = uninstallRuntime(file, String(args.runtime));
    ctx.out(removed ? `removed runtime "${args.runtime}" from ${file}\n` : `runtime "${args.runtime}" was not in ${file}\n`);
  },
};
