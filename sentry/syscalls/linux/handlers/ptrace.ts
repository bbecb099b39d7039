/**
 * ptrace(2): the requests over the sentry's tracer/tracee model (kernel/ptrace.ts). The
 * tracee's registers are its saved Registers (struct user_regs_struct's layout) and FP
 * state (an XSAVE image); its memory is read and written through its memory manager.
 *
 * Registers a tracer writes go through the checks rt_sigreturn applies (arch/sigreturn.ts):
 * the code and stack segments stay the user ones, only the flags a user may change change,
 * rip, fs_base and gs_base stay below the user address limit; anything else is EIO.
 */
import { define } from '../registry';
import { Errno, fail, LinuxError } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { REGISTER_NAMES, REGISTERS_SIZE, type RegisterName } from '../../../../platform/registers';
import { FIX_EFLAGS, USER_ADDRESS_LIMIT, USER_CS, USER_DS } from '../../../arch/layout';
import { encodeSigInfo } from '../../../arch/siginfo';
import { NSIG, SIGKILL, SI_USER } from '../../../kernel/signal-types';
import { sendToTask } from '../../../kernel/signals';
import { pidNamespaceOf, taskByTid, tidIn } from '../../../kernel/pid-namespace';
import {
  attach, detach, interrupt, PTRACE_O_MASK, resume, stoppedTracee, traceMe, tracedBy,
} from '../../../kernel/ptrace';

const PTRACE_TRACEME = 0, PTRACE_PEEKTEXT = 1, PTRACE_PEEKDATA = 2, PTRACE_PEEKUSR = 3, PTRACE_POKETEXT = 4,
  PTRACE_POKEDATA = 5, PTRACE_POKEUSR = 6, PTRACE_CONT = 7, PTRACE_KILL = 8, PTRACE_SINGLESTEP = 9, PTRACE_GETREGS = 12, PTRACE_SETREGS = 13,
  PTRACE_GETFPREGS = 14, PTRACE_SETFPREGS = 15, PTRACE_ATTACH = 16, PTRACE_DETACH = 17, PTRACE_SETOPTIONS = 0x4200,
  PTRACE_GETSIGINFO = 0x4202, PTRACE_GETREGSET = 0x4204, PTRACE_SETREGSET = 0x4205, PTRACE_SEIZE = 0x4206,
  PTRACE_INTERRUPT = 0x4207, PTRACE_SYSCALL = 24, PTRACE_GETEVENTMSG = 0x4201, PTRACE_GET_SYSCALL_INFO = 0x420e;

/** NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE: the register sets GETREGSET/SETREGSET know. */
const NT_PRSTATUS = 1, NT_PRFPREG = 2, NT_X86_XSTATE = 0x202;
/** FXSAVE_SIZE is sizeof(struct user_fpregs_struct), the legacy part of the XSAVE image. */
const FXSAVE_SIZE = 512;
/** USER_SIZE is sizeof(struct user); u_debugreg starts at USER_DEBUGREG (PEEKUSER reads 0 there). */
const USER_SIZE = 912;
/** MXCSR_MASK keeps the MXCSR bits a CPU with DAZ accepts (a reserved bit would fault the restore). */
const MXCSR_MASK = 0xffff;

/** asEio runs an access to the tracee's memory, answering EIO for any errno it meets (Linux's ptrace_access_vm). */
function asEio<T>(access: () => T): T {
  try {
    return access();
  } catch (e) {
    if (e instanceof LinuxError) fail(Errno.EIO);
    throw e;
  }
}

/** peekWord reads the tracee's word at addr (EIO when unreadable, as Linux's generic_ptrace_peekdata). */
function peekWord(tracee: Task, addr: bigint): bigint {
  return asEio(() => tracee.mm.read(addr, 8).readBigUInt64LE(0));
}

/**
 * pokeWord writes the tracee's word at addr as Linux's FOLL_FORCE does: a private mapping
 * is written even when read-only (its copy, never the file), a shared one only when
 * writable; EIO otherwise.
 */
function pokeWord(tracee: Task, addr: bigint, word: bigint): void {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, word));
  if (addr >= USER_ADDRESS_LIMIT - 8n) fail(Errno.EIO);
  const a = Number(addr);
  const first = tracee.mm.findVma(a), last = tracee.mm.findVma(a + 7);
  if (!first || !last) fail(Errno.EIO);
  asEio(() => (first.shared || last.shared ? tracee.mm.write(addr, b) : tracee.mm.writeForce(a, b)));
}

