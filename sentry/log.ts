/**
 * SentryLog is the sentry's logger: one event per line on the debug log (stderr by
 * default), written synchronously, since the sentry's main thread often runs for long
 * stretches without returning to Node's event loop.
 */
import { writeSync } from 'node:fs';

/** SentryLog is what the sentry logs through. */
export interface SentryLog {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** warnOnce logs a warning the first time a key is seen. */
  warnOnce(key: string, msg: string): void;
}

/**
 * LogTargets say where lines go: `fd` takes warnings and errors (and info: --strace);
 * `debugFd` takes every line, debug included. -1 drops. The container's own stderr is
 * never a default target once the sandbox runs someone else's program: `tvisor sentry`
 * run by hand logs to stderr, the runtime passes files.
 */
export interface LogTargets {
  fd?: number;
  debugFd?: number;
  json?: boolean;
  debug?: boolean;
}

/** lineLog writes text or JSON lines {level,msg,time} to the given targets. */
export function lineLog(opts: LogTargets = {}): SentryLog {
  const fd = opts.fd ?? 2;
  const debugFd = opts.debugFd ?? -1;
  const seen = new Set<string>();
  const write = (level: string, msg: string) => {
    const time = new Date().toISOString();
    const line = `${opts.json ? JSON.stringify({ level, msg, time }) : `${time} ${level} sentry: ${msg}`}\n`;
    for (const target of level === 'debug' ? [debugFd] : fd === debugFd ? [fd] : [fd, debugFd]) {
      if (target < 0) continue;
      try {
        writeSync(target, line);
      } catch {
        // the log is gone: nothing to do
      }
    }
  };
  const log: SentryLog = {
    debug: (m) => (opts.debug || debugFd >= 0) && write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    warnOnce: (k, m) => {
      if (seen.has(k)) return;
      seen.add(k);
      log.warn(m);
    },
  };
  return log;
}
