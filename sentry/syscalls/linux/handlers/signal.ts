/**
 * Signal syscalls: rt_sigaction, rt_sigprocmask, rt_sigreturn, sigaltstack,
 * rt_sigsuspend, pause, rt_sigpending, rt_sigtimedwait, signalfd/signalfd4,
 * rt_sigqueueinfo/rt_tgsigqueueinfo (alarm and the itimers: ./itimer.ts).
 */
import { groupByPid, seenBy, taskByTid } from '../../../kernel/pid-namespace';
import { encodeSigInfo } from '../../../arch';
import { Errno, fail } from '../../../kernel/errors';
import { beginSigwait, dequeueSignal, endSigwait, hasDeliverable, sendToGroup, sendToTask } from '../../../kernel/signals';
import { bit, NSIG, SIGKILL, SIGSTOP, UNBLOCKABLE, SA_RESTORER } from '../../../kernel/signal-types';
import { SignalFd } from '../../../fsimpl/anon/signalfd';
import { O_CLOEXEC, O_NONBLOCK } from '../../../vfs/file';
import { readTimespecMs } from './poll';
import { file } from './util';
import { sigreturn } from '../../../kernel/signal-frame';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { define } from '../registry';

// rt_sigaction(sig, act, oldact, sigsetsize): struct { handler, flags, restorer, mask }.
define(13, (t, r) => {
  const sig = r.argInt(0);
  if (sig < 1 || sig > NSIG || Number(r.arg(3)) !== 8) fail(Errno.EINVAL);
  const cur = t.tg.actions[sig];
  if (r.arg(2) !== 0n) {
    const b = Buffer.alloc(32);
    b.writeBigUInt64LE(cur.handler, 0);
    b.writeBigUInt64LE(BigInt(cur.flags >>> 0), 8);
    b.writeBigUInt64LE(cur.restorer, 16);
    b.writeBigUInt64LE(cur.mask, 24);
    t.mm.write(r.arg(2), b);
  }
  if (r.arg(1) !== 0n) {
    if (sig === SIGKILL || sig === SIGSTOP) fail(Errno.EINVAL);
    const b = t.mm.read(r.arg(1), 32);
    const flags = Number(b.readBigUInt64LE(8) & 0xffffffffn);
    t.tg.actions[sig] = { handler: b.readBigUInt64LE(0), flags, restorer: flags & SA_RESTORER ? b.readBigUInt64LE(16) : 0n, mask: b.readBigUInt64LE(24) & ~UNBLOCKABLE };
    // Setting SIG_IGN (or SIG_DFL for an ignore-by-default signal) discards what is pending.
    const a = t.tg.actions[sig];
    if (a.handler === 1n) {
      for (const list of [t.tg.pending, ...[...t.tg.tasks].map((x) => x.pending)]) {
        for (let i = list.length - 1; i >= 0; i--) if (list[i].signo === sig) list.splice(i, 1);
      }
    }
  }
  return 0;
}, 'full');

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
define(14, (t, r) => {
  if (Number(r.arg(3)) !== 8) fail(Errno.EINVAL);
  const how = r.argInt(0);
  const old = t.sigmask;
  if (r.arg(1) !== 0n) {
    const set = t.mm.read(r.arg(1), 8).readBigUInt64LE(0);
    switch (how) {
      case SIG_BLOCK: t.sigmask |= set; break;
      case SIG_UNBLOCK: t.sigmask &= ~set; break;
      case SIG_SETMASK: t.sigmask = set; break;
      default: fail(Errno.EINVAL);
    }
    t.sigmask &= ~UNBLOCKABLE;
  }
  if (r.arg(2) !== 0n) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(old);
    t.mm.write(r.arg(2), b);
  }
  return 0;
}, 'full');

define(15, (t) => {
  sigreturn(t);
  return null;
}, 'full');

// sigaltstack(ss, old_ss): stack_t { sp, flags(int), size }.
const SS_ONSTACK = 1, SS_DISABLE = 2, MINSIGSTKSZ = 2048;
define(131, (t, r) => {
  const a = t.altstack;
  const onStack = a.flags !== SS_DISABLE && t.regs.rsp >= a.sp && t.regs.rsp < a.sp + BigInt(a.size);
  if (r.arg(1) !== 0n) {
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(a.sp, 0);
    b.writeInt32LE(onStack ? SS_ONSTACK : a.flags, 8);
    b.writeBigUInt64LE(BigInt(a.size), 16);
    t.mm.write(r.arg(1), b);
  }
  if (r.arg(0) !== 0n) {
    const b = t.mm.read(r.arg(0), 24);
    const flags = b.readInt32LE(8);
    if (onStack) fail(Errno.EPERM);
    if (flags & ~(SS_DISABLE | 0x80000000)) fail(Errno.EINVAL);
    if (flags & SS_DISABLE) t.altstack = { sp: 0n, size: 0, flags: SS_DISABLE };
    else {
      const size = Number(b.readBigUInt64LE(16));
      if (size < MINSIGSTKSZ) fail(Errno.ENOMEM);
      t.altstack = { sp: b.readBigUInt64LE(0), size, flags: 0 };
    }
  }
  return 0;
}, 'full');