/** putWord stores a peek's result at the caller's `data` (the raw syscall's convention). */
function putWord(t: Task, data: bigint, word: bigint): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, word));
  t.mm.write(data, b);
  return 0;
}

/**
 * setRegs replaces the tracee's registers with `buf` (user_regs_struct), checked as
 * rt_sigreturn checks a frame: EIO for a segment other than the user ones, a rip, fs_base
 * or gs_base at or past the user address limit; eflags takes only the user-changeable bits.
 */
function setRegs(tracee: Task, buf: Buffer): void {
  const regs = tracee.regs.clone();
  const next = (name: RegisterName): bigint => buf.readBigUInt64LE(REGISTER_NAMES.indexOf(name) * 8);
  for (const name of REGISTER_NAMES) {
    const v = next(name);
    switch (name) {
      case 'cs': if ((v & 0xffffn) !== USER_CS) fail(Errno.EIO); break;
      case 'ss': if ((v & 0xffffn) !== USER_DS) fail(Errno.EIO); break;
      case 'ds': case 'es': case 'fs': case 'gs': if ((v & 0xffffn) !== regs.get(name)) fail(Errno.EIO); break;
      case 'eflags': regs.eflags = (regs.eflags & ~FIX_EFLAGS) | (v & FIX_EFLAGS); break;
      case 'rip': case 'fsBase': case 'gsBase':
        if (v >= USER_ADDRESS_LIMIT) fail(Errno.EIO);
        regs.set(name, v);
        break;
      default: regs.set(name, v);
    }
  }
  tracee.regs.copyFrom(regs);
}

/** peekUser reads struct user at `off`: the registers, zeros past them (the debug registers read 0). */
function peekUser(tracee: Task, off: bigint): bigint {
  if (off % 8n !== 0n || off >= BigInt(USER_SIZE)) fail(Errno.EIO);
  if (off < BigInt(REGISTERS_SIZE)) return tracee.regs.buffer.readBigUInt64LE(Number(off));
  return 0n;
}

/** pokeUser writes one register of struct user at `off` (through setRegs' checks); EIO elsewhere. */
function pokeUser(tracee: Task, off: bigint, word: bigint): void {
  if (off % 8n !== 0n || off >= BigInt(REGISTERS_SIZE)) fail(Errno.EIO);
  const buf = Buffer.from(tracee.regs.buffer);
  buf.writeBigUInt64LE(BigInt.asUintN(64, word), Number(off));
  setRegs(tracee, buf);
}

/** setFpRegs replaces the legacy (FXSAVE) part of the tracee's FP state, MXCSR's reserved bits cleared. */
function setFpRegs(tracee: Task, legacy: Buffer): void {
  const image = Buffer.from(tracee.fp.read());
  legacy.copy(image, 0, 0, FXSAVE_SIZE);
  image.writeUInt32LE(image.readUInt32LE(24) & MXCSR_MASK, 24);
  // The XSAVE header's XSTATE_BV says x87 and SSE are in the image (else a restore resets them).
  if (image.length >= FXSAVE_SIZE + 8) image.writeBigUInt64LE(image.readBigUInt64LE(FXSAVE_SIZE) | 3n, FXSAVE_SIZE);
  tracee.fp.write(image);
}

/** regset returns register set `type` of the tracee as bytes (EINVAL for a set it does not know). */
function regset(tracee: Task, type: number): Buffer {
  switch (type) {
    case NT_PRSTATUS: return Buffer.from(tracee.regs.buffer);
    case NT_PRFPREG: return Buffer.from(tracee.fp.read().subarray(0, FXSAVE_SIZE));
    case NT_X86_XSTATE: return Buffer.from(tracee.fp.read());
    default: fail(Errno.EINVAL);
  }
}

/** iovec reads a struct iovec at addr. */
function iovec(t: Task, addr: bigint): { base: bigint; len: bigint } {
  const b = t.mm.read(addr, 16);
  return { base: b.readBigUInt64LE(0), len: b.readBigUInt64LE(8) };
}

