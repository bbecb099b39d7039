/**
 * listing-main holds the sentry bundle's two listing commands that bin/tvisor runs
 * without the CLI (their code is the sentry's): `tvisor syscalls` and `tvisor platforms`,
 * each with `--format table|json`.
 */
import { parseArgs } from 'node:util';
import { checkPlatforms, renderPlatformChecks } from '../platform/self-check';
import { renderListing } from './syscalls/linux/listing';

/** listingFormat parses `[--format table|json]`; undefined (after one line on stderr) when argv is wrong. */
function listingFormat(command: string, argv: string[]): 'table' | 'json' | undefined {
  try {
    const format = parseArgs({ args: argv, options: { format: { type: 'string', default: 'table' } }, strict: true }).values.format!;
    if (format !== 'table' && format !== 'json') throw new Error(`--format: "${format}" is not table or json`);
    return format;
  } catch (e) {
    process.stderr.write(`tvisor ${command}: ${(e as Error).message}\n`);
    return undefined;
  }
}

/** syscallsMain implements `tvisor syscalls [--format table|json]`. */
export function syscallsMain(argv: string[]): number {
  const format = listingFormat('syscalls', argv);
  if (!format) return 2;
  process.stdout.write(renderListing(format));
  return 0;
}

/**
 * platformsMain implements `tvisor platforms [--format table|json]`: each registered
 * platform and whether its self-check passes on this host (the reason when not). It exits
 * 0 when at least one works.
 */
export function platformsMain(argv: string[]): number {
  const format = listingFormat('platforms', argv);
  if (!format) return 2;
  const checks = checkPlatforms();
  process.stdout.write(renderPlatformChecks(checks, format));
  return checks.some((c) => c.works) ? 0 : 1;
}
