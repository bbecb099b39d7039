/**
 * signal-frame builds the x86-64 rt_sigframe that Linux's setup_rt_frame and get_sigframe
 * (arch/x86/kernel/signal*.c) put on the user stack to run a signal handler; layout.ts
 * has the byte layout.
 *
 * Placement, from the interrupted rsp downwards:
 *   1. skip the 128-byte red zone;
 *   2. with SA_ONSTACK, an enabled alternate stack and the task not already on it, start
 *      instead at the top of the alternate stack (no red zone there);
 *   3. the FP area (xsave image + FP_XSTATE_MAGIC2), rounded down to 64 bytes;
 *   4. the frame (440 bytes) below it, placed so that frame % 16 == 8: at handler entry
 *      rsp = frame, so (rsp + 8) % 16 == 0 as right after a `call`;
 *   5. on (or entering) the alternate stack, a frame that would not fit in it is an
 *      overflow: Linux kills the task with SIGSEGV, we report it.
 *
 * The handler starts with rip = handler, rdi = signo, rsi = &frame.info, rdx = &frame.uc,
 * rax = 0, rsp = frame, DF/TF/RF cleared, the 64-bit user cs/ss. The caller writes
 * `bytes` at `frameAddr`, sets the new registers, resets the task's FP state to the
 * initial one (Linux's fpu__clear_user_states), applies sa.mask to the signal mask, and
 * disarms the alternate stack when `disarmAltstack` is set (SS_AUTODISARM).
 */
import type { FpState } from '../../platform/fpstate';
import type { Registers } from '../../platform/registers';
import { encodeFpFrame, fpFrameSize } from './fpframe';
import {
  EFLAGS, FRAME, RED_ZONE, SA_ONSTACK, SA_RESTORER, SC, SC_REGS, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, STACK_T, UC,
  UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS, USER_CS, USER_DS,
} from './layout';
import { encodeSigInfo, type SigInfo } from './siginfo';

/** AltStack is a task's sigaltstack (ss_sp, ss_size, ss_flags). */
export interface AltStack {
  sp: bigint;
  size: number;
  flags: number;
}

/** FrameAction is the part of the signal's sigaction the frame needs. */
export interface FrameAction {
  handler: bigint;
  flags: number;
  restorer: bigint;
  mask: bigint;
}

/** FaultContext is the hardware fault information Linux stores in the sigcontext (trap number, error code, cr2). */
export interface FaultContext {
  trapno: bigint;
  err: bigint;
  cr2: bigint;
}

/** SignalFrameInput is everything buildSignalFrame needs. */
export interface SignalFrameInput {
  regs: Registers;
  fp: FpState;
  /** sigmask is the mask to restore on rt_sigreturn (the mask before delivery). */
  sigmask: bigint;
  siginfo: SigInfo;
  altstack: AltStack | null;
  /** onAltStack says whether the interrupted rsp is on the alternate stack (on_sig_stack). */
  onAltStack: boolean;
  sa: FrameAction;
  fault?: FaultContext;
}

/** SignalFrame is a built frame, or why none could be built (then the task gets SIGSEGV). */
export type SignalFrame =
  | { ok: true; frameAddr: bigint; bytes: Buffer; newRegs: Registers; disarmAltstack: boolean }
  | { ok: false; reason: string };

/** altstackFlags is sas_ss_flags(): SS_DISABLE without a stack, SS_ONSTACK when on it, else 0. */
export function altstackFlags(altstack: AltStack | null, onAltStack: boolean): number {
  if (!altstack || altstack.size === 0 || (altstack.flags & SS_DISABLE) !== 0) return SS_DISABLE;
  return onAltStack ? SS_ONSTACK : 0;
}

function onStack(a: AltStack, sp: bigint): boolean {
  return sp > a.sp && sp - a.sp <= BigInt(a.size);
}

