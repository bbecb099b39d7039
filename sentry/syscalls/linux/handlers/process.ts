/**
 * Processes and threads: clone, fork, vfork, clone3, exit, exit_group, wait4, waitid,
 * kill, tkill, tgkill, and the ids (pid, tid, process groups, sessions); user and
 * group ids are in creds.ts.
 */
import { CAP_KILL } from '../../../kernel/capabilities';
import { rusage } from '../../../kernel/cputime';
import { Errno, fail } from '../../../kernel/errors';
import { cloneTask, CLONE_DETACHED, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_THREAD, CLONE_VFORK, CLONE_VM, type CloneArgs } from '../../../kernel/task-clone';
import { PidFd, pidfdArg } from '../../../fsimpl/anon/pidfd';
import { exitGroup, exitTask } from '../../../kernel/task-exit';
import { sendToGroup, sendToTask } from '../../../kernel/signals';
import { NSIG, SIGCHLD, SIGCONT, SI_TKILL, SI_USER, CLD_CONTINUED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_DUMPED } from '../../../kernel/signal-types';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { CLD_TRAPPED, ptraceExit } from '../../../kernel/ptrace';
import { waitChild, WEXITED, type WaitSelector } from '../../../kernel/wait';
import { define } from '../registry';
import { processOf, setpgid, setsid } from '../../../kernel/process-group';
import { setns, unshare } from '../../../kernel/namespaces';
import { nsFileInode } from '../../../fsimpl/proc/nodes';
import { file } from './util';
import { CLONE_SIGHAND } from '../../../kernel/clone-flags';
import { globalIn, globalPid, MAX_PID_NS_LEVEL, pidIn, pidNamespaceOf, ppidOf, tidIn } from '../../../kernel/pid-namespace';

/** ALL_SIGNALS blocks every signal (SIGKILL and SIGSTOP cannot be blocked all the same). */
const ALL_SIGNALS = 0xffffffffffffffffn;
/** clone3's struct clone_args sizes: VER0 (64 bytes), VER1 (+set_tid, set_tid_size: 80), VER2 (+cgroup: 88). */
const CLONE_ARGS_SIZE_VER0 = 64, CLONE_ARGS_SIZE_VER2 = 88, PAGE_SIZE = 4096;

/**
 * clone makes the child; `pidfd` is where CLONE_PIDFD's descriptor goes. That address is
 * written before the child exists (EFAULT aborts the call), as Linux does.
 */
function clone(t: Task, a: CloneArgs, pidfd = 0n): number | Block {
  // A vfork parent sleeps until its child execs or exits; the child's tid is kept across the sleep.
  const st = t.inSyscall ? (t.syscallState as { child: Task; mask: bigint } | undefined) : undefined;
  if (st) {
    if (st.child.vforkDone && st.child.state !== 'exited') return new Block([st.child.vforkDone]);
    t.sigmask = st.mask;
    return tidIn(pidNamespaceOf(t), st.child);
  }
  if (a.flags & CLONE_PIDFD) {
    if (a.flags & (CLONE_THREAD | CLONE_DETACHED)) fail(Errno.EINVAL);
    t.mm.write(pidfd, Buffer.alloc(4));
  }
  const child = cloneTask(t, a);
  if (a.flags & CLONE_PIDFD) {
    const fd = t.fds.add(new PidFd(child.tg, 0), true);
    const b = Buffer.alloc(4);
    b.writeInt32LE(fd);
    t.mm.write(pidfd, b);
  }
  if (a.flags & CLONE_VFORK && child.vforkDone) {
    // As Linux's killable wait: no handler runs in the parent while the child uses its
    // memory and stack; signals stay pending until the child releases them (SIGKILL still ends it).
    t.syscallState = { child, mask: t.sigmask };
    t.sigmask = ALL_SIGNALS;
    return new Block([child.vforkDone]);
  }
  return tidIn(pidNamespaceOf(t), child);
}

// clone(flags, stack, parent_tid, child_tid, tls) — x86-64 argument order. The low byte
// of flags is the exit signal (0: none; another than SIGCHLD makes a "clone" child for
// wait's __WCLONE); CLONE_PIDFD's descriptor goes to parent_tid, so the two exclude each other.
define(56, (t, r) => {
  const flags = Number(r.arg(0) & 0xffffffffn);
  if (flags & CLONE_PIDFD && flags & CLONE_PARENT_SETTID) fail(Errno.EINVAL);
  return clone(t, { flags: flags & ~0xff, exitSignal: flags & 0xff, stack: r.arg(1), parentTid: r.arg(2), childTid: r.arg(3), tls: r.arg(4) }, r.arg(2));
}, 'partial', 'of the CLONE_NEW* flags, new UTS, IPC, mount, PID, user and cgroup namespaces (kernel/namespaces.ts; network and time EINVAL)');
define(57, (t) => clone(t, { flags: 0, exitSignal: SIGCHLD, stack: 0n, parentTid: 0n, childTid: 0n, tls: 0n }), 'full');
define(58, (t) => clone(t, { flags: CLONE_VM | CLONE_VFORK, exitSignal: SIGCHLD, stack: 0n, parentTid: 0n, childTid: 0n, tls: 0n }), 'full');