/**
 * getRegset implements PTRACE_GETREGSET: as much of the set as the iovec holds is copied
 * and iov_len is set to what was copied.
 */
function getRegset(t: Task, tracee: Task, type: number, iovAddr: bigint): number {
  const io = iovec(t, iovAddr);
  const bytes = regset(tracee, type);
  const n = Number(io.len < BigInt(bytes.length) ? io.len : BigInt(bytes.length));
  t.mm.write(io.base, bytes.subarray(0, n));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(n));
  t.mm.write(iovAddr + 8n, len);
  return 0;
}

/** setRegset implements PTRACE_SETREGSET for the general and the legacy FP registers (a short iovec changes the first bytes only). */
function setRegset(t: Task, tracee: Task, type: number, iovAddr: bigint): number {
  const io = iovec(t, iovAddr);
  const current = regset(tracee, type);
  const n = Number(io.len < BigInt(current.length) ? io.len : BigInt(current.length));
  t.mm.read(io.base, n).copy(current, 0);
  if (type === NT_PRSTATUS) setRegs(tracee, current);
  else if (type === NT_PRFPREG) setFpRegs(tracee, current);
  else fail(Errno.EINVAL); // the XSAVE set is read-only here
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(n));
  t.mm.write(iovAddr + 8n, len);
  return 0;
}

/** signalArg checks a resume's signal number (EIO for an invalid one, as Linux's valid_signal). */
function signalArg(data: bigint): number {
  if (data > BigInt(NSIG)) fail(Errno.EIO);
  return Number(data);
}

/** AUDIT_ARCH_X86_64 is ptrace_syscall_info's arch. */
const AUDIT_ARCH_X86_64 = 0xc000003e;
const SYSCALL_INFO_NONE = 0, SYSCALL_INFO_ENTRY = 1, SYSCALL_INFO_EXIT = 2;

/**
 * syscallInfo implements PTRACE_GET_SYSCALL_INFO: struct ptrace_syscall_info (op, arch,
 * instruction and stack pointers; at an entry stop the number and arguments, at an exit
 * stop the return value and whether it is an error), as much as `size` holds; it returns
 * the size of the whole record for that op.
 */
function syscallInfo(t: Task, tracee: Task, size: bigint, addr: bigint): number {
  const b = Buffer.alloc(88);
  const kind = tracee.traced!.stop!.kind;
  const regs = tracee.regs;
  b.writeUInt32LE(AUDIT_ARCH_X86_64, 4);
  b.writeBigUInt64LE(regs.rip, 8);
  b.writeBigUInt64LE(regs.rsp, 16);
  let actual = 24; // offsetof(struct ptrace_syscall_info, entry): op none
  if (kind === 'syscall-entry') {
    b.writeUInt8(SYSCALL_INFO_ENTRY, 0);
    b.writeBigInt64LE(BigInt(regs.sysno), 24);
    for (let i = 0; i < 6; i++) b.writeBigUInt64LE(regs.arg(i), 32 + i * 8);
    actual = 80;
  } else if (kind === 'syscall-exit') {
    b.writeUInt8(SYSCALL_INFO_EXIT, 0);
    const rval = BigInt.asIntN(64, regs.rax);
    b.writeBigInt64LE(rval, 24);
    b.writeUInt8(rval < 0n && rval >= -4095n ? 1 : 0, 32);
    actual = 33;
  } else {
    b.writeUInt8(SYSCALL_INFO_NONE, 0);
  }
  const n = Number(size < BigInt(actual) ? size : BigInt(actual));
  if (n > 0) t.mm.write(addr, b.subarray(0, n));
  return actual;
}

/** logged holds the requests already logged as not implemented (one event each). */
const logged = new Set<number>();

