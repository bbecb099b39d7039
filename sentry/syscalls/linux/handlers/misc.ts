/**
 * The rest of a process's view of its machine: uname, sysinfo, getrandom, arch_prctl,
 * set_tid_address, rseq, rlimits, rusage, times, scheduling, prctl.
 * Every answer comes from the sandbox's state, never from the host's.
 */
import { ownerOf } from '../../../kernel/user-namespace';
import { showHostName } from '../../../kernel/host-title';
import { isChildSubreaper, setChildSubreaper, taskByTid } from '../../../kernel/pid-namespace';
import { randomFill } from '../../../../native/random';
import { CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_SYS_RESOURCE } from '../../../kernel/capabilities';
import { groupTimes, noteRss, NS_PER_TICK, rusage, taskTimes } from '../../../kernel/cputime';
import { Errno, fail } from '../../../kernel/errors';
import type { Registers } from '../../../../platform';
import { limitOf, RLIMIT_NOFILE } from '../../../kernel/rlimits';
import type { Task } from '../../../kernel/task';
import { define } from '../registry';
import { capPrctl, CAP_PRCTL_OPTIONS } from './creds';
import { num } from './util';
import { memoryUse } from '../../../mm/oom';
import { loadAverages } from '../../../fsimpl/proc/system-files';
import { UTS_RELEASE, UTS_VERSION } from '../../../kernel/kernel';
import { utsNamespaceOf } from '../../../kernel/namespaces';
import { cpuIds, sandboxCpus, taskCpus } from '../../../kernel/cpus';
import { setTimerSlack, timerSlack } from '../../../kernel/timer-slack';
import { seccompView } from '../../../seccomp';

function field(s: string): Buffer {
  const b = Buffer.alloc(65);
  b.write(s.slice(0, 64));
  return b;
}

// uname: the sandbox's identity.
define(63, (t, r) => {
  const u = utsNamespaceOf(t);
  const b = Buffer.concat([field('Linux'), field(u.hostname), field(UTS_RELEASE), field(UTS_VERSION), field('x86_64'), field(u.domainname)]);
  t.mm.write(r.arg(0), b);
  return 0;
}, 'full');

/** setUtsName is sethostname and setdomainname: EPERM before EINVAL, as Linux checks. */
function setUtsName(t: Task, r: Registers, which: 'hostname' | 'domainname'): number {
  const len = r.argInt(1);
  // CAP_SYS_ADMIN over the UTS namespace: in the user namespace that owns it.
  if (!t.creds.capableIn(CAP_SYS_ADMIN, ownerOf(utsNamespaceOf(t)))) fail(Errno.EPERM);
  if (len < 0 || len > 64) fail(Errno.EINVAL);
  utsNamespaceOf(t)[which] = t.mm.read(r.arg(0), len).toString('utf8');
  return 0;
}
define(170, (t, r) => setUtsName(t, r, 'hostname'), 'full');
define(171, (t, r) => setUtsName(t, r, 'domainname'), 'full');

define(99, (t, r) => {
  const b = Buffer.alloc(112);
  b.writeBigInt64LE(BigInt(Math.floor(t.kernel.uptime)), 0);
  // The load averages of /proc/loadavg, in fixed point (SI_LOAD_SHIFT 16).
  loadAverages(t.kernel).forEach((a, i) => b.writeBigUInt64LE(BigInt(Math.round(a * 65536)), 8 + 8 * i));
  // The figures of /proc/meminfo (mm/oom.ts): the sandbox's memory limit and its use.
  const { total, used } = memoryUse(t.kernel.platform.memoryFile);
  b.writeBigUInt64LE(BigInt(total), 32);
  b.writeBigUInt64LE(BigInt(total - used), 40);
  // procs counts threads, as Linux's nr_threads.
  b.writeUInt16LE(Math.min(0xffff, t.kernel.tasks.size), 80);
  b.writeUInt32LE(1, 104);
  t.mm.write(r.arg(0), b);
  return 0;
}, 'partial', 'sharedram and bufferram are 0 (the sandbox keeps no buffer cache; shared memory is not counted apart), no swap');