/*
 * clone3(struct clone_args *, size)
 *   u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
 *       set_tid, set_tid_size (VER1), cgroup (VER2)
 */
define(435, (t, r) => {
  if (t.inSyscall && t.syscallState) return clone(t, { flags: 0, exitSignal: 0, stack: 0n, parentTid: 0n, childTid: 0n, tls: 0n });
  const size = Number(r.arg(1));
  if (size < CLONE_ARGS_SIZE_VER0) fail(Errno.EINVAL);
  if (size > PAGE_SIZE) fail(Errno.E2BIG);
  const b = t.mm.read(r.arg(0), size);
  // A newer caller's fields this kernel does not know must be zero.
  if (size > CLONE_ARGS_SIZE_VER2 && b.subarray(CLONE_ARGS_SIZE_VER2).some((x) => x !== 0)) fail(Errno.E2BIG);
  const args = Buffer.alloc(CLONE_ARGS_SIZE_VER2);
  b.copy(args, 0, 0, Math.min(size, CLONE_ARGS_SIZE_VER2));
  const flags = args.readBigUInt64LE(0), exitSignal = args.readBigUInt64LE(32);
  const stack = args.readBigUInt64LE(40), stackSize = args.readBigUInt64LE(48);
  const setTid = args.readBigUInt64LE(64), setTidSize = args.readBigUInt64LE(72), cgroup = args.readBigUInt64LE(80);
  // The flags past 32 bits are clone3's own: CLONE_CLEAR_SIGHAND and CLONE_INTO_CGROUP (the cgroup field, VER2).
  if (flags & CLONE_INTO_CGROUP && (cgroup > 0x7fffffffn || size < CLONE_ARGS_SIZE_VER2)) fail(Errno.EINVAL);
  if (flags & ~(0xffffffffn | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) || flags & BigInt(CLONE_DETACHED | 0xff)) fail(Errno.EINVAL);
  if (flags & CLONE_CLEAR_SIGHAND && flags & BigInt(CLONE_SIGHAND)) fail(Errno.EINVAL);
  if (exitSignal > BigInt(NSIG) || (flags & BigInt(CLONE_THREAD | CLONE_PARENT) && exitSignal !== 0n)) fail(Errno.EINVAL);
  if ((stack === 0n) !== (stackSize === 0n)) fail(Errno.EINVAL);
  if (setTidSize > BigInt(MAX_PID_NS_LEVEL) || (setTid === 0n) !== (setTidSize === 0n)) fail(Errno.EINVAL);
  // set_tid: pid_t[set_tid_size], the child's pid in its namespace first, then in each parent (kernel/pid-namespace.ts checks them).
  const tids = setTidSize === 0n ? [] : [...new Int32Array(Uint8Array.from(t.mm.read(setTid, 4 * Number(setTidSize))).buffer)];
  if (flags & CLONE_INTO_CGROUP) checkSandboxCgroup(t, Number(cgroup));
  return clone(t, {
    flags: Number(flags & 0xffffffffn), exitSignal: Number(exitSignal), stack: stack === 0n ? 0n : stack + stackSize,
    parentTid: args.readBigUInt64LE(24), childTid: args.readBigUInt64LE(16), tls: args.readBigUInt64LE(56), setTid: tids,
    clearSighand: (flags & CLONE_CLEAR_SIGHAND) !== 0n,
  }, args.readBigUInt64LE(8));
}, 'partial', 'of the CLONE_NEW* flags UTS, IPC, mount, PID, user and cgroup (network and time EINVAL); set_tid as Linux; CLONE_INTO_CGROUP takes only the sandbox\'s one cgroup (the root of a cgroup2 mount; anything else EBADF)');

/** CLONE_CLEAR_SIGHAND and CLONE_INTO_CGROUP are clone3's flags past 32 bits. */
const CLONE_CLEAR_SIGHAND = 0x100000000n, CLONE_INTO_CGROUP = 0x200000000n;

/**
 * checkSandboxCgroup checks clone3's cgroup descriptor: the sandbox has one cgroup, so the
 * child may go only where it would anyway, the root directory of a cgroup2 mount; any
 * other descriptor (closed, not a cgroup2 directory: a v1 hierarchy, a plain directory) is
 * EBADF, as Linux's cgroup_get_from_file refuses it.
 */
