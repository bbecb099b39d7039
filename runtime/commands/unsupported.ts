/**
 * unsupported.ts declares runc's commands that tvisor does not implement yet, so that
 * `--help` lists them and calling one gives one clear error instead of "unknown command".
 * They accept any flags, as a caller written for runc would pass them.
 */
import type { Command } from './command';

const NOT_YET: [string, string][] = [
  ['checkpoint <container-id>', 'checkpoint a running container'],
  ['restore <container-id>', 'restore a container from a previous checkpoint'],
];

/** unsupported lists those commands; each fails with `<name> is not supported by tvisor yet`. */
export const unsupported: Command[] = NOT_YET.map(([command, describe]) => ({
  command,
  describe: `${describe} (not supported yet)`,
  builder: (y) => y.strict(false),
  async run() {
    throw new Error(`${command.split(' ')[0]} is not supported by tvisor yet`);
  },
}));
