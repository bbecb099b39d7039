/**
 * lineLogger is the gofer's logger: one event per line on stderr, text or JSON
 * ({"level","msg","time"}), written synchronously because the gofer's loop keeps
 * Node's event loop (and any asynchronous log stream) waiting while it serves.
 */
import { writeSync } from 'node:fs';
import type { Logger } from './server/connection';

/** lineLogger returns a Logger writing to fd 2. */
export function lineLogger(opts: { json: boolean; debug: boolean }): Logger {
  const write = (level: string, msg: string) => {
    const time = new Date().toISOString();
    const line = opts.json ? JSON.stringify({ level, msg, time }) : `${time} ${level} ${msg}`;
    try {
      writeSync(2, `${line}\n`);
    } catch {
      // stderr closed: nothing to report to
    }
  };
  return {
    debug: (m) => opts.debug && write('debug', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}
