/**
 * phases.ts: where a sandbox process's time goes, by phase: the one debug switch for it
 * (`make bench-syscalls BENCH_PHASES=1`, spec-tests/bench/walk-phases.ts). With
 * TVISOR_PHASES=<file> in its environment (an absolute path; the runtime passes it on with
 * TVISOR_PROFILE, see startup-profile.ts), a process sums, per phase name, how many times
 * it was entered and the wall time spent in it (performance.now stamps), and at its end
 * appends one line to that file: `tvisor-phases <process> <pid> <JSON {phase: [count,
 * ms]}>`. The file is opened at phasesStart, before the process gives up its view of the
 * host (a confined sandbox process keeps the descriptor).
 *
 * Phases the sentry sums (others name their own: `9p:*`, `vfs:*`, `gofer:*`):
 * - `switch`: Context.switch, the platform's round trip with the application's own run;
 * - `sys:<syscall>`: that syscall's handler;
 * - `fault`: the memory manager's handling of an application fault (mapping it in);
 * - `stubs:spawned`: a count of the stub processes the ptrace and systrap platforms spawned;
 *   `stubs:spawn` their time in newAddressSpace, `stubs:spare` the count of those that
 *   finished a spare, `stubs:start-spare` the time starting spares, `stubs:spare-advanced`
 *   the spares taken past their exec stop ahead of need; `stubs:reused` the address spaces
 *   made over a stub a released one left (ptrace's pool, platform/ptrace/stub-pool.ts),
 *   `stubs:reset-wait` the time waiting for such a stub's emptying to end.
 * With TVISOR_PHASES=syscalls:<file> (the per-syscall breakdown mode, PHASES.syscalls),
 * the sentry also splits its scheduler loop (kernel/sched.ts) at every stop:
 * - `loop:pre`: from the top of the task's loop to the switch (the OOM check, signal
 *   delivery, the slice's clock, the task's context);
 * - `loop:timers`: checkCpuTimers after the switch;
 * - `loop:dispatch`: runSyscall without the handler (instruction check, seccomp profile,
 *   table, strace, accounting);
 * - `switch:<syscall>`: the switches that stopped at that syscall;
 * - `loop:gap`: per slice, from the end of a slice that left its task runnable (its 10 ms
 *   were up) to the start of the next (Node's event loop, the run queue); the time after
 *   a slice whose task blocked or exited is idle and not counted;
 * - `<platform>:<step>`: the platform's own split of its round trips, where it has one
 *   (Platform.debugStamps, systrap): each step's mean per round trip, `*Spun` counted.
 *
 * Cost: when the switch is off each instrumented place costs one read of a field that is
 * never written (PHASES.on or PHASES.syscalls) and a branch; in the default mode the
 * scheduler takes 2 clock reads per stop and 2 per syscall (the handler's, which it takes
 * anyway for CPU accounting), in the syscalls mode 3 more per stop.
 *
 * A leaf module, imported by the sentry and the gofer alike. The switch is read at a
 * process's first phasesStart (its main), never at module load: the sentry's bundle is
 * evaluated into a start-up snapshot, whose environment is not the process's.
 */
import { openSync, writeSync } from 'node:fs';

/** PHASES_ENV is the variable that turns the phase sums on: `[syscalls:]<file>`. */
export const PHASES_ENV = 'TVISOR_PHASES';
/** SYSCALLS_MODE is the prefix of PHASES_ENV's value that asks for the per-syscall breakdown. */
export const SYSCALLS_MODE = 'syscalls:';

/** PHASES says whether phases are summed in this process, and in which mode (set by phasesStart). */
export const PHASES = { on: false, syscalls: false };

/** PhasesSwitch is PHASES_ENV's value read: the file and the mode. */
export interface PhasesSwitch {
  file: string;
  syscalls: boolean;
}

/** parsePhasesSwitch reads a PHASES_ENV value: undefined when it is unset, or its file
 * is not an absolute path (the sums are off). */
