/**
 * proc.ts reads host process facts from /proc. A pid alone does not name a process for
 * long (pids are reused), so tvisor records each sandbox pid with its start time (field 22
 * of /proc/PID/stat, in clock ticks since boot) and treats a pid whose start time differs
 * as a different process: the container's own process is gone.
 */
import { readFileSync } from 'node:fs';

/** ProcStat is what tvisor reads from /proc/PID/stat. */
export interface ProcStat {
  /** state is the one-letter process state (R, S, D, Z, T, ...). */
  state: string;
  /** startTime is field 22, kept as a decimal string (it can exceed 2^53 in theory). */
  startTime: string;
}

/** readProcStat returns the state and start time of `pid`, or undefined when no such process. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm (field 2) is in parentheses and may hold spaces or ')': fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return { state: rest[0], startTime: rest[22 - 3] };
}

/** processStartTime returns field 22 of /proc/PID/stat, or undefined when `pid` does not exist. */
export function processStartTime(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

/**
 * isProcessAlive tells whether `pid` still names the process that started at `startTime`
 * and has not exited (a zombie has exited: it only waits for its parent to reap it).
 */
export function isProcessAlive(pid: number, startTime: string | undefined): boolean {
  if (!(pid > 0)) return false;
  const st = readProcStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

/** waitProcessGone polls until the process is gone; it resolves false on timeout. */
export async function waitProcessGone(pid: number, startTime: string | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  while (isProcessAlive(pid, startTime)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
  return true;
}
