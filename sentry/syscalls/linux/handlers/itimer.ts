/**
 * Interval timers: alarm, setitimer, getitimer (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF;
 * the timers themselves are in kernel/itimers.ts).
 */
import { Errno, fail } from '../../../kernel/errors';
import { armAlarm, getItimer, ITIMER_PROF, ITIMER_REAL, setItimer, type ItimerValue } from '../../../kernel/itimers';
import { define } from '../registry';
import { num } from './util';

/** readItimerval reads a struct itimerval as [interval, value] in ns (EINVAL when malformed). */
function readItimerval(b: Buffer): ItimerValue {
  const ns = (off: number) => {
    const sec = b.readBigInt64LE(off), usec = b.readBigInt64LE(off + 8);
    if (sec < 0n || usec < 0n || usec >= 1000000n) fail(Errno.EINVAL);
    return Number(sec) * 1e9 + Number(usec) * 1000;
  };
  return [ns(0), ns(16)];
}

/** itimerval encodes [interval, value] (ns) as a struct itimerval, rounding up to microseconds. */
function itimerval([interval, value]: ItimerValue): Buffer {
  const b = Buffer.alloc(32);
  [interval, value].forEach((ns, i) => {
    const us = Math.ceil(ns / 1000);
    b.writeBigInt64LE(BigInt(Math.floor(us / 1e6)), 16 * i);
    b.writeBigInt64LE(BigInt(us % 1e6), 16 * i + 8);
  });
  return b;
}

function which(w: number): number {
  if (w < ITIMER_REAL || w > ITIMER_PROF) fail(Errno.EINVAL);
  return w;
}

define(37, (t, r) => Math.ceil(armAlarm(t.tg, num(r, 0) * 1000) / 1000), 'full');
// setitimer(which, new, old)
define(38, (t, r) => {
  const w = which(r.argInt(0));
  const v: ItimerValue = r.arg(1) !== 0n ? readItimerval(t.mm.read(r.arg(1), 32)) : [0, 0];
  const old = setItimer(t.tg, w, v);
  if (r.arg(2) !== 0n) t.mm.write(r.arg(2), itimerval(old));
  return 0;
}, 'full');
// getitimer(which, cur)
define(36, (t, r) => {
  t.mm.write(r.arg(1), itimerval(getItimer(t.tg, which(r.argInt(0)))));
  return 0;
}, 'full');
