/**
 * host-syscalls.ts holds `tvisor host-syscalls [sentry|gofer|stub]...`: the host syscalls
 * each of the sandbox's own processes may make under its seccomp filter, from the one
 * table in native/confine/host-syscalls.ts.
 */
import type { Command } from '../command';
import { HOST_PROCESSES, type HostProcess } from '../../../native/confine/host-syscalls';
import { renderHostSyscalls } from '../../../native/confine/listing';

/** hostSyscalls is the `host-syscalls` command. */
export const hostSyscalls: Command = {
  command: 'host-syscalls [process..]',
  describe: 'list the host syscalls the sentry, the gofer and the ptrace stubs may make (their seccomp allowlists)',
  builder: (y) => y
    .positional('process', { type: 'string', array: true, choices: [...HOST_PROCESSES], describe: 'sentry, gofer, stub or systrap-stub (default: all)' })
    .option('format', { choices: ['table', 'json'], default: 'table', describe: 'output format' }),
  async run(ctx, args) {
    const who = ((args.process as string[] | undefined) ?? []) as HostProcess[];
    ctx.out(renderHostSyscalls(who, args.format === 'json' ? 'json' : 'table'));
  },
};
