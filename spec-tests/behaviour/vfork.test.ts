/**
 * vfork and clone: the vfork child shares its parent's memory and the parent waits for its
 * exec or exit; posix_spawn of a missing program is ENOENT; clone's exit signal and wait's
 * __WALL/__WCLONE; pidfds (pidfd_open, pidfd_send_signal, CLONE_PIDFD, poll/epoll/waitid on
 * them). Compared between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'vfork',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'vfork: the parent sees the child\'s write: 3 (3: it waited for the exit)',
      'vfork child: exit 4',
      'vfork then exec: the parent runs while the child waits: yes, saw 5',
      'exec\'d vfork child: exit 0',
      'posix_spawn of a missing program: ENOENT',
      'posix_spawnp of a missing program: ENOENT',
      'posix_spawn of itself: 0',
      'spawned child: exit 7',
      'clone with exit signal SIGUSR1: SIGUSR1 received 1, SIGCHLD received 0',
      '  waitpid without __WALL: ECHILD',
      '  waitpid with __WCLONE: found, exit 5',
      'clone with exit signal 0: SIGUSR1 received 0, SIGCHLD received 0',
      '  waitpid with __WALL: found, exit 6',
      'fork child, waitpid with __WCLONE: ECHILD',
      '  with __WALL: found, exit 7; SIGCHLD received 1',
      'done',
    ]);
  },
});

describeProgram({
  program: 'vfork',
  args: ['signal'],
  title: 'vfork signal',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, ['vfork while the parent gets a signal: the pid, handler ran 1', '  child exit 0', 'done']);
  },
  runscUnsupported: 'gVisor 2022 has not run the vfork parent\'s handler when vfork returns, and the signal kills the program later',
});

describeProgram({
  program: 'vfork',
  args: ['pidfd'],
  title: 'vfork pidfd',
  runscUnsupported: 'gVisor 2022 has no pidfd_open (ENOSYS)',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'pidfd_open: close-on-exec yes',
      'poll before exit: 0',
      'waitid on a non-blocking pidfd of a running child: EAGAIN',
      'pidfd_send_signal SIGTERM: ok',
      'poll after the signal: 1, POLLIN yes',
      'epoll_wait: 1',
      'waitid(P_PIDFD): ok, pid matches yes, code CLD_KILLED, status TERM',
      'pidfd_send_signal after reaping: ESRCH',
      'pidfd_open bad flags: EINVAL',
      'pidfd_open pid 0: EINVAL',
      'pidfd_open no such pid: ESRCH',
      'pidfd_send_signal on a pipe: EBADF',
      'pidfd_send_signal signal 0 to itself: ok',
      'read on a pidfd: EINVAL',
      'clone3 CLONE_PIDFD: got a pidfd yes',
      '  poll 1, waitid ok, code CLD_EXITED, status 3',
      'clone CLONE_PIDFD: got a pidfd yes, child exit 4',
      'clone CLONE_PIDFD|CLONE_PARENT_SETTID: EINVAL',
      'clone3 exit signal 65: EINVAL',
      'clone3 size 63: EINVAL',
      'done',
    ]);
  },
});
