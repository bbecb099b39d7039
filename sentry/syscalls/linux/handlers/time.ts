/**
 * Clocks and sleeping: clock_gettime, clock_getres, clock_settime, gettimeofday, time,
 * nanosleep, clock_nanosleep. The wall and monotonic clocks are the timekeeper's (see
 * kernel/timekeeper.ts); clock_settime with CAP_SYS_TIME moves the sandbox's realtime
 * clock only (an offset), never the host's. The CPU clocks (CLOCK_PROCESS/THREAD_CPUTIME_ID and the
 * clockids clock_getcpuclockid/pthread_getcpuclockid make) read the tasks' accounted CPU
 * time (kernel/cputime.ts).
 */
import { CAP_SYS_TIME } from '../../../kernel/capabilities';
import { CPU_TICK_NS, CPUCLOCK_PERTHREAD, CPUCLOCK_SCHED, cpuClock, cpuClockNs } from '../../../kernel/cputime';
import { Errno, fail, LinuxError } from '../../../kernel/errors';
import type { InterruptibleState } from '../../../kernel/signals';
import { CLOCK_REALTIME, nowNs, setRealtimeNs } from '../../../kernel/timekeeper';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { define } from '../registry';

const CLOCK_MONOTONIC = 1, CLOCK_THREAD_CPUTIME_ID = 3;
const TIMER_ABSTIME = 1;

/** clockNs reads clock `id` for task `t`: nowNs's clocks and the CPU clocks. */
function clockNs(t: Task, id: number): bigint {
  const c = cpuClock(t, id);
  return c ? BigInt(Math.floor(cpuClockNs(c))) : nowNs(id);
}

/** clockRes returns clock `id`'s resolution in ns. */
function clockRes(t: Task, id: number): bigint {
  const c = cpuClock(t, id);
  if (!c) {
    nowNs(id);
    return 1n;
  }
  return c.which === CPUCLOCK_SCHED ? 1n : CPU_TICK_NS;
}

function timespec(ns: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(ns / 1000000000n, 0);
  b.writeBigInt64LE(ns % 1000000000n, 8);
  return b;
}

define(228, (t, r) => { t.mm.write(r.arg(1), timespec(clockNs(t, r.argInt(0)))); return 0; }, 'full');
define(229, (t, r) => {
  const res = clockRes(t, r.argInt(0));
  if (r.arg(1) !== 0n) t.mm.write(r.arg(1), timespec(res));
  return 0;
}, 'full');

/** setRealtime moves the sandbox's CLOCK_REALTIME to `ns` (CAP_SYS_TIME; the host's clock is untouched). */
function setRealtime(t: Task, ns: bigint): number {
  if (!t.creds.capable(CAP_SYS_TIME)) fail(Errno.EPERM);
  if (ns < 0n) fail(Errno.EINVAL);
  setRealtimeNs(ns);
  return 0;
}

// clock_settime(clock, tp): CLOCK_REALTIME only, as on Linux (the others are EINVAL).
define(227, (t, r) => {
  const id = r.argInt(0);
  const b = t.mm.read(r.arg(1), 16);
  const sec = b.readBigInt64LE(0), nsec = b.readBigInt64LE(8);
  if (id !== CLOCK_REALTIME || nsec < 0n || nsec >= 1000000000n) fail(Errno.EINVAL);
  return setRealtime(t, sec * 1000000000n + nsec);
}, 'partial', 'moves the sandbox\'s CLOCK_REALTIME only (an offset), not the host\'s');
// settimeofday(tv, tz): the time zone is ignored, as Linux does but for its warp.
define(164, (t, r) => {
  if (r.arg(0) === 0n) {
    if (!t.creds.capable(CAP_SYS_TIME)) fail(Errno.EPERM);
    return 0;
  }
  const b = t.mm.read(r.arg(0), 16);
  const sec = b.readBigInt64LE(0), usec = b.readBigInt64LE(8);
  if (usec < 0n || usec >= 1000000n) fail(Errno.EINVAL);
  return setRealtime(t, sec * 1000000000n + usec * 1000n);
}, 'partial', 'moves the sandbox\'s CLOCK_REALTIME only (an offset); the time zone is ignored');
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
}, 'full');
define(201, (t, r) => {
  const sec = nowNs(CLOCK_REALTIME) / 1000000000n;
  if (r.arg(0) !== 0n) {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(sec);
    t.mm.write(r.arg(0), b);
  }
  return sec;
}, 'full');

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
    const relNs = abs ? reqNs - clockNs(t, clock) : reqNs;
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

define(35, (t, r) => sleep(t, CLOCK_MONOTONIC, r.arg(0), false, r.arg(1)), 'full');
define(230, (t, r) => {
  const clock = r.argInt(0);
  // Sleeping on a thread's own CPU clock is EINVAL on Linux; a process CPU clock is slept
  // as wall time here.
  if (clock === CLOCK_THREAD_CPUTIME_ID || (clock < 0 && clock & CPUCLOCK_PERTHREAD)) fail(Errno.EINVAL);
  clockNs(t, clock);
  return sleep(t, clock, r.arg(2), (r.argInt(1) & TIMER_ABSTIME) !== 0, r.arg(3));
}, 'partial', 'a sleep on a process CPU clock waits the same wall time, not until the CPU time is used');
