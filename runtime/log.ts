/**
 * log.ts is tvisor's logging, shared by every tvisor process (CLI, sentry, gofer): one
 * event per line through winston, as text (`time="..." level=info msg="..."`, the logrus
 * style runc uses) or as JSON (`{"level":"error","msg":"...","time":"..."}`). containerd
 * runs runtimes with `--log <file> --log-format json` and shows users the `msg` of the
 * last error line of that file, so errors must reach the file as one JSON object each.
 *
 * winston is loaded on the first event only: most commands log nothing, and every tvisor
 * process sits on the container start path.
 */
import type * as Winston from 'winston';

/** LogLevel is a log severity, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** LogOptions configure createLogger. */
export interface LogOptions {
  /** file receives the log; without it events go to stderr. */
  file?: string;
  format?: 'text' | 'json';
  /** level is the least severe level written (default: warn, or debug with `debug`). */
  level?: LogLevel;
  /** debugFile, when set, also receives every event down to debug (runsc's --debug-log). */
  debugFile?: string;
  /** component names the process in every event (`tvisor`, `sentry`, `gofer`). */
  component?: string;
}

/** Logger writes log events; `close` resolves once everything is flushed. */
export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** toFile tells whether events go to a file (and not to stderr). */
  readonly toFile: boolean;
  close(): Promise<void>;
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** quoteText quotes a logrus-style value when it needs it. */
function quoteText(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[\w./:@+-]+$/.test(s) ? s : JSON.stringify(s);
}

/** formatEvent renders one event as a single line in the given format. */
export function formatEvent(format: 'text' | 'json', level: string, msg: string, time: string, fields: Record<string, unknown> = {}): string {
  if (format === 'json') return JSON.stringify({ level, msg, time, ...fields });
  const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${quoteText(v)}`).join('');
  return `time=${JSON.stringify(time)} level=${level} msg=${JSON.stringify(msg)}${extra}`;
}

/** createLogger returns a Logger for `opts`; nothing is loaded or opened until the first event. */
export function createLogger(opts: LogOptions = {}): Logger {
  const format = opts.format ?? 'text';
  const level = opts.level ?? 'warn';
  let logger: Winston.Logger | undefined;
  const load = (): Winston.Logger => {
    if (logger) return logger;
    // Loaded on demand (see the module comment); esbuild bundles it behind this call.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const winston = require('winston') as typeof Winston;
    const line = winston.format.printf((info) => {
      const { level: lv, message, timestamp: _t, ...rest } = info as Record<string, unknown> & { level: string; message: unknown };
      const fields = Object.fromEntries(Object.entries(rest).filter(([k]) => typeof k === 'string'));
      if (opts.component) fields.component = opts.component;
      return formatEvent(format, lv, String(message), new Date().toISOString(), fields);
    });
    const transports: Winston.transport[] = [];
    if (opts.file) transports.push(new winston.transports.File({ filename: opts.file, level }));
    else transports.push(new winston.transports.Stream({ stream: process.stderr, level }));
    if (opts.debugFile) transports.push(new winston.transports.File({ filename: opts.debugFile, level: 'debug' }));
    logger = winston.createLogger({ levels: LEVELS, level: 'debug', format: line, transports });
    return logger;
  };
  const threshold = opts.debugFile ? LEVELS.debug : LEVELS[level];
  const emit = (lv: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lv] > threshold) return;
    load().log(lv, msg, fields ?? {});
  };
  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    toFile: opts.file !== undefined,
    close: () => new Promise<void>((resolve) => {
      if (!logger) return resolve();
      logger.on('finish', () => setImmediate(resolve));
      logger.end();
    }),
  };
}

/** nullLogger discards everything (for tests and library callers without logging). */
export const nullLogger: Logger = {
  error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, toFile: false, close: () => Promise.resolve(),
};
