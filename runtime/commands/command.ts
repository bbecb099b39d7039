/**
 * command.ts is the shape of one CLI command: a yargs command string, a one-line
 * description, a builder declaring its flags, and a handler that parses nothing more and
 * calls one operation. Every command file exports one `Command`.
 */
import type { Argv } from 'yargs';
import type { CommandContext, CommandResult } from './context';
import type { FlagSpec } from '../lean-argv';

/** Args are a command's parsed arguments, as yargs hands them over. */
export type Args = Record<string, unknown> & { _: (string | number)[] };

/** Command is one tvisor subcommand. */
export interface Command {
  command: string;
  aliases?: string[];
  describe: string;
  builder?: (y: Argv) => Argv;
  /** flags are the options the builder declares, as data: the lean parser (lean-argv.ts) reads them. */
  flags?: Record<string, FlagSpec>;
  /** lean: a plain command line of this command is parsed without yargs (lean-argv.ts). */
  lean?: boolean;
  /** positionalDefaults are the defaults the builder gives optional positionals (for the lean parser). */
  positionalDefaults?: Record<string, string>;
  run(ctx: CommandContext, args: Args): Promise<CommandResult>;
}
