/**
 * The glue between signal delivery and the x86-64 frame layout (sentry/arch): push a
 * handler frame on the task's stack, and restore from it in rt_sigreturn. A frame that
 * cannot be written or a forged frame on sigreturn kills the task with SIGSEGV, as
 * Linux does.
 */
import { buildSignalFrame, parseSigreturnFrame, sigreturnWindow, decodeFpFrame } from '../arch';
import { LinuxError } from './errors';
import { SIGSEGV, type SigAction, type SignalInfo } from './signal-types';
import type { Task } from './task';
import { exitGroup } from './task-exit';

function onAltStack(t: Task): boolean {
  const a = t.altstack;
  const sp = t.regs.rsp;
  return a.flags !== 2 && a.size > 0 && sp > a.sp && sp - a.sp <= BigInt(a.size);
}

/** pushSignalFrame sets up t to run the handler of info; false when the stack cannot take the frame. */
export function pushSignalFrame(t: Task, info: SignalInfo, action: SigAction, oldMask: bigint): boolean {
  const frame = buildSignalFrame({
    regs: t.regs,
    fp: t.fp,
    sigmask: oldMask,
    siginfo: { signo: info.signo, code: info.code, pid: info.pid, uid: info.uid, status: info.status, addr: info.addr, value: info.value, timerid: info.timerid, overrun: info.overrun },
    altstack: t.altstack.flags === 2 ? null : t.altstack,
    onAltStack: onAltStack(t),
    sa: action,
    fault: info.addr !== undefined ? { trapno: 14n, err: 4n, cr2: info.addr } : undefined,
  });
  if (!frame.ok) {
    t.kernel.log.debug(`task ${t.tid}: ${frame.reason}`);
    return false;
  }
  try {
    t.mm.write(frame.frameAddr, frame.bytes);
  } catch (e) {
    if (e instanceof LinuxError) return false;
    throw e;
  }
  t.regs = frame.newRegs;
  if (frame.disarmAltstack) t.altstack = { sp: 0n, size: 0, flags: 2 };
  return true;
}

/** sigreturn restores the registers, mask and FP state saved by pushSignalFrame. */
export function sigreturn(t: Task): void {
  const frameAddr = t.regs.rsp - 8n;
  const image = t.fp.read();
  let bytes: Buffer;
  try {
    bytes = t.mm.read(frameAddr, sigreturnWindow(image.length));
  } catch {
    exitGroup(t, { signal: SIGSEGV, core: true });
    return;
  }
  const st = parseSigreturnFrame({ bytes, frameAddr, regs: t.regs, fpImage: image });
  if (!st.ok) {
    t.kernel.log.debug(`task ${t.tid}: rt_sigreturn: ${st.reason}`);
    exitGroup(t, { signal: SIGSEGV, core: true });
    return;
  }
  t.regs = st.regs;
  t.sigmask = st.sigmask;
  if (st.altstack) t.altstack = st.altstack;
  if (st.fp.kind === 'image') t.fp.write(st.fp.image);
  else if (st.fp.kind === 'reset') t.fp.write(t.kernel.platform.newFpState().read());
  else {
    try {
      const area = t.mm.read(st.fp.addr, st.fp.length);
      const img = decodeFpFrame(area, image);
      t.fp.write(img ?? t.kernel.platform.newFpState().read());
    } catch {
      exitGroup(t, { signal: SIGSEGV, core: true });
    }
  }
}
