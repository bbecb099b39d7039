/**
 * Scheduling policy, personality and memory locking: sched_setscheduler,
 * sched_getscheduler, sched_get_priority_max/min (kernel/sched-policy.ts holds the
 * state), personality, mlock, munlock, mlockall, munlockall. The sentry's memory is never
 * swapped out, so a lock changes nothing; the calls check what Linux checks.
 */
import { taskByTid } from '../../../kernel/pid-namespace';
import { CAP_IPC_LOCK, CAP_SYS_NICE } from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import { limitOf, RLIMIT_MEMLOCK, RLIMIT_NICE, RLIMIT_RTPRIO } from '../../../kernel/rlimits';
import {
  isRealtime, SCHED_BATCH, SCHED_DEADLINE, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RESET_ON_FORK, SCHED_RR,
} from '../../../kernel/sched-policy';
import type { Task } from '../../../kernel/task';
import { PAGE } from '../../../mm/vma';
import { define } from '../registry';
import { u32 } from './util';

/** PRIORITY_RANGES gives each policy's [min, max] static priority; others are EINVAL. */
const PRIORITY_RANGES = new Map<number, [number, number]>([
  [SCHED_OTHER, [0, 0]], [SCHED_FIFO, [1, 99]], [SCHED_RR, [1, 99]], [SCHED_BATCH, [0, 0]], [SCHED_IDLE, [0, 0]], [SCHED_DEADLINE, [0, 0]],
]);

function priorityRange(policy: number): [number, number] {
  return PRIORITY_RANGES.get(policy) ?? fail(Errno.EINVAL);
}
define(146, (_t, r) => priorityRange(r.argInt(0))[1], 'full');
define(147, (_t, r) => priorityRange(r.argInt(0))[0], 'full');

/** target finds the thread a pid names (0: the caller): EINVAL below 0, ESRCH if gone. */
export function target(t: Task, pid: number): Task {
  if (pid < 0) fail(Errno.EINVAL);
  return pid === 0 ? t : taskByTid(t, pid) ?? fail(Errno.ESRCH);
}

/** mayReschedule applies Linux's rules for a caller without CAP_SYS_NICE
 * (__sched_setscheduler): real-time only within RLIMIT_RTPRIO, no way back from
 * SCHED_IDLE unless RLIMIT_NICE allows nice 0, only tasks of its own user, and
 * SCHED_RESET_ON_FORK once set stays set. */
function mayReschedule(t: Task, p: Task, policy: number, priority: number, resetOnFork: boolean): void {
  if (t.creds.capable(CAP_SYS_NICE)) return;
  if (isRealtime(policy)) {
    const rtprio = limitOf(p.tg, RLIMIT_RTPRIO)[0];
    if (policy !== p.sched.policy && rtprio === 0n) fail(Errno.EPERM);
    if (priority > p.sched.priority && BigInt(priority) > rtprio) fail(Errno.EPERM);
  }
  // can_nice(p, 0): the nice value stays 0 here (setpriority changes no policy).
  if (p.sched.policy === SCHED_IDLE && policy !== SCHED_IDLE && limitOf(p.tg, RLIMIT_NICE)[0] < 20n) fail(Errno.EPERM);
  const c = t.creds, pc = p.creds;
  if (c.euid !== pc.euid && c.euid !== pc.uid) fail(Errno.EPERM);
  if (p.sched.resetOnFork && !resetOnFork) fail(Errno.EPERM);
}

// sched_setscheduler(pid, policy, struct sched_param { int sched_priority; } *param)
define(144, (t, r) => {
  const pid = r.argInt(0), raw = r.argInt(1);
  if (r.arg(2) === 0n || pid < 0 || raw < 0) fail(Errno.EINVAL);
  const priority = t.mm.read(r.arg(2), 4).readInt32LE(0);
  const p = target(t, pid);
  setSched(t, p, raw & ~SCHED_RESET_ON_FORK, priority, (raw & SCHED_RESET_ON_FORK) !== 0);
  return 0;
}, 'full');

/** setSched checks and gives p a policy and static priority as __sched_setscheduler does
 * (sched_setscheduler, and sched_setparam with p's own policy). */
