/**
 * getpriority, setpriority: each task's nice value (-20..19), inherited at fork. Raising
 * another user's task's nice takes CAP_SYS_NICE (EPERM); lowering a nice value takes
 * CAP_SYS_NICE or an RLIMIT_NICE soft limit of at least 20 - nice (EACCES), as on Linux.
 * The value is kept and reported; the sentry's scheduler does not weigh it.
 */
import { taskByTid } from '../../../kernel/pid-namespace';
import { CAP_SYS_NICE } from '../../../kernel/capabilities';
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
