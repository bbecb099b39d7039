/**
 * sigreturn decodes the frame an application hands back to rt_sigreturn(2), after
 * Linux's restore_sigcontext. The frame is in user memory and fully untrusted: the task
 * may have rewritten any byte of it, or built one from scratch.
 *
 * - General registers come back as saved; of eflags only the user-controllable bits
 *   (FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF RF) are taken, the rest (IF, IOPL...) stay.
 * - cs must be the 64-bit user code selector (RPL forced to 3 as Linux does); anything
 *   else (a kernel selector, the 32-bit one we do not run) is a bad frame. ss is forced to
 *   the user data selector unless UC_STRICT_RESTORE_SS asks for the saved one, which must
 *   then be that selector. rip must be a canonical user address. A bad frame means
 *   SIGSEGV for the task, as Linux's `badframe` path.
 * - orig_rax becomes -1 so the syscall is not restarted; rax is the saved rax (the caller
 *   must not overwrite it with rt_sigreturn's own return value).
 * - The signal mask is uc_sigmask without SIGKILL and SIGSTOP.
 * - The FP area is validated (fpframe.ts); a corrupt one resets the FP state.
 * - uc_stack is returned as the alternate stack to restore, or null when sigaltstack(2)
 *   would reject it (Linux then keeps the current one silently).
 */
import type { Registers } from '../../platform/registers';
import { decodeFpFrame, fpFrameSize } from './fpframe';
import {
  FIX_EFLAGS, FRAME, SC, SC_REGS, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, STACK_T, UC, UC_STRICT_RESTORE_SS,
  UNBLOCKABLE_MASK, USER_ADDRESS_LIMIT, USER_CS, USER_DS,
} from './layout';
import type { AltStack } from './signal-frame';

/** MINSIGSTKSZ is the smallest alternate stack sigaltstack(2) accepts on x86-64. */
export const MINSIGSTKSZ = 2048;

/** sigreturnWindow is how many bytes from rsp-8 the caller should read so that a frame built by buildSignalFrame is complete. */
export function sigreturnWindow(fpImageLength: number): number {
  return FRAME.size + 24 + fpFrameSize(fpImageLength);
}

/** SigreturnFp says what to do with the FP state. */
export type SigreturnFp =
  | { kind: 'image'; image: Buffer }
  /** reset: load the initial FP state (no FP area, or a corrupt one). */
  | { kind: 'reset' }
  /** read: the area lies outside the bytes given; read `length` bytes at `addr` and call decodeFpFrame. */
  | { kind: 'read'; addr: bigint; length: number };

/** SigreturnState is what rt_sigreturn restores, or why the frame is bad. */
export type SigreturnState =
  | { ok: true; regs: Registers; sigmask: bigint; fp: SigreturnFp; altstack: AltStack | null }
  | { ok: false; reason: string };

/** SigreturnInput is the frame bytes read at frameAddr (= rsp - 8) and the task's current state. */
export interface SigreturnInput {
  bytes: Buffer;
  frameAddr: bigint;
  /** regs are the task's registers at the rt_sigreturn syscall (for the fields the frame does not hold). */
  regs: Registers;
  /** fpImage is the task's current XSAVE image (its size, XCR0 and MXCSR mask). */
  fpImage: Buffer;
}

/** parseSigreturnFrame decodes and validates an rt_sigframe. */
export function parseSigreturnFrame(input: SigreturnInput): SigreturnState {
  const { bytes, frameAddr } = input;
  if (bytes.length < FRAME.size) return { ok: false, reason: `sigreturn: frame of ${bytes.length} bytes, want ${FRAME.size}` };
  const uc = FRAME.uc, sc = uc + UC.mcontext;
  const ucFlags = bytes.readBigUInt64LE(uc + UC.flags);
  const regs = input.regs.clone();
  SC_REGS.forEach((name, i) => {
    const v = bytes.readBigUInt64LE(sc + i * 8);
    if (name === 'eflags') regs.eflags = (input.regs.eflags & ~FIX_EFLAGS) | (v & FIX_EFLAGS);
    else regs.set(name, v);
  });
  if (regs.rip >= USER_ADDRESS_LIMIT) return { ok: false, reason: `sigreturn: rip 0x${regs.rip.toString(16)} is not a user address` };
  const cs = BigInt(bytes.readUInt16LE(sc + SC.cs) | 3);
  if (cs !== USER_CS) return { ok: false, reason: `sigreturn: cs 0x${cs.toString(16)} is not the 64-bit user code segment` };
  regs.set('cs', USER_CS);
  const ss = BigInt(bytes.readUInt16LE(sc + SC.ss) | 3);
  if ((ucFlags & BigInt(UC_STRICT_RESTORE_SS)) !== 0n && ss !== USER_DS) {
    return { ok: false, reason: `sigreturn: ss 0x${ss.toString(16)} is not the user data segment` };
  }
  regs.set('ss', USER_DS);
  regs.origRax = -1n;

  const sigmask = bytes.readBigUInt64LE(uc + UC.sigmask) & ~UNBLOCKABLE_MASK;
  return { ok: true, regs, sigmask, fp: fpOf(bytes, frameAddr, bytes.readBigUInt64LE(sc + SC.fpstate), input.fpImage), altstack: altstackOf(bytes, uc + UC.stack) };
}

function fpOf(bytes: Buffer, frameAddr: bigint, fpAddr: bigint, current: Buffer): SigreturnFp {
  if (fpAddr === 0n || fpAddr % 64n !== 0n || fpAddr >= USER_ADDRESS_LIMIT) return { kind: 'reset' };
  const length = fpFrameSize(current.length);
  const off = fpAddr - frameAddr;
  if (off < 0n || off + BigInt(length) > BigInt(bytes.length)) return { kind: 'read', addr: fpAddr, length };
  const image = decodeFpFrame(bytes.subarray(Number(off), Number(off) + length), current);
  return image ? { kind: 'image', image } : { kind: 'reset' };
}

function altstackOf(bytes: Buffer, at: number): AltStack | null {
  const sp = bytes.readBigUInt64LE(at + STACK_T.sp);
  const flags = bytes.readUInt32LE(at + STACK_T.flags);
  const size = bytes.readBigUInt64LE(at + STACK_T.size);
  const mode = flags & ~SS_AUTODISARM;
  if (mode === SS_DISABLE) return { sp: 0n, size: 0, flags: SS_DISABLE };
  if (mode !== 0 && mode !== SS_ONSTACK) return null;
  if (size < BigInt(MINSIGSTKSZ) || size > BigInt(Number.MAX_SAFE_INTEGER) || sp + size > USER_ADDRESS_LIMIT) return null;
  return { sp, size: Number(size), flags: (flags & SS_AUTODISARM) >>> 0 };
}
