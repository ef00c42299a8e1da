/**
 * The logger: pino underneath, JSON lines in production and readable lines on a terminal.
 *
 * - Level from FREEWAY_LOG (`debug`, `info` by default, `warn`, `error`, `silent`).
 * - Format from FREEWAY_LOG_FORMAT (`json` or `pretty`); unset, `pretty` when stderr is a terminal.
 * - JSON goes to stderr through pino's asynchronous destination: a line is copied into a buffer
 *   and written in batches, so a request never waits for the disk or the pipe. `flush()` writes
 *   what is left (shutdown); pino also writes it synchronously when the process exits.
 *
 * Callers pass facts, never secrets: keys and provider credentials are not logged anywhere (key
 * hashes are cut to a prefix, upstream messages are redacted where they are logged).
 */
import { pino } from 'pino';
import type { DestinationStream, Logger as Pino } from 'pino';
import { prettyLine } from './log-pretty.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** A line with fields beside its message (JSON keys); loggers that keep only text may omit it. */
  event?(level: LogLevel, fields: Record<string, unknown>, msg: string): void;
  /** Whether `level` is written at all (a caller skips building fields that nobody reads). */
  enabled?(level: LogLevel): boolean;
  /** Writes what is buffered. */
  flush?(): Promise<void>;
}

/** The longest a JSON line waits in the buffer. */
const WRITE_EVERY_MS = 250;

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export interface LoggerOptions {
  /** Where lines go (tests pass their own); default stderr, asynchronously. */
  destination?: { write(line: string): unknown };
  format?: 'json' | 'pretty';
}

export function createLogger(level: string | undefined = process.env.FREEWAY_LOG, opts: LoggerOptions = {}): Logger {
  const lvl = level && LEVELS.has(level) ? level : 'info';
  const envFormat = process.env.FREEWAY_LOG_FORMAT;
  const format = opts.format ?? (envFormat === 'json' || envFormat === 'pretty' ? envFormat : process.stderr.isTTY ? 'pretty' : 'json');
  let dest: DestinationStream;
  let flush: () => Promise<void> = async () => {};
  if (opts.destination) {
    const target = opts.destination;
    dest = format === 'pretty' ? { write: (line: string) => void target.write(prettyLine(line, false)) } : (target as DestinationStream);
  } else if (format === 'pretty') {
    const color = process.stderr.isTTY === true;
    dest = { write: (line: string) => void process.stderr.write(prettyLine(line, color)) };
  } else {
    // Lines are gathered up to 4 KiB per write (one syscall for ~10 access lines instead of one each,
    // measured: a third of logging's CPU) and written at least every WRITE_EVERY_MS when traffic is low.
    const boom = pino.destination({ dest: 2, sync: false, minLength: 4096 });
    dest = boom;
    const timer = setInterval(() => {
      try {
        boom.flush();
      } catch {
        // Closed (the process is exiting): pino wrote the rest synchronously.
        clearInterval(timer);
      }
    }, WRITE_EVERY_MS);
    timer.unref();
    flush = () => new Promise<void>((resolve) => boom.flush(() => resolve()));
  }
  const p: Pino = pino(
    {
      level: lvl,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return {
    debug: (msg) => p.debug(msg),
    info: (msg) => p.info(msg),
    warn: (msg) => p.warn(msg),
    error: (msg) => p.error(msg),
    event: (level, fields, msg) => p[level](fields, msg),
    enabled: (level) => p.isLevelEnabled(level),
    flush,
  };
}
