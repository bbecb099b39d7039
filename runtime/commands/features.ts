/** features.ts is `tvisor features`: print the OCI features document. */
import { tvisorFeatures } from '../../oci/features';
import { VERSION } from '../version';
import type { Command } from './command';

/** features is the `features` command. */
export const features: Command = {
  command: 'features',
  describe: 'show the enabled features',
  async run(ctx) {
    ctx.out(JSON.stringify(tvisorFeatures(VERSION), null, 4) + '\n');
  },
};
