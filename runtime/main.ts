/**
 * main.ts is the entry point of dist/tvisor.js: bin/tvisor calls `main(argv)` with the
 * arguments after the program name and exits with the number it resolves to.
 *
 * Nothing runs at import time: this process is on the container start path, so the CLI
 * (and through it yargs, winston, koffi) is loaded only when main is called, and each
 * command loads only what it uses. `--version` is answered without loading the CLI.
 */
import { wantsVersion } from './argv-scan';
import { profileMark } from '../native/startup-profile';

/** main runs the tvisor command line `argv` and resolves with the process exit status. */
export async function main(argv: string[]): Promise<number> {
  if (wantsVersion(argv)) {
    const { versionText } = await import('./version');
    process.stdout.write(versionText());
    return 0;
  }
  const { runCli } = await import('./cli');
  profileMark('cli-loaded');
  return runCli(argv);
}
