/**
 * POSIX message queues: priorities, attributes and mq_setattr, full and empty queues
 * (EAGAIN, ETIMEDOUT), EMSGSIZE, poll readiness, mq_notify with a signal, a blocked
 * receiver, the descriptor's status line, mq_unlink and the name rules; compared
 * natively, under runc and under tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'mqueue',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'attributes: flags 0 maxmsg 4 msgsize 64 curmsgs 0',
      'again with O_EXCL: EEXIST',
      'empty queue: POLLIN no POLLOUT yes',
      'full queue: POLLIN yes POLLOUT no',
      'status line: QSIZE:14         NOTIFY:0     SIGNO:0     NOTIFY_PID:0     ',
      'send to a full queue with a past timeout: ETIMEDOUT',
      'send to a full queue with O_NONBLOCK: EAGAIN (old flags 0)',
      'received "high" priority 9',
      'received "mid" priority 5',
      'received "low" priority 1',
      'received "low2" priority 1',
      'receive from an empty queue with O_NONBLOCK: EAGAIN',
      'timed receive from an empty queue: ETIMEDOUT',
      'invalid timeout: EINVAL',
      'message longer than msgsize: EMSGSIZE',
      'receive buffer shorter than msgsize: EMSGSIZE',
      'priority 32768: EINVAL',
      'second registration: EBUSY',
      'status with a registration has NOTIFY:0 SIGNO:10: yes',
      'notified: signal 10, SI_MESGQ yes, value 42',
      'a second message, the registration gone: signal 0',
      'register with SIGEV_NONE: 0, unregister: 0',
      'child: received "wake" priority 7',
      'send on a read-only descriptor: EBADF',
      'mq_getattr of a plain file descriptor: EBADF',
      'mq_unlink: 0, again: ENOENT',
      'open after unlink: ENOENT',
      'maxmsg past the limit: EINVAL',
      'a name with a second slash: EACCES',
      'done',
    ]);
  },
  runscUnsupported: 'gVisor 2022 has no POSIX message queues (mq_getsetattr answers ENOSYS)',
});
