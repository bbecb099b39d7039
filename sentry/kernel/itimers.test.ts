/**
 * ITIMER_REAL read back while it is due: Linux's do_getitimer reports an armed timer whose
 * expiry has not been handled yet with 1 us left and its interval, never as disarmed.
 */
import { armAlarm, getItimer } from './itimers';
import type { ThreadGroup } from './thread-group';

const ITIMER_REAL = 0;

test('a due periodic ITIMER_REAL still reports its interval and 1 us left', () => {
  // Only the two alarm fields are read or written here: the signal is never sent,
  // because the event loop does not run before the timer is disarmed.
  const tg = { alarmTimer: null, alarmInterval: 0 } as unknown as ThreadGroup;
  armAlarm(tg, 20, 20);
  expect(getItimer(tg, ITIMER_REAL)[0]).toBe(20e6);
  const until = Date.now() + 40;
  while (Date.now() < until) { /* let the expiry pass without the event loop running */ }
  expect(getItimer(tg, ITIMER_REAL)).toEqual([20e6, 1000]);
  armAlarm(tg, 0);
  expect(getItimer(tg, ITIMER_REAL)).toEqual([0, 0]);
});
