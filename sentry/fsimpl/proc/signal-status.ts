/**
 * The signal lines of /proc/<pid>/status, as Linux's task_sig prints them: SigQ (signals
 * queued for the task's real user / its RLIMIT_SIGPENDING), SigPnd (the thread's own
 * pending signals), ShdPnd (the process's), SigBlk, SigIgn and SigCgt (the dispositions:
 * ignored, caught). ps(1)'s `s` format and psutil read them.
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

/** signalStatusLines are task t's signal lines, from SigQ to SigCgt. */
export function signalStatusLines(t: Task): string[] {
  let ign = 0n, cgt = 0n;
  t.tg.actions.forEach((a, sig) => {
    if (sig === 0) return;
    if (a.handler === SIG_IGN) ign |= bit(sig);
    else if (a.handler !== SIG_DFL) cgt |= bit(sig);
  });
  const limit = limitOf(t.tg, RLIMIT_SIGPENDING)[0];
  return [
    `SigQ:\t${pendingOf(t)}/${limit}`,
    `SigPnd:\t${sigset(pendingMask(t.pending))}`,
    `ShdPnd:\t${sigset(pendingMask(t.tg.pending))}`,
    `SigBlk:\t${sigset(t.sigmask)}`,
    `SigIgn:\t${sigset(ign)}`,
    `SigCgt:\t${sigset(cgt)}`,
  ];
}
