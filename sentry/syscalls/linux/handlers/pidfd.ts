/**
 * pidfds: pidfd_open, pidfd_send_signal, pidfd_getfd (the file is fsimpl/anon/pidfd.ts;
 * clone's CLONE_PIDFD and waitid's P_PIDFD are in process.ts).
 */
import { groupByPid, taskByTid } from '../../../kernel/pid-namespace';
import { Errno, fail } from '../../../kernel/errors';
import { sendToGroup } from '../../../kernel/signals';
import { NSIG, SI_TKILL, SI_USER } from '../../../kernel/signal-types';
import { PidFd, pidfdArg } from '../../../fsimpl/anon/pidfd';
import { O_NONBLOCK } from '../../../vfs/file';
import { define } from '../registry';
import { mayKill } from './process';
import { u32 } from './util';

/** PIDFD_NONBLOCK is O_NONBLOCK: waitid(P_PIDFD) on the fd fails with EAGAIN instead of sleeping. */
const PIDFD_NONBLOCK = O_NONBLOCK;
/** CAP_SYS_PTRACE (19) lets pidfd_getfd take another user's descriptors. */
const CAP_SYS_PTRACE = 19;

// pidfd_open(pid, flags): a pidfd for a process (a thread-group leader) that exists.
define(434, (t, r) => {
  const pid = r.argInt(0), flags = u32(r, 1);
  if (flags & ~PIDFD_NONBLOCK || pid <= 0) fail(Errno.EINVAL);
  const tg = groupByPid(t, pid);
  if (!tg) {
    // A thread that is not its process's leader is not a process.
    if (taskByTid(t, pid)) fail(Errno.EINVAL);
    fail(Errno.ESRCH);
  }
  return t.fds.add(new PidFd(tg, flags & PIDFD_NONBLOCK), true);
}, 'partial', 'PIDFD_NONBLOCK only (no PIDFD_THREAD, Linux 6.9)');

// pidfd_send_signal(pidfd, sig, siginfo, flags)
define(424, (t, r) => {
  const fd = r.argInt(0), sig = r.argInt(1), infoAddr = r.arg(2), flags = u32(r, 3);
  if (flags !== 0) fail(Errno.EINVAL);
  const pf = pidfdArg(t, fd);
  if (sig < 0 || sig > NSIG) fail(Errno.EINVAL);
  const tg = pf.tg;
  if (t.kernel.groups.get(tg.tgid) !== tg) fail(Errno.ESRCH);
  let code = SI_USER;
  if (infoAddr !== 0n) {
    // siginfo_t: si_signo, si_errno, si_code; a caller may not pose as the kernel to another process.
    const info = t.mm.read(infoAddr, 12);
    if (info.readInt32LE(0) !== sig) fail(Errno.EINVAL);
    code = info.readInt32LE(8);
    if (tg !== t.tg && (code >= 0 || code === SI_TKILL)) fail(Errno.EPERM);
  }
  const leader = tg.leader ?? [...tg.tasks][0];
  if (leader && !mayKill(t, leader, sig)) fail(Errno.EPERM);
  // A zombie takes the signal and drops it.
  if (sig !== 0 && tg.alive) sendToGroup(tg, { signo: sig, code, pid: t.pid, uid: t.creds.uid });
  return 0;
}, 'partial', 'a siginfo passed in keeps only its si_code (other fields are the caller\'s pid and uid)');

// pidfd_getfd(pidfd, targetfd, flags): a duplicate (close-on-exec) of another process's descriptor.
define(438, (t, r) => {
  const pf = pidfdArg(t, r.argInt(0));
  const targetFd = r.argInt(1);
  if (u32(r, 2) !== 0) fail(Errno.EINVAL);
  const tg = pf.tg;
  const target = tg.leader && tg.leader.state !== 'exited' ? tg.leader : [...tg.tasks][0];
  if (!target) fail(Errno.ESRCH);
  // ptrace attach access, simplified: the same process, or every real/effective/saved id
  // of the target equal to the caller's real ones, or CAP_SYS_PTRACE.
  const c = t.creds, tc = target.creds;
  const sameIds = [tc.uid, tc.euid, tc.suid].every((u) => u === c.uid) && [tc.gid, tc.egid, tc.sgid].every((g) => g === c.gid);
  if (tg !== t.tg && !sameIds && !c.capableIn(CAP_SYS_PTRACE, tc.userns)) fail(Errno.EPERM);
  if (targetFd < 0 || !target.fds.has(targetFd)) fail(Errno.EBADF);
  const f = target.fds.get(targetFd);
  return t.fds.add(f.ref(), true);
}, 'partial', 'access check: same ids or CAP_SYS_PTRACE (no ptrace access modes or LSM)');