define(318, (t, r) => {
  const len = Math.min(num(r, 1), 1 << 25);
  const flags = r.argInt(2);
  if (flags & ~7) fail(Errno.EINVAL);
  const b = Buffer.alloc(len);
  randomFill(b);
  t.mm.write(r.arg(0), b);
  return len;
}, 'full');

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004, ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;
define(158, (t, r) => {
  const code = r.argInt(0);
  const canonical = (v: bigint) => v < 0x800000000000n;
  switch (code) {
    case ARCH_SET_FS:
      if (!canonical(r.arg(1))) fail(Errno.EPERM);
      t.regs.set('fsBase', r.arg(1));
      t.regs.set('fs', 0n);
      return 0;
    case ARCH_SET_GS:
      if (!canonical(r.arg(1))) fail(Errno.EPERM);
      t.regs.set('gsBase', r.arg(1));
      t.regs.set('gs', 0n);
      return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS: {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(t.regs.get(code === ARCH_GET_FS ? 'fsBase' : 'gsBase'));
      t.mm.write(r.arg(1), b);
      return 0;
    }
    case ARCH_GET_CPUID: return 1;
    case ARCH_SET_CPUID: return fail(Errno.ENODEV);
    default: return fail(Errno.EINVAL);
  }
}, 'full');

define(218, (t, r) => {
  t.clearChildTid = r.arg(0);
  return t.tid;
}, 'full');
define(334, () => -Errno.ENOSYS, 'partial', 'rseq is not offered (glibc falls back)');

// Resource limits: kept per process (kernel/rlimits.ts).
function getLimit(t: Task, res: number): [bigint, bigint] {
  if (res < 0 || res > 15) fail(Errno.EINVAL);
  return limitOf(t.tg, res);
}

/** setLimit sets a limit of t; raising the hard limit takes CAP_SYS_RESOURCE in caller. */
function setLimit(t: Task, res: number, soft: bigint, hard: bigint, caller: Task = t): void {
  const [, oldHard] = getLimit(t, res);
  if (soft > hard) fail(Errno.EINVAL);
  if (hard > oldHard && !caller.creds.capable(CAP_SYS_RESOURCE)) fail(Errno.EPERM);
  if (res === RLIMIT_NOFILE) {
    if (hard > 1048576n) fail(Errno.EPERM);
    t.fds.limit = Number(soft);
  }
  t.tg.rlimits.set(res, [soft, hard]);
}

function rlimitBuf(l: [bigint, bigint]): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(l[0], 0);
  b.writeBigUInt64LE(l[1], 8);
  return b;
}

define(97, (t, r) => { t.mm.write(r.arg(1), rlimitBuf(getLimit(t, r.argInt(0)))); return 0; }, 'full');
define(160, (t, r) => {
  const b = t.mm.read(r.arg(1), 16);
  setLimit(t, r.argInt(0), b.readBigUInt64LE(0), b.readBigUInt64LE(8));
  return 0;
}, 'full');
define(302, (t, r) => {
  const pid = r.argInt(0);
  const target = pid === 0 ? t : taskByTid(t, pid);
  if (!target) fail(Errno.ESRCH);
  // Another process's limits: only with all its user and group ids ours, or CAP_SYS_RESOURCE.
  const c = t.creds, tc = target.creds;
  const same = [tc.uid, tc.euid, tc.suid].every((id) => id === c.uid) && [tc.gid, tc.egid, tc.sgid].every((id) => id === c.gid);
  if (target.tg !== t.tg && !same && !c.capable(CAP_SYS_RESOURCE)) fail(Errno.EPERM);
  const res = r.argInt(1);
  const old = getLimit(target, res);
  if (r.arg(2) !== 0n) {
    const b = t.mm.read(r.arg(2), 16);
    setLimit(target, res, b.readBigUInt64LE(0), b.readBigUInt64LE(8), t);
  }
  if (r.arg(3) !== 0n) t.mm.write(r.arg(3), rlimitBuf(old));
  return 0;
}, 'full');

// getrusage(who, usage): RUSAGE_SELF (0), RUSAGE_CHILDREN (-1), RUSAGE_THREAD (1).
define(98, (t, r) => {
  const who = r.argInt(0);
  const c = who === 0 ? groupTimes(t.tg) : who === -1 ? t.tg.cpu.children : who === 1 ? taskTimes(t) : fail(Errno.EINVAL);
  // Max RSS: the largest resident size seen so far (sampled now, at exec and at exit).
  const maxRss = who === -1 ? t.tg.cpu.childrenMaxRssKb : noteRss(t);
  t.mm.write(r.arg(1), rusage(c, maxRss));
  return 0;
}, 'partial', 'times (system: CPU time in the sentry) and max RSS (sampled at getrusage, exec and exit); no faults or context switches');
// times(buf): struct tms in clock ticks (USER_HZ).
define(100, (t, r) => {
  if (r.arg(0) !== 0n) {
    const own = groupTimes(t.tg), ch = t.tg.cpu.children;
    const b = Buffer.alloc(32);
    [own.user, own.sys, ch.user, ch.sys].forEach((ns, i) => b.writeBigInt64LE(BigInt(Math.floor(ns / NS_PER_TICK)), 8 * i));
    t.mm.write(r.arg(0), b);
  }
  return BigInt(Math.floor(t.kernel.uptime * 100));
}, 'full');

