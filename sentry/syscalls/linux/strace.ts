/**
 * strace-style lines for --strace: the syscall's name and arguments (decoded by the
 * table in ./table) and its result.
 */
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import { errnoName } from '../../../native/libc';
import { syscallName } from './table/syscalls';
import type { SyscallResult } from './registry';

export { syscallName };

/** straceLine renders one completed syscall of task t. */
export function straceLine(t: Task, nr: number, r: SyscallResult): string {
  const args = [0, 1, 2, 3, 4, 5].map((i) => `0x${t.regs.arg(i).toString(16)}`).join(', ');
  let ret: string;
  if (r === null) ret = '?';
  else if (r instanceof Block) ret = '(blocked)';
  else {
    const n = typeof r === 'bigint' ? r : BigInt(r);
    ret = n < 0n && n > -4096n ? `-1 ${errnoName(Number(-n))}` : n < 4096n ? n.toString() : `0x${n.toString(16)}`;
  }
  return `[${t.tid}] ${syscallName(nr)}(${args}) = ${ret}`;
}
