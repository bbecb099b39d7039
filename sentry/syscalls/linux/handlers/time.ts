/**
 * Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
 * clock_nanosleep. CLOCK_REALTIME is the host's wall clock; the monotonic clocks count
 * from the sandbox's boot.
 */
import { Errno, fail, LinuxError } from '../../../kernel/errors';
import type { InterruptibleState } from '../../../kernel/signals';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { define } from '../registry';

const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7;
const TIMER_ABSTIME = 1;
const start = process.hrtime.bigint();

/** nowNs returns clock `id` in nanoseconds. */
export function nowNs(id: number): bigint {
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case 8: // CLOCK_REALTIME_ALARM
    case 11: // CLOCK_TAI
      return BigInt(Date.now()) * 1000000n + (process.hrtime.bigint() % 1000000n);
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case 9: // CLOCK_BOOTTIME_ALARM
      return process.hrtime.bigint() - start + 1000000000n;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
      return BigInt(Math.round(process.cpuUsage().user * 1000));
    default:
      return fail(Errno.EINVAL);
  }
}

function timespec(ns: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(ns / 1000000000n, 0);
  b.writeBigInt64LE(ns % 1000000000n, 8);
  return b;
}

define(228, (t, r) => { t.mm.write(r.arg(1), timespec(nowNs(r.argInt(0)))); return 0; });
/** CLOCK_IDS are the clocks nowNs serves: clock_getres checks the id without reading
 * the clock. Every one of them counts in nanoseconds (the coarse ones are the fine ones). */
const CLOCK_IDS = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,
  CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, 8, 9, 11]);
define(229, (t, r) => {
  if (!CLOCK_IDS.has(r.argInt(0))) fail(Errno.EINVAL);
  if (r.arg(1) !== 0n) t.mm.write(r.arg(1), timespec(1n));
  return 0;
});
define(96, (t, r) => {
  if (r.arg(0) !== 0n) {
    const ns = nowNs(CLOCK_REALTIME);
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(ns / 1000000000n, 0);
    b.writeBigInt64LE((ns % 1000000000n) / 1000n, 8);
    t.mm.write(r.arg(0), b);
  }
  if (r.arg(1) !== 0n) t.mm.write(r.arg(1), Buffer.alloc(8));
  return 0;
});
define(201, (t, r) => {
  const sec = nowNs(CLOCK_REALTIME) / 1000000000n;
  if (r.arg(0) !== 0n) {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(sec);
    t.mm.write(r.arg(0), b);
  }
  return sec;
});

interface SleepState extends InterruptibleState {
  deadline: number;
}

/** sleep blocks the task until the requested time has passed; when a handler interrupts
 * a relative sleep, the time left goes to remAddr (if not NULL), as Linux writes it. */
function sleep(t: Task, clock: number, reqAddr: bigint, abs: boolean, remAddr: bigint): number | Block {
  let st = t.syscallState as SleepState | undefined;
  if (!st) {
    const b = t.mm.read(reqAddr, 16);
    const sec = b.readBigInt64LE(0), nsec = b.readBigInt64LE(8);
    if (sec < 0n || nsec < 0n || nsec >= 1000000000n) fail(Errno.EINVAL);
    const reqNs = sec * 1000000000n + nsec;
    const relNs = abs ? reqNs - nowNs(clock) : reqNs;
    const deadline = Date.now() + Math.max(0, Number(relNs) / 1e6);
    st = {
      deadline,
      interrupted: () => {
        if (abs || remAddr === 0n) return;
        try {
          t.mm.write(remAddr, timespec(BigInt(Math.max(0, Math.round((deadline - Date.now()) * 1e6)))));
        } catch (e) {
          if (!(e instanceof LinuxError)) throw e;
          t.regs.setReturn(-e.errno);
        }
      },
    };
    t.syscallState = st;
  }
  if (Date.now() >= st.deadline) return 0;
  return new Block([], st.deadline, true);
}

define(35, (t, r) => sleep(t, CLOCK_MONOTONIC, r.arg(0), false, r.arg(1)));
define(230, (t, r) => {
  const clock = r.argInt(0);
  nowNs(clock);
  return sleep(t, clock, r.arg(2), (r.argInt(1) & TIMER_ABSTIME) !== 0, r.arg(3));
});
