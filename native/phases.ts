/**
 * phases.ts: where a sandbox process's time goes, by phase, for `make bench-syscalls`'s
 * walk breakdown (BENCH_PHASES=1, spec-tests/bench/walk-phases.ts). A debug switch: with
 * TVISOR_PHASES=<file> in its environment (an absolute path; the runtime passes it on with
 * TVISOR_PROFILE, see startup-profile.ts), a process sums, per phase name, how many times
 * it was entered and the wall time spent in it (performance.now stamps), and at its end
 * appends one line to that file: `tvisor-phases <process> <pid> <JSON {phase: [count,
 * ms]}>`. The file is opened at phasesStart, before the process gives up its view of the
 * host (a confined sandbox process keeps the descriptor). Without the variable each
 * instrumented place costs one property read (PHASES.on).
 *
 * A leaf module, imported by the sentry and the gofer alike. The switch is read at a
 * process's first phasesStart (its main), never at module load: the sentry's bundle is
 * evaluated into a start-up snapshot, whose environment is not the process's.
 */
import { openSync, writeSync } from 'node:fs';

/** PHASES_ENV is the variable that turns the phase sums on: the file they go to. */
export const PHASES_ENV = 'TVISOR_PHASES';

/** PHASES says whether phases are summed in this process (set by phasesStart). */
export const PHASES = { on: false };

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
  const file = process.env[PHASES_ENV];
  if (!file || !file.startsWith('/') || PHASES.on) return;
  try {
    outFd = openSync(file, 'a', 0o600);
  } catch {
    return; // no sums rather than a process that cannot start
  }
  PHASES.on = true;
  who = name;
  process.once('exit', () => phasesDump());
}

/** phaseAdd adds one entry of `ms` milliseconds to phase `key`. */
export function phaseAdd(key: string, ms: number): void {
  const s = sums.get(key);
  if (s) {
    s[0]++;
    s[1] += ms;
  } else {
    sums.set(key, [1, ms]);
  }
}

/** phaseCount adds `n` to phase `key`'s count without time (a thing counted, not timed). */
export function phaseCount(key: string, n = 1): void {
  const s = sums.get(key);
  if (s) s[0] += n;
  else sums.set(key, [n, 0]);
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
  const file = process.env[PHASES_ENV];
  return file ? { [PHASES_ENV]: file } : {};
}
