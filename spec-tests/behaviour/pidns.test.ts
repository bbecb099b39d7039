/**
 * PID namespaces (programs/pidns.c): unshare(CLONE_NEWPID) + fork, clone(CLONE_NEWPID),
 * clone3's set_tid and setns to a pid namespace file; inside, pids from 1, getppid 0 for
 * pid 1, orphans reparented to pid 1, pid 1 shielded from default-action signals sent from
 * inside (a handler still runs and sees the sender's namespace pid), kill(-1), wait
 * statuses and waitid's si_pid as the namespace numbers them, the rest of the namespace
 * killed when pid 1 exits and ENOMEM for a fork into it afterwards, the pids that
 * getpriority, sched_*, prlimit, pidfd_open take and SCM_CREDENTIALS, SO_PEERCRED and
 * F_GETLK and System V IPC's recorded pids show, a proc mounted inside listing the namespace's pids (self, thread-self,
 * status), NSpid in
 * /proc/<pid>/status; and a child subreaper (PR_SET_CHILD_SUBREAPER, not pid 1) adopting
 * its descendants' orphans, as tini does when it is not pid 1. Compared natively (as root), under runc and under tvisor; the
 * container gets CAP_SYS_ADMIN (and CAP_SETUID/SETGID for the unprivileged set_tid check).
 */
import { describeProgram, expectLines, withCapabilities } from './compare';

describeProgram({
  program: 'pidns',
  options: { editSpec: withCapabilities(['CAP_SYS_ADMIN', 'CAP_SETUID', 'CAP_SETGID']) },
  runscUnsupported: 'gVisor 2022 has no /proc/<pid>/ns/pid_for_children and no clone3',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'PR_GET_CHILD_SUBREAPER: 0',
      'after PR_SET_CHILD_SUBREAPER: 1',
      'orphan adopted by the subreaper (not init): yes',
      'its child (the flag not inherited: exit 0); the subreaper reaped the orphan: yes, exit 3',
      'subreaper: exit 0',
      'clone(CLONE_NEWPID) child: getpid 1, getppid 0',
      'clone(CLONE_NEWPID) child exit 0',
      'clone3(CLONE_NEWPID, set_tid {7}): EINVAL',
      'set_tid init: getpid 1; clone3(set_tid {5}) returned 5',
      'clone3(set_tid {5}) again: EEXIST',
      'clone3(set_tid of 8 levels): EINVAL',
      'clone3(set_tid {0}): EINVAL',
      'clone3(set_tid {8}) unprivileged: EPERM',
      'clone3(CLONE_NEWPID, set_tid {1}) child exit 0',
      'setns(pid namespace file, CLONE_NEWPID): ok; getpid unchanged: yes',
      'its child: getpid 2, getppid 0',
      'its child exit 0',
      "joined namespace's init exit 0",
      'unshare(CLONE_NEWPID): ok',
      'getpid unchanged: yes',
      'pid_for_children before the namespace has an init: ENOENT',
      'unshare(CLONE_NEWPID) again before a fork: EINVAL',
      "parent: the new init's pid here is not 1: yes",
      'parent: pid_for_children now differs from pid: yes',
      'init: getpid 1, getppid 0',
      'init: NSpid has 2 levels, the innermost 1',
      'child: getpid 2, getppid 1',
      'init: fork returned 2; waitid: si_pid 2, si_code CLD_EXITED, si_status 7',
      'orphan: pid 4, parent 3, then 1',
      'init: B (pid 3) exit 0',
      'init: reaped the orphan: pid 4, exit 0',
      'sender: kill(1, SIGTERM) ok, kill(1, SIGKILL) ok, kill(1, SIGUSR1) ok',
      'init: alive after SIGTERM and SIGKILL from inside; SIGUSR1 handled, si_pid 5 (the sender 5)',
      'init: kill(-1, SIGTERM) ok',
      'init: D signal TERM',
      'init: E signal TERM',
      'init: by pid 8: getpriority ok, sched_getscheduler ok, prlimit ok, pidfd_open ok, kill(0) ok',
      'init: its own proc: self -> 1, thread-self -> 1/task/1, processes 1 8',
      '  8/status Pid:\t8',
      '  8/status PPid:\t1',
      '  8/status NSpid:\t8',
      'init: SCM_CREDENTIALS pid 9 (the sender 9); SO_PEERCRED pid 1',
      'init: F_GETLK l_pid 10 (the holder 10)',
      'init: shm_cpid 1, sem GETPID 11, msg_lspid 11 (the writer 11)',
      'init: exits 5, leaving pid 12 behind',
      'parent: init exit 5',
      'parent: the process left behind died with init (EOF): yes',
      'parent: fork into the namespace after its init died: ENOMEM',
      'done',
    ]);
  },
});
