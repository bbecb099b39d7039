/**
 * The sentry's syscall handlers, keyed by x86-64 syscall number (names and argument
 * formats live in ./table). Every handler has one signature: (task, regs) => result,
 * where the result is the return value (negative: -errno), a Block (the task sleeps and
 * the handler runs again when woken), or null (the handler set the registers itself:
 * execve, rt_sigreturn). A handler may also throw LinuxError(errno).
 */
import type { Registers } from '../../../platform';
import type { Task } from '../../kernel/task';
import type { Block } from '../../kernel/waiter';

/** SyscallResult is what a handler returns. */
export type SyscallResult = number | bigint | Block | null;

/** Handler implements one syscall. */
export type Handler = (t: Task, r: Registers) => SyscallResult;

/** Support says how complete a syscall's implementation is. */
export type Support = 'full' | 'partial';

/** Entry is one implemented syscall. */
export interface Entry {
  handler: Handler;
  support: Support;
  note?: string;
}

/** HANDLERS maps syscall numbers to handlers; modules add theirs with define(). */
export const HANDLERS = new Map<number, Entry>();

/**
 * define registers the handler of syscall `nr` with its support level, always explicit:
 * `full` only where Linux's behaviour is implemented completely and a behaviour test
 * makes the call (spec-tests/coverage checks it); `partial` with a note saying what is
 * missing.
 */
export function define(nr: number, handler: Handler, support: 'full', note?: string): void;
export function define(nr: number, handler: Handler, support: 'partial', note: string): void;
export function define(nr: number, handler: Handler, support: Support, note?: string): void {
  if (HANDLERS.has(nr)) throw new Error(`syscall ${nr} defined twice`);
  HANDLERS.set(nr, { handler, support, note });
}

/** SYSCALL_COVERAGE starts the line the sentry logs at the end of a sandbox run with
 * --syscall-coverage: the numbers of the implemented syscalls the container made, comma
 * separated (read by spec-tests/coverage/). */
export const SYSCALL_COVERAGE = 'syscall coverage:';
