/**
 * run is the minimal syscall handler loop of the platform tests: it switches a task
 * until exit/exit_group or any non-syscall event (time slices aside), answering other syscalls with
 * `handler` (whose return value goes to rax; ENOSYS when it returns undefined).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { AddressSpace, Context, SwitchResult } from '../platform';
import type { Registers } from '../registers';
import type { FpState } from '../fpstate';

const SYS_exit = 60, SYS_exit_group = 231;
/** SLICE_SIGNAL is the stub's time-slice signal (SIGVTALRM, native/stub/stub.S). */
const SLICE_SIGNAL = 26;
const ENOSYS = 38;

/** RunOutcome is how a test task stopped. */
export type RunOutcome = { kind: 'exit'; code: number; syscalls: number } | { kind: 'event'; event: SwitchResult; syscalls: number };

/** SyscallHandler answers one syscall; undefined means ENOSYS. */
export type SyscallHandler = (regs: Registers) => number | bigint | undefined;

/** runTask runs `regs` in `as` on `ctx` until it exits or an event other than a syscall. */
export function runTask(ctx: Context, as: AddressSpace, regs: Registers, handler: SyscallHandler, fp?: FpState): RunOutcome {
  for (let syscalls = 0; ; syscalls++) {
    const r = ctx.switch(as, regs, fp);
    // The end of a time slice is not an event of the task: switch back in, as the sentry does.
    if (r.kind === 'interrupted' && r.signal === SLICE_SIGNAL) {
      syscalls--;
      continue;
    }
    if (r.kind !== 'syscall') return { kind: 'event', event: r, syscalls };
    const nr = regs.sysno;
    if (nr === SYS_exit || nr === SYS_exit_group) return { kind: 'exit', code: regs.argInt(0), syscalls };
    const v = handler(regs);
    regs.setReturn(v === undefined ? -ENOSYS : v);
  }
}

/** TEST_PROGRAM_DIR is where `make` puts the compiled test programs. */
export const TEST_PROGRAM_DIR = path.resolve(__dirname, '../../build/platform/testing');

/** testProgram returns the path of compiled test program `name`. */
export function testProgram(name: string): string {
  return path.join(TEST_PROGRAM_DIR, name);
}

/** missingTestPrograms lists the test programs `make` has not built. */
export function missingTestPrograms(names: string[]): string[] {
  return names.filter((n) => !existsSync(testProgram(n)));
}
