/**
 * strace-style lines for --strace: the syscall's name and decoded arguments (the table
 * in ./table) and its result, one line per completed syscall, tagged with the task id.
 */
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import { formatResult, formatSyscall, type FormatMemory } from './table/format';
import { syscallName } from './table/syscalls';
import type { SyscallResult } from './registry';

export { syscallName };

function memOf(t: Task): FormatMemory {
  return {
    readCString: (addr, max) => {
      try {
        return t.mm.readString(addr, max);
      } catch {
        return null;
      }
    },
    read: (addr, len) => {
      try {
        return t.mm.read(addr, len);
      } catch {
        return null;
      }
    },
  };
}

/** straceLine renders one completed syscall of task t. */
export function straceLine(t: Task, nr: number, r: SyscallResult): string {
  const args = [0, 1, 2, 3, 4, 5].map((i) => t.regs.arg(i));
  const mem = memOf(t);
  if (r === null || r instanceof Block) return `[${t.tid}] ${formatSyscall(nr, args, mem)} = ?`;
  const ret = typeof r === 'bigint' ? r : BigInt(r);
  return `[${t.tid}] ${formatSyscall(nr, args, mem, ret)} ${formatResult(nr, ret, args, mem)}`;
}