function checkSandboxCgroup(t: Task, fd: number): void {
  const loc = file(t, fd).loc;
  if (!loc || loc.mount.fs.name !== 'cgroup2' || loc.dentry !== loc.mount.root) fail(Errno.EBADF);
}

// A tracee with PTRACE_O_TRACEEXIT first stops with PTRACE_EVENT_EXIT (kernel/ptrace.ts).
define(60, (t, r) => {
  if (!ptraceExit(t, (r.argInt(0) & 0xff) << 8)) exitTask(t, { code: r.argInt(0) & 0xff });
  return null;
}, 'full');
define(231, (t, r) => {
  if (!ptraceExit(t, (r.argInt(0) & 0xff) << 8)) exitGroup(t, { code: r.argInt(0) & 0xff });
  return null;
}, 'full');

/** selector reads wait4's pid argument (pids as the caller's namespace shows them) into kernel ids. */
function selector(t: Task, pid: number): WaitSelector {
  const ns = pidNamespaceOf(t);
  if (pid === -1) return { kind: 'any' };
  if (pid > 0) return { kind: 'pid', pid: globalPid(ns, pid) };
  if (pid === 0) return { kind: 'pgid', pgid: t.tg.pgid };
  return { kind: 'pgid', pgid: globalPid(ns, -pid) };
}

// wait4(pid, wstatus, options, rusage)
define(61, (t, r) => {
  const options = r.argInt(2);
  if (options & ~(1 | 2 | 8 | 0x20000000 | 0x40000000 | 0x80000000)) fail(Errno.EINVAL);
  const res = waitChild(t, selector(t, r.argInt(0)), options | WEXITED);
  if (res instanceof Block) return res;
  if (res === null) return 0;
  if (r.arg(1) !== 0n) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(res.status);
    t.mm.write(r.arg(1), b);
  }
  if (r.arg(3) !== 0n) t.mm.write(r.arg(3), rusage(res.times ?? { user: 0, sys: 0 }, res.maxRssKb));
  return res.task ? tidIn(pidNamespaceOf(t), res.task) : pidIn(pidNamespaceOf(t), res.child);
}, 'full');

// waitid(idtype, id, infop, options, rusage)
define(247, (t, r) => {
  const idtype = r.argInt(0), id = r.argInt(1), options = r.argInt(3);
  if (options & ~(1 | 2 | 4 | 8 | 0x01000000 | 0x20000000 | 0x40000000 | 0x80000000) || !(options & (2 | 4 | 8))) fail(Errno.EINVAL);
  // P_PIDFD (3): the process a pidfd names; a non-blocking pidfd fails with EAGAIN where the wait would sleep.
  const pidfd = idtype === 3 ? pidfdArg(t, id) : null;
  const ns = pidNamespaceOf(t);
  const sel: WaitSelector = idtype === 0 ? { kind: 'any' } : idtype === 1 ? { kind: 'pid', pid: globalPid(ns, id) } : idtype === 2 ? { kind: 'pgid', pgid: id ? globalPid(ns, id) : t.tg.pgid }
    : pidfd ? { kind: 'pid', pid: pidfd.tg.tgid } : fail(Errno.EINVAL);
  const res = waitChild(t, sel, options);
  if (res instanceof Block) return pidfd?.nonblocking ? -Errno.EAGAIN : res;
  const info = Buffer.alloc(128);
  if (res) {
    info.writeInt32LE(SIGCHLD, 0);
    let code: number, status: number;
    if (res.what === 'stopped') { code = CLD_STOPPED; status = (res.status >> 8) & 0xff; }
    else if (res.what === 'trapped') { code = CLD_TRAPPED; status = (res.status >> 8) & 0xffff; }
    else if (res.what === 'continued') { code = CLD_CONTINUED; status = 18; }
    else if ((res.status & 0x7f) === 0) { code = CLD_EXITED; status = (res.status >> 8) & 0xff; }
    else { code = res.status & 0x80 ? CLD_DUMPED : CLD_KILLED; status = res.status & 0x7f; }
    info.writeInt32LE(code, 8);
    info.writeInt32LE(res.task ? tidIn(ns, res.task) : pidIn(ns, res.child), 16);
    info.writeInt32LE(res.uid, 20);
    info.writeInt32LE(status, 24);
  }
  if (r.arg(2) !== 0n) t.mm.write(r.arg(2), info);
  if (res && r.arg(4) !== 0n) t.mm.write(r.arg(4), rusage(res.times ?? { user: 0, sys: 0 }, res.maxRssKb));
  return 0;
}, 'full');

function checkSignal(sig: number): void {
  if (sig < 0 || sig > NSIG) fail(Errno.EINVAL);
}

/** mayKill tells whether t may send sig to a process whose task is target (Linux's
 * check_kill_permission): within its own process, to a process sharing a real or saved
 * user id with t's real or effective one, SIGCONT within its session, or with CAP_KILL. */
