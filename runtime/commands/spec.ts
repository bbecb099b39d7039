/** spec.ts is `tvisor spec`: write a default config.json into the bundle (runc spec). */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultSpec } from '../../oci/default-spec';
import type { Command } from './command';

/** spec is the `spec` command; like runc it refuses to overwrite an existing config.json. */
export const spec: Command = {
  command: 'spec',
  describe: 'create a new specification file',
  builder: (y) => y
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the root of the bundle directory' })
    .option('rootless', { type: 'boolean', describe: 'generate a configuration for a rootless container' }),
  async run(_ctx, args) {
    const file = path.join(String(args.bundle), 'config.json');
    const text = JSON.stringify(defaultSpec({ rootless: Boolean(args.rootless) }), null, '\t');
    try {
      writeFileSync(file, text, { flag: 'wx', mode: 0o666 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new Error(`File ${file} exists. Remove it first`);
      throw new Error(`cannot write ${file}: ${code ?? (err as Error).message}`);
    }
  },
};
