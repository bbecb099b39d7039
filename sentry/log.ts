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

/** lineLog writes to fd (2 by default), as text or JSON lines {level,msg,time}. */
export function lineLog(opts: { fd?: number; json?: boolean; debug?: boolean } = {}): SentryLog {
  const fd = opts.fd ?? 2;
  const seen = new Set<string>();
  const write = (level: string, msg: string) => {
    const time = new Date().toISOString();
    const line = opts.json ? JSON.stringify({ level, msg, time }) : `${time} ${level} sentry: ${msg}`;
    try {
      writeSync(fd, `${line}\n`);
    } catch {
      // the log is gone: nothing to do
    }
  };
  const log: SentryLog = {
    debug: (m) => opts.debug && write('debug', m),
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
