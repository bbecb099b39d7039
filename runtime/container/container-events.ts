/**
 * container-events.ts implements runc's `events` (runc-events(8)): `--stats` prints one
 * stats sample of a container's sandbox and returns; otherwise a sample is printed every
 * `--interval` (the first after one interval, as runc's ticker does) and an `oom` event
 * whenever the kernel's OOM killer has killed in the sandbox's cgroup, until the container
 * stops or is deleted. Samples are the sandbox's host figures (sentry, gofer, stubs): the
 * shape is runc's (stats.ts), the magnitudes are those of the sandbox.
 *
 * Deviation from runc 1.1, whose loop keeps printing after the container has stopped
 * until it is deleted (or the command is killed): tvisor's loop ends, with status 0, once
 * the container is stopped. Liveness and the OOM count are checked every OOM_POLL_MS,
 * which is cheap (two small files); the full sample is read once an interval.
 */
import { Container, type ContainerEnv } from './container';
import { ContainerError, NotExistError, StatusError } from './errors';
import type { SandboxRef } from './sandbox';
import type { ContainerEvent } from './stats';

/** OOM_POLL_MS is how often the loop checks liveness and the OOM-kill count. */
export const OOM_POLL_MS = 200;

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * parseDuration reads a duration as Go's time.ParseDuration does ("5s", "500ms",
 * "1m30s", "1.5h"; a bare "0" is zero) and returns milliseconds.
 */
export function parseDuration(text: string): number {
  const bad = () => new ContainerError(`invalid duration "${text}": use a number with a unit, such as 5s, 500ms or 1m30s`);
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let ns = 0;
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s) {
    const m = part.exec(s);
    if (!m) throw bad();
    ns += Number(m[1]) * UNIT_NS[m[2]];
    s = s.slice(m[0].length);
  }
  return (sign * ns) / 1e6;
}

function requireLive(c: Container): void {
  const status = c.status();
  if (status !== 'created' && status !== 'running' && status !== 'paused') {
    throw new StatusError(`container with id ${c.id} is not running`, status);
  }
}

/** statsEvent reads one stats sample of container `id`. */
export async function statsEvent(env: ContainerEnv, id: string): Promise<ContainerEvent> {
  const c = Container.load(env, id);
  requireLive(c);
  if (!env.sandbox.stats) throw new ContainerError('events is not supported by this sandbox');
  const { data } = await env.sandbox.stats(c.sandboxRef());
  return { type: 'stats', id: c.id, data };
}

/** WatchOptions tune watchEvents; `signal` ends the loop early (stdout closed). */
export interface WatchOptions {
  intervalMs: number;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * watchEvents calls `emit` with a stats event every interval and an oom event after each
 * OOM kill, until container `id` stops, is deleted, or `signal` aborts.
 */
export async function watchEvents(env: ContainerEnv, id: string, o: WatchOptions, emit: (e: ContainerEvent) => void): Promise<void> {
  if (!(o.intervalMs > 0)) throw new ContainerError('--interval must be greater than 0');
  const first = Container.load(env, id);
  requireLive(first);
  const sb = env.sandbox;
  if (!sb.stats) throw new ContainerError('events is not supported by this sandbox');
  const ref: SandboxRef = first.sandboxRef();
  const oomKills = async () => {
    try {
      return (await (sb.oomKills ? sb.oomKills(ref) : sb.stats!(ref).then((s) => s.oomKills))) ?? 0;
    } catch {
      return 0; // the cgroup is gone with the container
    }
  };
  let seenOom = await oomKills();
  const poll = Math.min(o.pollMs ?? OOM_POLL_MS, o.intervalMs);
  let due = Date.now() + o.intervalMs;
  while (!o.signal?.aborted) {
    await sleep(Math.max(0, Math.min(poll, due - Date.now())), o.signal);
    if (o.signal?.aborted) return;
    let live: boolean;
    try {
      const c = Container.load(env, id);
      live = c.record.pid === ref.pid && c.status() !== 'stopped';
    } catch (e) {
      if (!(e instanceof NotExistError)) throw e;
      live = false;
    }
    const kills = await oomKills();
    // One event per kill, as runc gives one per notification.
    for (; seenOom < kills; seenOom++) emit({ type: 'oom', id });
    if (!live) return;
    if (Date.now() >= due) {
      due += o.intervalMs;
      if (due < Date.now()) due = Date.now() + o.intervalMs; // a slow read: skip, do not burst
      try {
        emit({ type: 'stats', id, data: (await sb.stats(ref)).data });
      } catch (e) {
        // The container may have stopped during the read: the next round ends the loop.
        env.log.debug(`events ${id}: stats: ${(e as Error).message}`);
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
