/**
 * epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2 (the
 * instance is fsimpl/anon/epoll) and eventfd, eventfd2 (fsimpl/anon/eventfd).
 */
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { EpollFile, EPOLLEXCLUSIVE } from '../../../fsimpl/anon/epoll';
import { EventFd } from '../../../fsimpl/anon/eventfd';
import { O_CLOEXEC, O_NONBLOCK } from '../../../vfs/file';
import { define } from '../registry';
import { deadlineFrom, readTimespecMs, waitOrTimeout, withSigmask } from './poll';
import { fdArg, file, u32 } from './util';

const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
/** EP_MAX_EVENTS is Linux's bound on maxevents (INT_MAX / sizeof(struct epoll_event)). */
const EP_MAX_EVENTS = Math.floor(0x7fffffff / 12);
/** EVENT_SIZE: struct epoll_event is packed on x86-64 (u32 events, u64 data). */
const EVENT_SIZE = 12;

function create(t: Task, flags: number): number {
  if (flags & ~O_CLOEXEC) fail(Errno.EINVAL);
  return t.fds.add(new EpollFile(0), (flags & O_CLOEXEC) !== 0);
}

define(213, (t, r) => {
  if (r.argInt(0) <= 0) fail(Errno.EINVAL);
  return create(t, 0);
}, 'full');
define(291, (t, r) => create(t, u32(r, 0)), 'full');

define(233, (t, r) => {
  const epfd = fdArg(r, 0), op = r.argInt(1), fd = fdArg(r, 2);
  const ep = file(t, epfd);
  const target = file(t, fd);
  if (!(ep instanceof EpollFile) || fd === epfd) fail(Errno.EINVAL);
  if (op === EPOLL_CTL_DEL) {
    ep.remove(target, fd);
    return 0;
  }
  if (op !== EPOLL_CTL_ADD && op !== EPOLL_CTL_MOD) fail(Errno.EINVAL);
  const b = t.mm.read(r.arg(3), EVENT_SIZE);
  const events = b.readUInt32LE(0), data = b.readBigUInt64LE(4);
  if (op === EPOLL_CTL_ADD) {
    if (events & EPOLLEXCLUSIVE && target instanceof EpollFile) fail(Errno.EINVAL);
    ep.add(target, fd, events, data);
  } else {
    ep.modify(target, fd, events, data);
  }
  return 0;
}, 'full');

function wait(t: Task, epfd: number, addr: bigint, max: number, timeoutMs: number | null): number | Block {
  if (max <= 0 || max > EP_MAX_EVENTS) fail(Errno.EINVAL);
  const ep = file(t, epfd);
  if (!(ep instanceof EpollFile)) fail(Errno.EINVAL);
  const deadline = deadlineFrom(t, timeoutMs);
  const ready = ep.collect(max);
  // epoll_wait fails with EINTR even after a stop and SIGCONT (signal(7)).
  if (ready.length === 0) return waitOrTimeout([ep.queue], deadline, 'eintr');
  const out = Buffer.alloc(ready.length * EVENT_SIZE);
  ready.forEach((e, i) => {
    out.writeUInt32LE(e.events >>> 0, i * EVENT_SIZE);
    out.writeBigUInt64LE(e.data, i * EVENT_SIZE + 4);
  });
  t.mm.write(addr, out);
  return ready.length;
}

const msArg = (ms: number): number | null => (ms < 0 ? null : ms);
define(232, (t, r) => wait(t, fdArg(r, 0), r.arg(1), r.argInt(2), msArg(r.argInt(3))), 'full');
define(281, (t, r) => withSigmask(t, r.arg(4), Number(r.arg(5)), () => wait(t, fdArg(r, 0), r.arg(1), r.argInt(2), msArg(r.argInt(3)))), 'full');
define(441, (t, r) => withSigmask(t, r.arg(4), Number(r.arg(5)), () => wait(t, fdArg(r, 0), r.arg(1), r.argInt(2), readTimespecMs(t, r.arg(3)))), 'full');

const EFD_SEMAPHORE = 1;
function eventfd(t: Task, initval: number, flags: number): number {
  if (flags & ~(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK)) fail(Errno.EINVAL);
  return t.fds.add(new EventFd(initval, (flags & EFD_SEMAPHORE) !== 0, flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
}
define(284, (t, r) => eventfd(t, u32(r, 0), 0), 'full');
define(290, (t, r) => eventfd(t, u32(r, 0), u32(r, 1)), 'full');
