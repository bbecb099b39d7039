/**
 * The signal lines of /proc/<pid>/status, as Linux's task_sig prints them: SigQ (signals
 * queued for the task's real user / its RLIMIT_SIGPENDING), SigPnd (the thread's own
 * pending signals), ShdPnd (the process's), SigBlk, SigIgn and SigCgt (the dispositions:
 * ignored, caught). ps(1)'s `s` format and psutil read them. /proc/<pid>/stat shows the
 * same sets' first 31 signals in decimal (signalStatFields).
 */
import { limitOf, RLIMIT_SIGPENDING } from '../../kernel/rlimits';
import { bit, SIG_DFL, SIG_IGN, type SignalInfo } from '../../kernel/signal-types';
import { pendingOf } from '../../kernel/signals';
import type { Task } from '../../kernel/task';

/** sigset is a set of signals as status prints one: 16 hex digits. */
function sigset(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}

/** pendingMask is the set of signals in a pending list. */
function pendingMask(list: readonly SignalInfo[]): bigint {
  let m = 0n;
  for (const s of list) m |= bit(s.signo);
  return m;
}

/** SignalMasks are a task's signal sets as /proc shows them. */
interface SignalMasks {
  /** pending is the thread's own pending signals; shared the process's. */
  pending: bigint;
  shared: bigint;
  blocked: bigint;
  ignored: bigint;
  caught: bigint;
}

/** signalMasks are task t's pending, blocked, ignored and caught signals. */
function signalMasks(t: Task): SignalMasks {
  let ignored = 0n, caught = 0n;
  t.tg.actions.forEach((a, sig) => {
    if (sig === 0) return;
    if (a.handler === SIG_IGN) ignored |= bit(sig);
    else if (a.handler !== SIG_DFL) caught |= bit(sig);
  });
  return { pending: pendingMask(t.pending), shared: pendingMask(t.tg.pending), blocked: t.sigmask, ignored, caught };
}

/** signalStatusLines are task t's signal lines, from SigQ to SigCgt. */
export function signalStatusLines(t: Task): string[] {
  const m = signalMasks(t);
  const limit = limitOf(t.tg, RLIMIT_SIGPENDING)[0];
  return [
    `SigQ:\t${pendingOf(t)}/${limit}`,
    `SigPnd:\t${sigset(m.pending)}`,
    `ShdPnd:\t${sigset(m.shared)}`,
    `SigBlk:\t${sigset(m.blocked)}`,
    `SigIgn:\t${sigset(m.ignored)}`,
    `SigCgt:\t${sigset(m.caught)}`,
  ];
}

/**
 * signalStatFields are /proc/<pid>/stat's fields 31-34 (signal, blocked, sigignore,
 * sigcatch): the thread's own pending signals, its mask and the dispositions, in decimal,
 * signals 1 to 31 only, as Linux keeps them for old readers (status has the whole sets).
 */
export function signalStatFields(t: Task): string {
  const m = signalMasks(t);
  const low = (x: bigint) => (x & 0x7fffffffn).toString();
  return `${low(m.pending)} ${low(m.blocked)} ${low(m.ignored)} ${low(m.caught)}`;
}
