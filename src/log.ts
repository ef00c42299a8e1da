/**
 * The logger: pino underneath, JSON lines in production and readable lines on a terminal.
 *
 * - Level from FREEWAY_LOG (`debug`, `info` by default, `warn`, `error`, `silent`).
 * - Format from FREEWAY_LOG_FORMAT (`json` or `pretty`); unset, `pretty` when stderr is a terminal.
 * - JSON goes to stderr through a batching writer (log-writer.ts): a line is queued in memory and
 *   written in batches, so a request never waits for the disk or the pipe. `flush()` writes what
 *   is left (shutdown); what is still queued when the process exits is written synchronously.
 *
 * Callers pass facts, never secrets: keys and provider credentials are not logged anywhere (key
 * hashes are cut to a prefix, upstream messages are redacted where they are logged).
 */
import { pino } from 'pino';
import type { DestinationStream, Logger as Pino } from 'pino';
import { prettyLine } from './log-pretty.ts';
import { BatchWriter } from './log-writer.ts';

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
  } else if (lvl === 'silent') {
    dest = { write: () => {} };
  } else if (format === 'pretty') {
    const color = process.stderr.isTTY === true;
    dest = { write: (line: string) => void process.stderr.write(prettyLine(line, color)) };
  } else {
    // Lines are gathered and written in batches of 64 KiB (one syscall for ~100 access lines), at
    // least every WRITE_EVERY_MS when traffic is low; see log-writer.ts for why not pino's destination.
    const writer = new BatchWriter(2, { batchBytes: 64 * 1024, everyMs: WRITE_EVERY_MS, maxPendingBytes: 16 * 1024 * 1024 });
    dest = writer as unknown as DestinationStream;
    flush = () => writer.flush();
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
  const pid = `,"pid":${process.pid}`;
  return {
    debug: (msg) => p.debug(msg),
    info: (msg) => p.info(msg),
    warn: (msg) => p.warn(msg),
    error: (msg) => p.error(msg),
    // The same line pino writes (level, time, pid, the fields, msg), built with one JSON.stringify
    // of the fields instead of pino's key-by-key serialisation (the access line is one per request).
    // Fields are plain facts (strings, numbers, booleans), which is all that calls pass; an Error
    // would be `{}` here.
    event: (level, fields, msg) => {
      if (!p.isLevelEnabled(level)) return;
      const body = JSON.stringify(fields);
      const rest = body.length > 2 ? `,${body.slice(1, -1)}` : '';
      dest.write(`{"level":"${level}","time":"${new Date().toISOString()}"${pid}${rest},"msg":${JSON.stringify(msg)}}\n`);
    },
    enabled: (level) => p.isLevelEnabled(level),
    flush,
  };
}
