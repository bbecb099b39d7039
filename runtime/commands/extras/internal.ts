/**
 * internal.ts lists the commands tvisor runs for itself. bin/tvisor dispatches `gofer`
 * and `sentry` to their own bundles before this CLI loads; they appear here so that
 * `--help` names them and a direct call explains what happened.
 */
import type { Command } from '../command';

function internal(name: string, describe: string, isInternal = true): Command {
  return {
    command: name,
    describe: isInternal ? `${describe} (internal; started by tvisor itself)` : describe,
    builder: (y) => y.strict(false),
    async run() {
      throw new Error(`${name}: bin/tvisor runs it from its own bundle in dist/, which is missing from this build`);
    },
  };
}

/** gofer is the internal `gofer` command: serve a container's files over 9P. */
export const gofer = internal('gofer', "serve a container's files to its sentry over 9P");
/** sentry is the internal `sentry` command: the user-space kernel of a sandbox. */
export const sentry = internal('sentry', 'run the user-space kernel of a sandbox');
/** syscalls lists the syscall table with support levels (run from the sentry's bundle). */
export const syscalls = internal('syscalls', 'list the x86-64 syscalls and how completely the sentry implements each', false);