/** suspend sleeps until a signal is delivered (pause, rt_sigsuspend): always -EINTR. */
function suspend(t: Task, mask: bigint | null): number | Block {
  if (t.syscallState === undefined) {
    t.syscallState = true;
    if (mask !== null) {
      t.savedSigmask = t.sigmask;
      t.sigmask = mask & ~UNBLOCKABLE;
    }
  }
  return new Block([], undefined, true);
}
define(34, (t) => suspend(t, null), 'full');
define(130, (t, r) => {
  if (Number(r.arg(1)) !== 8) fail(Errno.EINVAL);
  return suspend(t, t.syscallState === undefined ? t.mm.read(r.arg(0), 8).readBigUInt64LE(0) : null);
}, 'full');

define(127, (t, r) => {
  let set = 0n;
  for (const s of [...t.pending, ...t.tg.pending]) set |= bit(s.signo);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(set & t.sigmask);
  t.mm.write(r.arg(0), b);
  return 0;
}, 'full');

/** queueInfo implements rt_sigqueueinfo/rt_tgsigqueueinfo: a signal carrying the caller's siginfo. */
function queueInfo(t: Task, target: 'group' | 'task', tgid: number, tid: number, sig: number, infoAddr: bigint): number {
  if (sig < 0 || sig > NSIG) fail(Errno.EINVAL);
  const b = t.mm.read(infoAddr, 128);
  const code = b.readInt32LE(8);
  if (target === 'task' && (tgid <= 0 || tid <= 0)) fail(Errno.EINVAL);
  // Only the kernel may claim kernel codes (and only the kernel sends SI_TKILL), except to
  // the caller's own process (Linux compares the target pid with the caller's).
  if ((code >= 0 || code === -6) && tgid !== seenBy(t, t.pid)) fail(Errno.EPERM);
  const info = { signo: sig, code, pid: b.readInt32LE(16), uid: b.readUInt32LE(20), value: b.readBigUInt64LE(24) };
  if (target === 'group') {
    const g = groupByPid(t, tgid);
    if (!g || !g.alive) fail(Errno.ESRCH);
    if (sig !== 0 && !sendToGroup(g, info)) fail(Errno.EAGAIN);
  } else {
    const task = taskByTid(t, tid);
    if (!task || seenBy(t, task.tg.tgid) !== tgid) fail(Errno.ESRCH);
    if (sig !== 0 && !sendToTask(task, info)) fail(Errno.EAGAIN);
  }
  return 0;
}
define(129, (t, r) => queueInfo(t, 'group', r.argInt(0), 0, r.argInt(1), r.arg(2)), 'full');
define(297, (t, r) => queueInfo(t, 'task', r.argInt(0), r.argInt(1), r.argInt(2), r.arg(3)), 'full');

interface SigwaitState {
  set: bigint;
  deadline: number | null;
}

/**
 * sigtimedwait implements rt_sigtimedwait (and so sigwait, sigwaitinfo, sigtimedwait): it
 * takes a pending signal of the set, thread-directed first, and returns its number with
 * its siginfo; else it sleeps with the set unblocked (Linux's real_blocked) until one
 * comes (EAGAIN when the timeout passes; EINTR when another signal is to be delivered;
 * never restarted).
 */
function sigtimedwait(t: Task, setAddr: bigint, infoAddr: bigint, tsAddr: bigint, size: number): number | Block {
  let st = t.syscallState as SigwaitState | undefined;
  if (!st) {
    if (size !== 8) fail(Errno.EINVAL);
    const set = t.mm.read(setAddr, 8).readBigUInt64LE(0) & ~UNBLOCKABLE;
    const ms = readTimespecMs(t, tsAddr);
    st = { set, deadline: ms === null ? null : Date.now() + ms };
    t.syscallState = st;
  }
  endSigwait(t);
  const info = dequeueSignal(t, st.set);
  if (info) {
    if (infoAddr !== 0n) t.mm.write(infoAddr, encodeSigInfo(info));
    return info.signo;
  }
  if (hasDeliverable(t)) fail(Errno.EINTR);
  if (st.deadline !== null && Date.now() >= st.deadline) fail(Errno.EAGAIN);
  beginSigwait(t, st.set);
  return new Block([], st.deadline ?? undefined, true);
}
define(128, (t, r) => sigtimedwait(t, r.arg(0), r.arg(1), r.arg(2), Number(r.arg(3))), 'full');

const SFD_CLOEXEC = O_CLOEXEC, SFD_NONBLOCK = O_NONBLOCK;

/** signalfd implements signalfd/signalfd4: a new signalfd (fd -1) or a new mask for an existing one. */
function signalfd(t: Task, fd: number, maskAddr: bigint, size: number, flags: number): number {
  if (size !== 8 || flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) fail(Errno.EINVAL);
  const mask = t.mm.read(maskAddr, 8).readBigUInt64LE(0) & ~UNBLOCKABLE;
  if (fd !== -1) {
    const f = file(t, fd);
    if (!(f instanceof SignalFd)) fail(Errno.EINVAL);
    f.mask = mask;
    return fd;
  }
  return t.fds.add(new SignalFd(t, mask, flags & SFD_NONBLOCK), (flags & SFD_CLOEXEC) !== 0);
}
define(282, (t, r) => signalfd(t, r.argInt(0), r.arg(1), Number(r.arg(2)), 0), 'full');
define(289, (t, r) => signalfd(t, r.argInt(0), r.arg(1), Number(r.arg(2)), r.argInt(3)), 'full');