export function mayKill(t: Task, target: Task, sig: number): boolean {
  if (target.tg === t.tg) return true;
  const c = t.creds, tc = target.creds;
  if (c.euid === tc.suid || c.euid === tc.uid || c.uid === tc.suid || c.uid === tc.uid || c.capableIn(CAP_KILL, tc.userns)) return true;
  return sig === SIGCONT && target.tg.sid === t.tg.sid;
}

// kill(pid, sig): pid > 0 one process, 0 own group, -1 everyone but init, < -1 a group;
// only the processes of the caller's pid namespace and those below it, by their pids there.
define(62, (t, r) => {
  const pid = r.argInt(0), sig = r.argInt(1);
  checkSignal(sig);
  const ns = pidNamespaceOf(t);
  const info = { signo: sig, code: SI_USER, pid: t.pid, uid: t.creds.uid };
  let targets = ns.groupList().filter((g) => g.alive);
  if (pid > 0) targets = targets.filter((g) => g.tgid === globalPid(ns, pid));
  else if (pid === 0) targets = targets.filter((g) => g.pgid === t.tg.pgid);
  else if (pid === -1) targets = targets.filter((g) => pidIn(ns, g) !== 1 && g !== t.tg);
  else targets = targets.filter((g) => g.pgid === globalPid(ns, -pid));
  if (targets.length === 0) fail(Errno.ESRCH);
  let sent = 0;
  for (const g of targets) {
    const leader = g.leader ?? [...g.tasks][0];
    if (leader && !mayKill(t, leader, sig)) continue;
    sent++;
    if (sig !== 0) sendToGroup(g, info);
  }
  // kill(-1) succeeds even when every process refused (Linux ignores EPERM there).
  if (sent === 0 && pid !== -1) fail(Errno.EPERM);
  return 0;
}, 'full');

function tkill(t: Task, tgid: number, tid: number, sig: number): number {
  if (tid <= 0) fail(Errno.EINVAL);
  checkSignal(sig);
  const ns = pidNamespaceOf(t);
  const target = ns.task(tid);
  if (!target || (tgid > 0 && pidIn(ns, target.tg) !== tgid)) fail(Errno.ESRCH);
  if (!mayKill(t, target, sig)) fail(Errno.EPERM);
  if (sig !== 0 && !sendToTask(target, { signo: sig, code: SI_TKILL, pid: t.pid, uid: t.creds.uid })) fail(Errno.EAGAIN);
  return 0;
}
define(200, (t, r) => tkill(t, -1, r.argInt(0), r.argInt(1)), 'full');
define(234, (t, r) => {
  if (r.argInt(0) <= 0) fail(Errno.EINVAL);
  return tkill(t, r.argInt(0), r.argInt(1), r.argInt(2));
}, 'full');

// Identity, as the caller's pid namespace numbers processes (kernel/pid-namespace.ts).
define(39, (t) => pidIn(pidNamespaceOf(t), t.tg), 'full');
define(186, (t) => tidIn(pidNamespaceOf(t), t), 'full');
define(110, (t) => ppidOf(t), 'full');
// Process groups and sessions (kernel/process-group.ts), their ids translated likewise.
/** seen translates a kernel id into t's pid namespace; byPid a pid argument out of it. */
const seen = (t: Task, id: number) => globalIn(pidNamespaceOf(t), id);
const byPid = (t: Task, pid: number) => globalPid(pidNamespaceOf(t), pid);
define(121, (t, r) => seen(t, processOf(t, byPid(t, r.argInt(0))).pgid), 'full');
define(111, (t) => seen(t, t.tg.pgid), 'full');
define(109, (t, r) => setpgid(t, byPid(t, r.argInt(0)), byPid(t, r.argInt(1))), 'full');
define(112, (t) => seen(t, setsid(t)), 'full');
define(124, (t, r) => seen(t, processOf(t, byPid(t, r.argInt(0))).sid), 'full');
// unshare (kernel/namespaces.ts).
define(272, (t, r) => unshare(t, r.argInt(0)), 'partial',
  'CLONE_FILES, CLONE_FS, CLONE_SYSVSEM, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER and CLONE_NEWCGROUP (rooted at the sandbox\'s cgroup) as Linux (EPERM without CAP_SYS_ADMIN in the caller\'s user namespace; a user namespace needs none); a new network or time namespace is EINVAL');
define(308, (t, r) => setns(t, nsFileInode(file(t, r.argInt(0))), r.argInt(1)), 'partial',
  'UTS, IPC, mount, PID and cgroup namespaces from /proc/<pid>/ns files (a PID one: the caller\'s own or below it, for its children); the sandbox\'s own network and time namespaces join as nothing to do; a user namespace with CAP_SYS_ADMIN in it (never the caller\'s own: EINVAL); a pidfd EINVAL');

