/**
 * platforms.ts holds `tvisor platforms [--format table|json]`: each registered platform
 * (ptrace, systrap, kvm when registered) and whether it works on this host, with the
 * reason when it does not, from a real round trip on each (platform/self-check.ts).
 *
 * bin/tvisor runs it from the sentry's bundle (sentry/listing-main.ts), which holds the
 * platforms, before this CLI loads; it appears here so that `--help` names it and a
 * direct call explains what happened.
 */
import type { Command } from '../command';

/** platforms is the `platforms` command. */
export const platforms: Command = {
  command: 'platforms',
  describe: 'list the platforms (how the sentry runs application code) and whether each works on this host',
  builder: (y) => y.option('format', { choices: ['table', 'json'], default: 'table', describe: 'output format' }),
  async run() {
    throw new Error('platforms: bin/tvisor runs it from the sentry bundle in dist/, which is missing from this build');
  },
};
