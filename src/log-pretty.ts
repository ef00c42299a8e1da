/**
 * Readable log lines for a terminal: `12:04:05.123 INFO  message key=value ...`, from the JSON
 * line pino wrote. A few lines of our own instead of pino-pretty (and its dozen dependencies):
 * a terminal needs nothing more, and production writes JSON, which never passes here.
 */
const COLORS: Record<string, string> = { trace: '90', debug: '90', info: '32', warn: '33', error: '31', fatal: '35' };
const SKIP = new Set(['level', 'time', 'pid', 'msg']);

function show(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

export function prettyLine(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = String(o.level ?? 'info');
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const tag = level.toUpperCase().padEnd(5);
  let out = `${time} ${color ? `\x1b[${COLORS[level] ?? '0'}m${tag}\x1b[0m` : tag} ${String(o.msg ?? '')}`;
  for (const [k, v] of Object.entries(o)) if (!SKIP.has(k) && v !== undefined && v !== null) out += ` ${k}=${show(v)}`;
  return out + '\n';
}
