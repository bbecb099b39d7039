/**
 * vsyscall emulates the legacy vsyscall page, as Linux does in its default `xonly` mode:
 * a call to one of three fixed entries behaves as the syscall and returns to the caller.
 *
 *   0xffffffffff600000  gettimeofday(tv, tz)
 *   0xffffffffff600400  time(tloc)
 *   0xffffffffff600800  getcpu(cpu, node, cache)
 *
 * Under the ptrace platform the host kernel (vsyscall=xonly here: /proc/self/maps of a
 * native process shows `--xp ... [vsyscall]`) emulates such a call itself, and first asks
 * seccomp: the stub's filter answers SECCOMP_RET_TRAP for any instruction pointer in that
 * page (native/stub/stub.S), so the host skips the call, pops the return address
 * (ip = caller, sp += 8) and raises SIGSYS (si_code SYS_SECCOMP, si_call_addr = the
 * entry). The tracer sees that SIGSYS; the sentry runs the syscall and puts its result in
 * rax. On a host with vsyscall=none the call is a plain SIGSEGV at the entry, and the
 * sentry pops the return address itself. A call to any other address of the page gets
 * SIGSEGV from the host, which the sentry passes on like any fault.
 */
import type { Task } from './task';
import { dispatchSyscall } from '../syscalls/linux/dispatch';
import { Block } from './waiter';

/** VSYSCALL_START is the address of the vsyscall page. */
export const VSYSCALL_START = 0xffffffffff600000n;

/** ENTRIES maps each entry to its syscall number. */
const ENTRIES = new Map<bigint, number>([
  [VSYSCALL_START, 96],
  [VSYSCALL_START + 0x400n, 201],
  [VSYSCALL_START + 0x800n, 309],
]);

/** isVsyscallEntry tells whether addr is one of the three entries. */
export function isVsyscallEntry(addr: bigint): boolean {
  return ENTRIES.has(addr);
}

/**
 * emulateVsyscall answers a call to the entry `entry`: the syscall runs with the call's
 * arguments (rdi, rsi, rdx), its result goes to rax, and the task resumes at its caller.
 * `popped` says the host already emulated the `ret`. It returns false when `entry` is not
 * an entry or the return address cannot be read: the caller then sends SIGSEGV.
 */
export function emulateVsyscall(t: Task, entry: bigint, popped: boolean): boolean {
  const nr = ENTRIES.get(entry);
  if (nr === undefined) return false;
  if (!popped) {
    let ret: bigint;
    try {
      ret = t.mm.read(t.regs.rsp, 8).readBigUInt64LE(0);
    } catch {
      return false;
    }
    t.regs.rip = ret;
    t.regs.rsp += 8n;
  }
  t.regs.origRax = BigInt(nr);
  // The three never block; the container's seccomp profile applies, as on Linux.
  const r = dispatchSyscall(t, 'vsyscall');
  t.regs.origRax = 0xffffffffffffffffn;
  if (r !== null && !(r instanceof Block)) t.regs.setReturn(r);
  return true;
}
