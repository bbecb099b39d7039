/**
 * pidfd is the file of pidfd_open(2) and CLONE_PIDFD: it names a process (a thread
 * group), is readable (POLLIN) once the process has exited, and is what
 * pidfd_send_signal, pidfd_getfd and waitid(P_PIDFD) take. read and write fail with EINVAL.
 */
import { Errno, fail } from '../../kernel/errors';
import { groupExitQueue } from '../../kernel/group-exit';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread-group';
import type { WaitQueue } from '../../kernel/waiter';
import { O_RDWR, POLLIN, POLLRDNORM } from '../../vfs/file';
import { AnonFile } from './anon';

/** PidFd is one pidfd description. */
export class PidFd extends AnonFile {

  constructor(readonly tg: ThreadGroup, flags: number) {
    super('[pidfd]', O_RDWR | flags);
  }

  /** exited tells whether the process has exited (a zombie, or reaped). */
  get exited(): boolean {
    return this.tg.exitStatus !== null;
  }




  override readiness(): number {
    return this.exited ? POLLIN | POLLRDNORM : 0;
  }

  override get queue(): WaitQueue {
    return groupExitQueue(this.tg);
  }


}

/** pidfdArg returns the pidfd description behind t's descriptor fd (EBADF when it is not one). */
export function pidfdArg(t: Task, fd: number): PidFd {
  if (fd < 0 || !t.fds.has(fd)) fail(Errno.EBADF);
  const f = t.fds.get(fd);
  return f instanceof PidFd ? f : fail(Errno.EBADF);
}
