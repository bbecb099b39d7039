/**
 * signalfd is the file of signalfd(2): reading it takes pending signals of its mask from
 * the reading task (thread-directed first, then process-directed), each as a 128-byte
 * struct signalfd_siginfo, instead of delivering them. It is readable (poll, epoll) while
 * such a signal is pending for the task that asks, as on Linux where readiness is that of
 * `current`. The signals are normally blocked by the application, so they wait in the
 * pending lists until read.
 */
import { sigInfoLayout, type SigInfo } from '../../arch';
import { Errno, fail } from '../../kernel/errors';
import { dequeueSignal, hasPendingIn, signalEvents } from '../../kernel/signals';
import type { SignalInfo } from '../../kernel/signal-types';
import type { Task } from '../../kernel/task';
import { Block, type WaitQueue } from '../../kernel/waiter';
import { O_RDWR, POLLIN, POLLRDNORM } from '../../vfs/file';
import { AnonFile } from './anon';

/** SIGNALFD_SIGINFO_SIZE is sizeof(struct signalfd_siginfo). */
export const SIGNALFD_SIGINFO_SIZE = 128;

/**
 * encodeSignalfdSiginfo returns the struct signalfd_siginfo for `info`, filling the
 * fields of its siginfo layout as Linux's signalfd_copyinfo does:
 *
 *   0 signo u32  4 errno i32  8 code i32  12 pid u32  16 uid u32  20 fd i32  24 tid u32
 *   28 band u32  32 overrun u32  36 trapno u32  40 status i32  44 int i32  48 ptr u64
 *   56 utime u64  64 stime u64  72 addr u64  80 addr_lsb u16  84 syscall i32
 *   88 call_addr u64  96 arch u32
 */
export function encodeSignalfdSiginfo(info: SigInfo): Buffer {
  const b = Buffer.alloc(SIGNALFD_SIGINFO_SIZE);
  b.writeUInt32LE(info.signo, 0);
  b.writeInt32LE(info.errno ?? 0, 4);
  b.writeInt32LE(info.code, 8);
  const value = BigInt.asUintN(64, info.value ?? 0n);
  const sigval = (): void => {
    b.writeInt32LE(Number(BigInt.asIntN(32, value)), 44);
    b.writeBigUInt64LE(value, 48);
  };
  switch (sigInfoLayout(info.signo, info.code)) {
    case 'kill':
      b.writeUInt32LE((info.pid ?? 0) >>> 0, 12); b.writeUInt32LE(info.uid ?? 0, 16); break;
    case 'rt':
      b.writeUInt32LE((info.pid ?? 0) >>> 0, 12); b.writeUInt32LE(info.uid ?? 0, 16); sigval(); break;
    case 'timer':
      b.writeUInt32LE((info.timerid ?? 0) >>> 0, 24); b.writeUInt32LE((info.overrun ?? 0) >>> 0, 32); sigval(); break;
    case 'chld':
      b.writeUInt32LE((info.pid ?? 0) >>> 0, 12); b.writeUInt32LE(info.uid ?? 0, 16); b.writeInt32LE(info.status ?? 0, 40);
      b.writeBigUInt64LE(BigInt.asUintN(64, info.utime ?? 0n), 56); b.writeBigUInt64LE(BigInt.asUintN(64, info.stime ?? 0n), 64); break;
    case 'fault':
      b.writeBigUInt64LE(BigInt.asUintN(64, info.addr ?? 0n), 72); break;
    case 'poll':
      b.writeUInt32LE(Number(BigInt.asUintN(32, info.band ?? 0n)), 28); b.writeInt32LE(info.fd ?? 0, 20); break;
    case 'sys':
      b.writeBigUInt64LE(BigInt.asUintN(64, info.callAddr ?? 0n), 88); b.writeInt32LE(info.syscall ?? 0, 84);
      b.writeUInt32LE(info.arch ?? 0, 96); break;
  }
  return b;
}

/** SignalFd is one signalfd description. */
export class SignalFd extends AnonFile {

  /** mask is the set of signals read through this file (SIGKILL and SIGSTOP never). */
  constructor(private readonly owner: Task, public mask: bigint, flags: number) {
    super('[signalfd]', O_RDWR | flags);
  }

  /** current is the task asking (the one in its syscall), else the task that made the file. */
  private current(): Task {
    return this.owner.kernel.sched.running ?? this.owner;
  }

  override read(t: Task, dst: Buffer): number | Block {
    if (dst.length < SIGNALFD_SIGINFO_SIZE) fail(Errno.EINVAL);
    let n = 0;
    while (n + SIGNALFD_SIGINFO_SIZE <= dst.length) {
      const info: SignalInfo | undefined = dequeueSignal(t, this.mask);
      if (!info) break;
      encodeSignalfdSiginfo(info).copy(dst, n);
      n += SIGNALFD_SIGINFO_SIZE;
    }
    if (n > 0) return n;
    if (this.nonblocking) fail(Errno.EAGAIN);
    return new Block([signalEvents(t.tg)]);
  }



  override readiness(): number {
    return hasPendingIn(this.current(), this.mask) ? POLLIN | POLLRDNORM : 0;
  }

  override get queue(): WaitQueue {
    return signalEvents(this.current().tg);
  }


}