export function setSched(t: Task, p: Task, policy: number, priority: number, resetOnFork: boolean): void {
  // SCHED_DEADLINE needs sched_setattr's runtime, deadline and period: EINVAL here.
  if (!PRIORITY_RANGES.has(policy) || policy === SCHED_DEADLINE) fail(Errno.EINVAL);
  if (priority < 0 || priority > 99 || isRealtime(policy) !== (priority !== 0)) fail(Errno.EINVAL);
  mayReschedule(t, p, policy, priority, resetOnFork);
  p.sched = { policy, priority, resetOnFork };
}

// sched_getscheduler(pid)
define(145, (t, r) => {
  const p = target(t, r.argInt(0));
  return p.sched.policy | (p.sched.resetOnFork ? SCHED_RESET_ON_FORK : 0);
}, 'full');

// personality(persona): 0xffffffff only asks; any other value is the new persona.
define(135, (t, r) => {
  const old = t.personality;
  const persona = u32(r, 0);
  if (persona !== 0xffffffff) t.personality = persona;
  return old;
}, 'partial', 'the persona is kept, inherited and reported; ADDR_NO_RANDOMIZE turns address randomization off from the next execve, as Linux (loader/aslr.ts); its other flags (READ_IMPLIES_EXEC, ADDR_LIMIT_32BIT...) change nothing');

/** mayLock is can_do_mlock: a non-zero RLIMIT_MEMLOCK or CAP_IPC_LOCK. */
function mayLock(t: Task): boolean {
  return limitOf(t.tg, RLIMIT_MEMLOCK)[0] !== 0n || t.creds.capable(CAP_IPC_LOCK);
}

const MEMLOCK_NOTE = 'memory is never swapped: a lock populates the pages and counts against RLIMIT_MEMLOCK (VmLck); a 64 KiB chunk is the unit of residency';

/** memlockLimit is the bytes a task may lock: RLIMIT_MEMLOCK, unlimited with CAP_IPC_LOCK. */
export function memlockLimit(t: Task): number {
  return t.creds.capable(CAP_IPC_LOCK) ? Infinity : Number(limitOf(t.tg, RLIMIT_MEMLOCK)[0]);
}

/** lockRange is mlock, mlock2 and munlock: the pages of [addr, addr+len) must all be mapped. */
export function lockRange(t: Task, addr: bigint, len: bigint, lock: boolean, onFault = false): number {
  if (lock && !mayLock(t)) fail(Errno.EPERM);
  const page = BigInt(PAGE);
  const start = addr & ~(page - 1n);
  const size = (len + (addr - start) + page - 1n) & ~(page - 1n);
  if (start + size > 0xffffffffffffffffn) fail(Errno.EINVAL);
  if (size === 0n) return 0;
  if (start + size > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.ENOMEM);
  t.mm.lock(Number(start), Number(size), lock, lock ? memlockLimit(t) : Infinity, onFault);
  t.mm.mergeAround(Number(start), Number(start + size));
  return 0;
}
define(149, (t, r) => lockRange(t, r.arg(0), r.arg(1), true), 'partial', MEMLOCK_NOTE);
define(150, (t, r) => lockRange(t, r.arg(0), r.arg(1), false), 'full');

const MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;
define(151, (t, r) => {
  const flags = r.argInt(0);
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) fail(Errno.EINVAL);
  if (!mayLock(t)) fail(Errno.EPERM);
  if (flags & MCL_CURRENT) t.mm.lockAll(true, memlockLimit(t), (flags & MCL_ONFAULT) !== 0);
  // Later mmaps are locked (mm.ts doMmap); brk and mremap growth are not.
  t.mm.lockFuture = flags & MCL_FUTURE ? { onFault: (flags & MCL_ONFAULT) !== 0 } : null;
  t.mm.mergeAround(0, Number.MAX_SAFE_INTEGER);
  return 0;
}, 'partial', MEMLOCK_NOTE + '; MCL_FUTURE locks later mmaps, not brk or mremap growth');
define(152, (t) => {
  t.mm.lockAll(false);
  t.mm.lockFuture = null;
  t.mm.mergeAround(0, Number.MAX_SAFE_INTEGER);
  return 0;
}, 'full');
