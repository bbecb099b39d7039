/**
 * POSIX timers (timer_create, timer_settime, timer_gettime, timer_getoverrun,
 * timer_delete: kernel/posix-timers.ts) and timerfd (timerfd_create, timerfd_settime,
 * timerfd_gettime: fsimpl/anon/timerfd.ts), both on CLOCK_REALTIME, MONOTONIC and
 * BOOTTIME; POSIX timers also on the CPU clocks (10 ms resolution).
 */
import { cpuClock } from '../../../kernel/cputime';
import { Errno, fail } from '../../../kernel/errors';
import { checkTimerClock, itimerspec, readItimerspec } from '../../../kernel/interval-timer';
import { createTimer, deleteTimer, readSigevent, timerOf } from '../../../kernel/posix-timers';
import { TFD_TIMER_ABSTIME, TimerFd } from '../../../fsimpl/anon/timerfd';
import type { Task } from '../../../kernel/task';
import { O_CLOEXEC, O_NONBLOCK } from '../../../vfs/file';
import { define } from '../registry';
import { fdArg, file, u32 } from './util';

const TIMER_ABSTIME = 1;
const TFD_TIMER_CANCEL_ON_SET = 2;

// timer_create(clockid, sevp, timerid)
define(222, (t, r) => {
  const id = r.argInt(0);
  const clock = cpuClock(t, id) ?? checkTimerClock(id);
  const notify = r.arg(1) !== 0n ? readSigevent(t, t.mm.read(r.arg(1), 64)) : null;
  const idAddr = r.arg(2);
  t.mm.read(idAddr, 4); // EFAULT before a timer exists
  const timer = createTimer(t, clock, notify);
  const b = Buffer.alloc(4);
  b.writeInt32LE(timer.id);
  t.mm.write(idAddr, b);
  return 0;
}, 'partial', 'the _ALARM clocks are EINVAL; timers on CPU clocks have the 10 ms time slice as resolution');
// timer_settime(timerid, flags, new, old)
define(223, (t, r) => {
  const timer = timerOf(t.tg, r.argInt(0));
  const setting = readItimerspec(t.mm.read(r.arg(2), 32));
  const old = timer.set(setting, (r.argInt(1) & TIMER_ABSTIME) !== 0);
  if (r.arg(3) !== 0n) t.mm.write(r.arg(3), itimerspec(old));
  return 0;
}, 'full');
// timer_gettime(timerid, cur)
define(224, (t, r) => {
  t.mm.write(r.arg(1), itimerspec(timerOf(t.tg, r.argInt(0)).timer.get()));
  return 0;
}, 'full');
define(225, (t, r) => timerOf(t.tg, r.argInt(0)).overrun(), 'full');
define(226, (t, r) => {
  deleteTimer(t.tg, r.argInt(0));
  return 0;
}, 'full');

function timerfd(t: Task, fd: number): TimerFd {
  const f = file(t, fd);
  if (!(f instanceof TimerFd)) fail(Errno.EINVAL);
  return f;
}

// timerfd_create(clockid, flags)
define(283, (t, r) => {
  const flags = u32(r, 1);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) fail(Errno.EINVAL);
  const clock = checkTimerClock(r.argInt(0));
  return t.fds.add(new TimerFd(clock, flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
}, 'partial', 'CLOCK_REALTIME/MONOTONIC/BOOTTIME; the _ALARM clocks are EINVAL');
// timerfd_settime(fd, flags, new, old)
define(286, (t, r) => {
  const flags = u32(r, 1);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) fail(Errno.EINVAL);
  const f = timerfd(t, fdArg(r, 0));
  const setting = readItimerspec(t.mm.read(r.arg(2), 32));
  const old = f.settime(setting, flags);
  if (r.arg(3) !== 0n) t.mm.write(r.arg(3), itimerspec(old));
  return 0;
}, 'partial', 'TFD_TIMER_CANCEL_ON_SET is accepted but never cancels');
// timerfd_gettime(fd, cur)
define(287, (t, r) => {
  t.mm.write(r.arg(1), itimerspec(timerfd(t, fdArg(r, 0)).gettime()));
  return 0;
}, 'full');
