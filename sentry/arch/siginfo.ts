/**
 * siginfo encodes and decodes siginfo_t (128 bytes, asm-generic/siginfo.h). Which union
 * member is used follows Linux's siginfo_layout(): kernel-generated codes (0 < code <
 * SI_KERNEL) select by signal (faults, SIGCHLD, SIGPOLL, SIGSYS); SI_TIMER is the timer
 * layout, SI_SIGIO the poll layout, other negative codes (sigqueue, tkill) the rt layout,
 * and SI_USER / SI_KERNEL the kill layout.
 *
 *   0 si_signo i32   4 si_errno i32   8 si_code i32   (16: the union)
 *   kill:  16 pid i32  20 uid u32
 *   rt:    16 pid i32  20 uid u32  24 sigval u64
 *   timer: 16 tid i32  20 overrun i32  24 sigval u64
 *   chld:  16 pid i32  20 uid u32  24 status i32  32 utime i64  40 stime i64
 *   fault: 16 addr u64
 *   poll:  16 band i64  24 fd i32
 *   sys:   16 call_addr u64  24 syscall i32  28 arch u32
 */
import { SIGINFO_SIZE } from './layout';

/** SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_SIGIO, SI_TKILL: si_code values. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_MESGQ = -3, SI_ASYNCIO = -4,
  SI_SIGIO = -5, SI_TKILL = -6;

const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11, SIGCHLD = 17, SIGPOLL = 29, SIGSYS = 31;

/** SigInfoLayout is the union member a siginfo uses. */
export type SigInfoLayout = 'kill' | 'rt' | 'timer' | 'chld' | 'fault' | 'poll' | 'sys';

/**
 * SigInfo is a signal's siginfo_t. The fields a layout does not use are ignored; it is a
 * superset of the kernel's SignalInfo (sentry/kernel/signal-types.ts).
 */
export interface SigInfo {
  signo: number;
  code: number;
  errno?: number;
  pid?: number;
  uid?: number;
  status?: number;
  utime?: bigint;
  stime?: bigint;
  addr?: bigint;
  timerid?: number;
  overrun?: number;
  value?: bigint;
  band?: bigint;
  fd?: number;
  callAddr?: bigint;
  syscall?: number;
  arch?: number;
}

/** sigInfoLayout returns the union member Linux uses for (signo, code). */
export function sigInfoLayout(signo: number, code: number): SigInfoLayout {
  if (code > SI_USER && code < SI_KERNEL) {
    switch (signo) {
      case SIGILL: case SIGFPE: case SIGSEGV: case SIGBUS: case SIGTRAP: return 'fault';
      case SIGCHLD: return 'chld';
      case SIGPOLL: return 'poll';
      case SIGSYS: return 'sys';
      default: return 'kill';
    }
  }
  if (code === SI_TIMER) return 'timer';
  if (code === SI_SIGIO) return 'poll';
  if (code < 0) return 'rt';
  return 'kill';
}

/** encodeSigInfo returns the 128-byte siginfo_t for `info`. */
export function encodeSigInfo(info: SigInfo): Buffer {
  const b = Buffer.alloc(SIGINFO_SIZE);
  b.writeInt32LE(info.signo, 0);
  b.writeInt32LE(info.errno ?? 0, 4);
  b.writeInt32LE(info.code, 8);
  const u64 = (v: bigint | undefined, off: number): void => { b.writeBigUInt64LE(BigInt.asUintN(64, v ?? 0n), off); };
  switch (sigInfoLayout(info.signo, info.code)) {
    case 'kill':
      b.writeInt32LE(info.pid ?? 0, 16); b.writeUInt32LE(info.uid ?? 0, 20); break;
    case 'rt':
      b.writeInt32LE(info.pid ?? 0, 16); b.writeUInt32LE(info.uid ?? 0, 20); u64(info.value, 24); break;
    case 'timer':
      b.writeInt32LE(info.timerid ?? 0, 16); b.writeInt32LE(info.overrun ?? 0, 20); u64(info.value, 24); break;
    case 'chld':
      b.writeInt32LE(info.pid ?? 0, 16); b.writeUInt32LE(info.uid ?? 0, 20); b.writeInt32LE(info.status ?? 0, 24);
      u64(info.utime, 32); u64(info.stime, 40); break;
    case 'fault':
      u64(info.addr, 16); break;
    case 'poll':
      u64(info.band, 16); b.writeInt32LE(info.fd ?? 0, 24); break;
    case 'sys':
      u64(info.callAddr, 16); b.writeInt32LE(info.syscall ?? 0, 24); b.writeUInt32LE(info.arch ?? 0, 28); break;
  }
  return b;
}

/** decodeSigInfo reads a siginfo_t (e.g. from rt_sigqueueinfo) back into a SigInfo. */
export function decodeSigInfo(b: Buffer): SigInfo {
  if (b.length < SIGINFO_SIZE) throw new RangeError(`siginfo: ${b.length} bytes, want ${SIGINFO_SIZE}`);
  const info: SigInfo = { signo: b.readInt32LE(0), errno: b.readInt32LE(4), code: b.readInt32LE(8) };
  switch (sigInfoLayout(info.signo, info.code)) {
    case 'kill': return { ...info, pid: b.readInt32LE(16), uid: b.readUInt32LE(20) };
    case 'rt': return { ...info, pid: b.readInt32LE(16), uid: b.readUInt32LE(20), value: b.readBigUInt64LE(24) };
    case 'timer': return { ...info, timerid: b.readInt32LE(16), overrun: b.readInt32LE(20), value: b.readBigUInt64LE(24) };
    case 'chld': return {
      ...info, pid: b.readInt32LE(16), uid: b.readUInt32LE(20), status: b.readInt32LE(24),
      utime: b.readBigInt64LE(32), stime: b.readBigInt64LE(40),
    };
    case 'fault': return { ...info, addr: b.readBigUInt64LE(16) };
    case 'poll': return { ...info, band: b.readBigInt64LE(16), fd: b.readInt32LE(24) };
    case 'sys': return { ...info, callAddr: b.readBigUInt64LE(16), syscall: b.readInt32LE(24), arch: b.readUInt32LE(28) };
  }
}
