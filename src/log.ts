/**
 * A minimal logger: one line per event on stderr, `info` by default, silent under FREEWAY_LOG=silent.
 * Callers pass facts, never secrets: keys and provider credentials are not logged anywhere.
 */
type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(level: string | undefined = process.env.FREEWAY_LOG): Logger {
  const min = ORDER[(level as Level) in ORDER ? (level as Level) : 'info'];
  const at = (l: Level) => (msg: string) => {
    if (ORDER[l] >= min) process.stderr.write(`${new Date().toISOString()} ${l.toUpperCase()} ${msg}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