// ptrace(request, pid, addr, data)
define(101, (t, r) => {
  const req = Number(r.arg(0) & 0xffffffffn) | 0;
  const addr = r.arg(2), data = r.arg(3);
  if (req === PTRACE_TRACEME) {
    traceMe(t);
    return 0;
  }
  const target = taskByTid(t, r.argInt(1));
  if (req === PTRACE_ATTACH || req === PTRACE_SEIZE) {
    if (!target) fail(Errno.ESRCH);
    if (req === PTRACE_SEIZE && (addr !== 0n || (data & ~BigInt(PTRACE_O_MASK)) !== 0n)) fail(Errno.EIO);
    attach(t, target, req === PTRACE_SEIZE, req === PTRACE_SEIZE ? Number(data) : 0);
    return 0;
  }
  if (req === PTRACE_KILL) {
    sendToTask(tracedBy(t, target), { signo: SIGKILL, code: SI_USER, pid: t.pid, uid: t.creds.uid });
    return 0;
  }
  if (req === PTRACE_INTERRUPT) {
    interrupt(tracedBy(t, target));
    return 0;
  }
  const tracee = stoppedTracee(t, target);
  switch (req) {
    case PTRACE_PEEKTEXT: case PTRACE_PEEKDATA: return putWord(t, data, peekWord(tracee, addr));
    case PTRACE_POKETEXT: case PTRACE_POKEDATA: pokeWord(tracee, addr, data); return 0;
    case PTRACE_PEEKUSR: return putWord(t, data, peekUser(tracee, addr));
    case PTRACE_POKEUSR: pokeUser(tracee, addr, data); return 0;
    case PTRACE_CONT: resume(t, tracee, signalArg(data)); return 0;
    case PTRACE_SYSCALL: resume(t, tracee, signalArg(data), 'syscall'); return 0;
    case PTRACE_SINGLESTEP: resume(t, tracee, signalArg(data), 'step'); return 0;
    case PTRACE_GETEVENTMSG: {
      const msg = tracee.traced!.eventMsg;
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(typeof msg === 'number' ? msg : tidIn(pidNamespaceOf(t), msg)));
      t.mm.write(data, b);
      return 0;
    }
    case PTRACE_GET_SYSCALL_INFO: return syscallInfo(t, tracee, addr, data);
    case PTRACE_DETACH: detach(t, tracee, signalArg(data)); return 0;
    case PTRACE_GETREGS: t.mm.write(data, tracee.regs.buffer); return 0;
    case PTRACE_SETREGS: setRegs(tracee, t.mm.read(data, REGISTERS_SIZE)); return 0;
    case PTRACE_GETFPREGS: t.mm.write(data, tracee.fp.read().subarray(0, FXSAVE_SIZE)); return 0;
    case PTRACE_SETFPREGS: setFpRegs(tracee, t.mm.read(data, FXSAVE_SIZE)); return 0;
    case PTRACE_GETREGSET: return getRegset(t, tracee, Number(addr & 0xffffffffn), data);
    case PTRACE_SETREGSET: return setRegset(t, tracee, Number(addr & 0xffffffffn), data);
    case PTRACE_GETSIGINFO: t.mm.write(data, encodeSigInfo(tracee.traced!.stop!.info)); return 0;
    case PTRACE_SETOPTIONS:
      if ((data & ~BigInt(PTRACE_O_MASK)) !== 0n) fail(Errno.EINVAL);
      tracee.traced!.options = Number(data);
      return 0;
    default:
      if (!logged.has(req)) {
        logged.add(req);
        t.kernel.log.info(`ptrace: request 0x${req.toString(16)} is not implemented (EIO)`);
      }
      return -Errno.EIO;
  }
}, 'partial', 'ATTACH, SEIZE, INTERRUPT, TRACEME, DETACH, CONT, SYSCALL (entry/exit stops, TRACESYSGOOD, orig_rax -1 skips), SINGLESTEP (the trap flag, hidden from the tracer), KILL, PEEK/POKE TEXT/DATA/USER, GET/SETREGS, GET/SETFPREGS, GET/SETREGSET (NT_PRSTATUS, NT_PRFPREG; NT_X86_XSTATE read only), GETSIGINFO, GETEVENTMSG, GET_SYSCALL_INFO, SETOPTIONS (EXITKILL; events FORK, VFORK, CLONE, EXEC, EXIT (at exit and exit_group, not a fatal signal); CLONE_PTRACE); signal-delivery-stops and ptrace-stops reported to wait; no SYSEMU/LISTEN/ARCH_PRCTL, debug registers (PEEKUSER reads 0, POKEUSER EIO), VFORKDONE/SECCOMP events, SETSIGINFO, PEEKSIGINFO, GET/SETSIGMASK (EIO); SETREGS refuses 32-bit segments and a rip past the user address limit (EIO, Linux takes them)');