define(24, () => 0, 'full');
/** affinityTarget is the task sched_{get,set}affinity name: pid 0 the caller, else the
 * thread with that id (ESRCH). */
function affinityTarget(t: Task, pid: number): Task {
  if (pid === 0) return t;
  const target = taskByTid(t, pid);
  if (!target || target.state === 'exited') fail(Errno.ESRCH);
  return target;
}

// sched_getaffinity: the task's CPUs: those it set, else those the sandbox started with (kernel/cpus.ts).
define(204, (t, r) => {
  const len = num(r, 1);
  const size = Math.ceil(cpuIds() / 64) * 8;
  if (len < size || len % 8 !== 0) fail(Errno.EINVAL);
  const target = affinityTarget(t, num(r, 0));
  const b = Buffer.alloc(size);
  for (const c of taskCpus(target)) b[c >> 3] |= 1 << (c & 7);
  t.mm.write(r.arg(2), b);
  return size;
}, 'full');
// sched_setaffinity: the task keeps the sandbox's CPUs among those asked; none of them is
// EINVAL, another user's task without CAP_SYS_NICE EPERM.
define(203, (t, r) => {
  const target = affinityTarget(t, num(r, 0));
  if (target.creds.euid !== t.creds.euid && target.creds.uid !== t.creds.euid && !t.creds.capable(CAP_SYS_NICE)) fail(Errno.EPERM);
  const mask = t.mm.read(r.arg(2), Math.min(num(r, 1), 1024));
  const cpus = sandboxCpus().allowed.filter((c) => (mask[c >> 3] ?? 0) & (1 << (c & 7)));
  if (!cpus.length) fail(Errno.EINVAL);
  target.cpus = cpus;
  return 0;
}, 'partial', 'the mask is kept and reported; the sentry does not pin the task\'s host threads to it');
// getcpu: the first CPU of the task's affinity (the sentry does not pin its host threads to it), node 0.
define(309, (t, r) => {
  if (r.arg(0) !== 0n) {
    const cpu = Buffer.alloc(4);
    cpu.writeUInt32LE(taskCpus(t)[0] ?? 0);
    t.mm.write(r.arg(0), cpu);
  }
  if (r.arg(1) !== 0n) t.mm.write(r.arg(1), Buffer.alloc(4));
  return 0;
}, 'full');

const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4, PR_SET_NAME = 15, PR_GET_NAME = 16,
  PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37, PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30, PR_GET_SECCOMP = 21;
define(157, (t, r) => {
  if (CAP_PRCTL_OPTIONS.has(r.argInt(0))) return capPrctl(t, r);
  switch (r.argInt(0)) {
    case PR_SET_NAME:
      t.name = t.mm.read(r.arg(1), 16).toString('utf8').split('\0')[0].slice(0, 15);
      showHostName(t);
      return 0;
    case PR_GET_NAME: {
      const b = Buffer.alloc(16);
      b.write(t.name.slice(0, 15));
      t.mm.write(r.arg(1), b);
      return 0;
    }
    case PR_SET_PDEATHSIG: case PR_SET_DUMPABLE: return 0;
    // Child subreapers adopt orphans (kernel/pid-namespace.ts's reaperFor).
    case PR_SET_CHILD_SUBREAPER: setChildSubreaper(t.tg, r.arg(1) !== 0n); return 0;
    case PR_GET_CHILD_SUBREAPER: {
      const b = Buffer.alloc(4);
      b.writeInt32LE(isChildSubreaper(t.tg) ? 1 : 0);
      t.mm.write(r.arg(1), b);
      return 0;
    }
    case PR_GET_PDEATHSIG: t.mm.write(r.arg(1), Buffer.alloc(4)); return 0;
    case PR_GET_DUMPABLE: return 1;
    case PR_SET_TIMERSLACK: setTimerSlack(t, r.arg(1)); return 0;
    case PR_GET_TIMERSLACK: return Number(timerSlack(t));
    case PR_GET_SECCOMP: return seccompView(t.kernel.seccomp).mode;
    default: return -Errno.EINVAL;
  }
}, 'partial', 'names, capability options, dumpable and timer slack (kept and reported; the sentry\'s timers add none); PR_GET_SECCOMP (linux.seccomp\'s filter; PR_SET_SECCOMP is EINVAL); child subreapers; PR_SET_PDEATHSIG is accepted but not honoured; other options EINVAL');