export function parsePhasesSwitch(value: string | undefined): PhasesSwitch | undefined {
  if (!value) return undefined;
  const syscalls = value.startsWith(SYSCALLS_MODE);
  const file = syscalls ? value.slice(SYSCALLS_MODE.length) : value;
  return file.startsWith('/') ? { file, syscalls } : undefined;
}

const sums = new Map<string, [number, number]>();
let who = '';
let outFd = -1;

/**
 * phasesStart reads the switch for process `name` (sentry, gofer) and, when it is on,
 * arranges for the sums to be written at the process's exit (phasesDump: a process that
 * is killed first writes them where its owner calls phasesDump, e.g. the gofer at the
 * end of its connection).
 */
export function phasesStart(name: string): void {
  const sw = parsePhasesSwitch(process.env[PHASES_ENV]);
  if (!sw || PHASES.on) return;
  try {
    outFd = openSync(sw.file, 'a', 0o600);
  } catch {
    return; // no sums rather than a process that cannot start
  }
  PHASES.on = true;
  PHASES.syscalls = sw.syscalls;
  who = name;
  process.once('exit', () => phasesDump());
}

/** phaseAdd adds one entry of `ms` milliseconds to phase `key`. */
export function phaseAdd(key: string, ms: number): void {
  phaseAddSum(key, 1, ms);
}

/** phaseAddSum adds `n` entries that took `ms` milliseconds in all to phase `key`. */
export function phaseAddSum(key: string, n: number, ms: number): void {
  const s = sums.get(key);
  if (s) {
    s[0] += n;
    s[1] += ms;
  } else {
    sums.set(key, [n, ms]);
  }
}

/** phaseCount adds `n` to phase `key`'s count without time (a thing counted, not timed). */
export function phaseCount(key: string, n = 1): void {
  phaseAddSum(key, n, 0);
}

let nameOf: (nr: number) => string = String;
const keysByNr = new Map<string, string[]>();

/** setSyscallNames gives the names phaseAddSyscall's keys use (the sentry's syscall table). */
export function setSyscallNames(name: (nr: number) => string): void {
  nameOf = name;
  keysByNr.clear();
}

/** phaseAddSyscall adds one entry of `ms` to phase `<family>:<name of syscall nr>` (its key
 * is made once per syscall, not per entry). */
export function phaseAddSyscall(family: string, nr: number, ms: number): void {
  let keys = keysByNr.get(family);
  if (!keys) keysByNr.set(family, (keys = []));
  phaseAdd((keys[nr] ??= `${family}:${nameOf(nr)}`), ms);
}

/** phaseAddSplit adds a platform's split of its round trips (Platform.debugStamps: `count`
 * round trips, nanosecond sums, and `*Spun` counts) as phases `<platform>:<step>`. */
export function phaseAddSplit(platform: string, split: Record<string, number> | undefined): void {
  const n = split?.count ?? 0;
  if (!split || n <= 0) return;
  phaseCount(`${platform}:round-trips`, n);
  for (const [k, v] of Object.entries(split)) {
    if (k === 'count') continue;
    if (k.endsWith('Spun')) phaseCount(`${platform}:${k}`, v);
    else phaseAddSum(`${platform}:${k}`, n, v / 1e6);
  }
}

/** phasesDump appends the sums so far as one line to the file and starts them afresh. */
export function phasesDump(): void {
  if (!PHASES.on || sums.size === 0) return;
  const out: Record<string, [number, number]> = {};
  for (const [k, [n, ms]] of sums) out[k] = [n, Math.round(ms * 1000) / 1000];
  sums.clear();
  try {
    writeSync(outFd, `tvisor-phases ${who} ${process.pid} ${JSON.stringify(out)}\n`);
  } catch {
    // the figures are lost, nothing else is
  }
}

/** phasesEnv is the switch to hand to a child process: empty when phases are off. */
export function phasesEnv(): NodeJS.ProcessEnv {
  const value = process.env[PHASES_ENV];
  return value ? { [PHASES_ENV]: value } : {};
}
