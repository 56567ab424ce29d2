import 'server-only';
import pino, { type Logger as PinoLogger } from 'pino';

/**
 * Structured logs with pino: one JSON line per event in production (for log
 * shippers), a short readable line in development (pino-pretty, a development
 * dependency). Herald's call sites read `log.info(message, fields)`; this
 * module hands them to pino as `(fields, message)`.
 *
 * What must never reach a log is redacted wherever it appears as a field:
 * credentials (authorization headers, tokens, signatures, secrets) and
 * notification content (`data`), which belongs to the backend's users.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /** Writes out what is buffered (before the process exits). */
  flush(): void;
}

const SECRET_KEYS = ['authorization', 'cookie', 'token', 'signature', 'secret', 'password', 'data'];
/** The keys above at the top of a line's fields and one level down (`headers.authorization`, `req.token`…). */
export const REDACTED_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)];

export interface LogOptions {
  level: LogLevel | 'silent';
  format: 'json' | 'pretty';
}

/**
 * The process's logger. `destination` is where JSON lines go (stdout, written
 * asynchronously: a push must not wait on a write to a pipe); tests pass their own.
 */
export function createLogger(opts: LogOptions, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  const stream =
    destination ??
    (opts.format === 'pretty' && prettyAvailable()
      ? pino.transport({ target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'time', singleLine: true } })
      : pino.destination({ dest: 1, sync: false }));
  return wrap(pino(options, stream));
}

/** pino-pretty is a development dependency: a production install without it logs JSON. */
function prettyAvailable(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => wrap(p.child(fields)),
    flush: () => p.flush(),
  };
}