/** buildSignalFrame lays out the rt_sigframe for delivering `siginfo` to `sa.handler`. */
export function buildSignalFrame(input: SignalFrameInput): SignalFrame {
  const { regs, sa, altstack } = input;
  if ((sa.flags & SA_RESTORER) === 0 || sa.restorer === 0n) return { ok: false, reason: 'signal frame: no SA_RESTORER (required on x86-64)' };
  const image = input.fp.read();
  const ssFlags = altstackFlags(altstack, input.onAltStack);
  let sp = regs.rsp - BigInt(RED_ZONE);
  let entering = false;
  if ((sa.flags & SA_ONSTACK) !== 0 && ssFlags === 0 && altstack) {
    sp = altstack.sp + BigInt(altstack.size);
    entering = true;
  }
  const fpSize = fpFrameSize(image.length);
  const fpAddr = (sp - BigInt(fpSize)) & ~63n;
  const frameAddr = ((fpAddr - BigInt(FRAME.size)) & ~15n) - 8n;
  if ((input.onAltStack || entering) && altstack && !onStack(altstack, frameAddr)) {
    return { ok: false, reason: `signal frame: alternate stack 0x${altstack.sp.toString(16)}+${altstack.size} overflows` };
  }
  if (frameAddr <= 0n) return { ok: false, reason: 'signal frame: stack pointer wraps below zero' };

  const bytes = Buffer.alloc(Number(fpAddr - frameAddr) + fpSize);
  const u64 = (off: number, v: bigint): void => { bytes.writeBigUInt64LE(BigInt.asUintN(64, v), off); };
  u64(FRAME.pretcode, sa.restorer);
  const uc = FRAME.uc;
  u64(uc + UC.flags, BigInt(UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS));
  u64(uc + UC.link, 0n);
  u64(uc + UC.stack + STACK_T.sp, altstack?.sp ?? 0n);
  // uc_stack is the registered alternate stack as sigaltstack(2) would report it (t->sas_ss_*).
  bytes.writeInt32LE((altstack ? altstack.flags : SS_DISABLE) | 0, uc + UC.stack + STACK_T.flags);
  u64(uc + UC.stack + STACK_T.size, BigInt(altstack?.size ?? 0));
  const sc = uc + UC.mcontext;
  SC_REGS.forEach((name, i) => u64(sc + i * 8, regs.get(name)));
  bytes.writeUInt16LE(Number(regs.get('cs') & 0xffffn), sc + SC.cs);
  bytes.writeUInt16LE(0, sc + SC.gs);
  bytes.writeUInt16LE(0, sc + SC.fs);
  bytes.writeUInt16LE(Number(regs.get('ss') & 0xffffn), sc + SC.ss);
  u64(sc + SC.err, input.fault?.err ?? 0n);
  u64(sc + SC.trapno, input.fault?.trapno ?? 0n);
  u64(sc + SC.oldmask, input.sigmask);
  u64(sc + SC.cr2, input.fault?.cr2 ?? 0n);
  u64(sc + SC.fpstate, fpAddr);
  u64(uc + UC.sigmask, input.sigmask);
  encodeSigInfo(input.siginfo).copy(bytes, FRAME.info);
  encodeFpFrame(image).copy(bytes, Number(fpAddr - frameAddr));

  const newRegs = regs.clone();
  newRegs.rip = sa.handler;
  newRegs.rdi = BigInt(input.siginfo.signo);
  newRegs.rsi = frameAddr + BigInt(FRAME.info);
  newRegs.rdx = frameAddr + BigInt(FRAME.uc);
  newRegs.rax = 0n;
  newRegs.rsp = frameAddr;
  newRegs.eflags = regs.eflags & ~(EFLAGS.DF | EFLAGS.TF | EFLAGS.RF);
  newRegs.set('cs', USER_CS);
  newRegs.set('ss', USER_DS);
  const disarmAltstack = entering && altstack !== null && (altstack.flags & SS_AUTODISARM) !== 0;
  return { ok: true, frameAddr, bytes, newRegs, disarmAltstack };
}
