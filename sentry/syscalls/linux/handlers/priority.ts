/**
 * getpriority, setpriority: each task's nice value (-20..19), inherited at fork. Raising
 * another user's task's nice takes CAP_SYS_NICE (EPERM); lowering a nice value takes
 * CAP_SYS_NICE or an RLIMIT_NICE soft limit of at least 20 - nice (EACCES), as on Linux.
 * The value is kept and reported; the sentry's scheduler does not weigh it.
 * ioprio_set, ioprio_get: each task's I/O priority (ionice), kept and inherited the same
 * way with Linux's checks; nothing in the sentry schedules I/O by it.
 */
import { taskByTid } from '../../../kernel/pid-namespace';
import { CAP_SYS_ADMIN, CAP_SYS_NICE } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { limitOf, RLIMIT_NICE } from '../../../kernel/rlimits';
import type { Task } from '../../../kernel/task';
import { define } from '../registry';

const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;

/** targets returns the tasks `which`/`who` names for t (ESRCH when none, EINVAL for a bad which). */
function targets(t: Task, which: number, who: number): Task[] {
  let out: Task[];
  switch (which) {
    case PRIO_PROCESS: {
      const task = who === 0 ? t : taskByTid(t, who);
      out = task ? [task] : [];
      break;
    }
    case PRIO_PGRP: {
      const pgid = who === 0 ? t.tg.pgid : who;
      out = [...t.kernel.tasks.values()].filter((x) => x.tg.pgid === pgid);
      break;
    }
    case PRIO_USER: {
      const uid = who === 0 ? t.creds.uid : who >>> 0;
      out = [...t.kernel.tasks.values()].filter((x) => x.creds.uid === uid);
      break;
    }
    default:
      return fail(Errno.EINVAL);
  }
  out = out.filter((x) => x.state !== 'exited');
  if (out.length === 0) fail(Errno.ESRCH);
  return out;
}

// getpriority(which, who): 20 - the lowest nice among the targets (glibc turns it back).
define(140, (t, r) => 20 - Math.min(...targets(t, r.argInt(0), r.argInt(1)).map((x) => x.nice)), 'full');

// setpriority(which, who, prio)
define(141, (t, r) => {
  const nice = Math.max(-20, Math.min(19, r.argInt(2)));
  const c = t.creds;
  let err = 0;
  for (const x of targets(t, r.argInt(0), r.argInt(1))) {
    if (x.creds.uid !== c.euid && x.creds.euid !== c.euid && !c.capable(CAP_SYS_NICE)) {
      err = Errno.EPERM;
      continue;
    }
    if (nice < x.nice && BigInt(20 - nice) > limitOf(t.tg, RLIMIT_NICE)[0] && !c.capable(CAP_SYS_NICE)) {
      err = Errno.EACCES;
      continue;
    }
    x.nice = nice;
  }
  return err ? fail(err) : 0;
}, 'partial', 'the nice value is kept and reported, not used by the scheduler');

const IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2, IOPRIO_WHO_USER = 3;
const IOPRIO_CLASS_NONE = 0, IOPRIO_CLASS_RT = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_IDLE = 3;
/** IOPRIO_BE_NORM_VALUE is best-effort level 4, what ioprio_best counts a NONE as. */
const IOPRIO_BE_NORM_VALUE = (IOPRIO_CLASS_BE << 13) | 4;

/** ioprioTargets maps ioprio's `which` (1..3) onto getpriority's PRIO_* targets. */
function ioprioTargets(t: Task, which: number, who: number): Task[] {
  const prio = which === IOPRIO_WHO_PROCESS ? PRIO_PROCESS : which === IOPRIO_WHO_PGRP ? PRIO_PGRP : which === IOPRIO_WHO_USER ? PRIO_USER : -1;
  return targets(t, prio, who);
}

/** checkIoprio refuses an I/O priority as ioprio_check_cap does: a class beyond IDLE or a
 * level past 7 (EINVAL), data with class NONE (EINVAL), RT without CAP_SYS_NICE or
 * CAP_SYS_ADMIN (EPERM). The level is the low 3 bits of the data (the rest are hints). */
function checkIoprio(t: Task, ioprio: number): void {
  const cls = (ioprio >>> 13) & 7, level = ioprio & 7;
  switch (cls) {
    case IOPRIO_CLASS_RT:
      if (!t.creds.capable(CAP_SYS_NICE) && !t.creds.capable(CAP_SYS_ADMIN)) fail(Errno.EPERM);
      break;
    case IOPRIO_CLASS_BE: case IOPRIO_CLASS_IDLE: break;
    case IOPRIO_CLASS_NONE:
      if (level) fail(Errno.EINVAL);
      break;
    default: fail(Errno.EINVAL);
  }
}

// ioprio_set(which, who, ioprio): each target thread in turn, stopping at the first one
// the caller may not change (another user's without CAP_SYS_NICE: EPERM).
define(251, (t, r) => {
  const ioprio = r.argInt(2) & 0xffff;
  checkIoprio(t, ioprio);
  const c = t.creds;
  for (const x of ioprioTargets(t, r.argInt(0), r.argInt(1))) {
    if (x.creds.uid !== c.euid && x.creds.uid !== c.uid && !c.capable(CAP_SYS_NICE)) fail(Errno.EPERM);
    x.ioprio = ioprio;
  }
  return 0;
}, 'partial', 'the priority is kept, inherited and reported; the sentry has no I/O scheduler to weigh it; CLONE_IO shares nothing');

// ioprio_get(which, who): one thread's value as set; for several, the best (lowest) with
// NONE counted as best-effort level 4 (ioprio_best).
define(252, (t, r) => {
  const all = ioprioTargets(t, r.argInt(0), r.argInt(1)).map((x) => x.ioprio);
  return all.length === 1 ? all[0] : Math.min(...all.map((v) => ((v >>> 13) & 7) === IOPRIO_CLASS_NONE ? IOPRIO_BE_NORM_VALUE : v));
}, 'partial', 'see ioprio_set');
