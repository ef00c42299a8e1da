/**
 * `freeway compare "prompt" -m MODEL -m MODEL ... [--system TEXT] [--max-tokens N] [--temperature T]
 *  [--key KEY] [--base-url URL] [--config FILE] [--json]`
 *
 * Sends one prompt to up to six models at once through a running Freeway (streamed, as every client
 * would, spending the key's credit), then prints each answer and a table of time to first token,
 * total time, tokens and cost. The key is --key or FREEWAY_API_KEY; the gateway is --base-url, else
 * the port the configuration names on 127.0.0.1.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadSettings } from '../config/load.ts';
import { streamCompare } from './compare-stream.ts';
import type { CompareMessage, CompareParams, CompareResult } from './compare-stream.ts';

export const MAX_COMPARE_MODELS = 6;

const USAGE =
  'usage: freeway compare "PROMPT" -m MODEL [-m MODEL ...] [--system TEXT] [--max-tokens N] [--temperature T] ' +
  '[--key KEY] [--base-url URL] [--json]';

function table(rows: string[][]): string {
  const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  // Names left, numbers right.
  const line = (r: string[]) =>
    r
      .map((v, i) => (i === 0 || i === r.length - 1 ? v.padEnd(width[i]) : v.padStart(width[i])))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), line(width.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);
const n = (v: number | null) => (v === null ? '-' : String(v));

/** The cost in USD to the nano-dollar, the unit Freeway charges in (so it reads exactly as the ledger's amount). */
export const costText = (v: number | null) => (v === null ? '-' : `$${v.toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}`);

function numberOption(v: string | undefined, what: string, min: number, max: number, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
    throw new ConfigError(`${what} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${v}`);
  }
  return x;
}

/** The base URL of Freeway's API (`…/api/v1`), from --base-url (with or without the path) or the configured port. */
async function apiBase(baseUrl: string | undefined, config: string | undefined): Promise<string> {
  if (baseUrl === undefined) {
    const settings = await loadSettings({ configPath: config });
    return `http://127.0.0.1:${settings.port}/api/v1`;
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError(`--base-url must be a URL like http://127.0.0.1:8080, got ${baseUrl}`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path.endsWith('/v1') ? path : `${path}/api/v1`}`;
}

export async function compareCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string', short: 'm', multiple: true },
      system: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      key: { type: 'string' },
      'base-url': { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const prompt = positionals.join(' ').trim();
  if (prompt === '') throw new ConfigError(USAGE);
  const models = values.model ?? [];
  if (models.length === 0) throw new ConfigError(`name at least one model with -m\n${USAGE}`);
  if (models.length > MAX_COMPARE_MODELS) throw new ConfigError(`compare takes up to ${MAX_COMPARE_MODELS} models, got ${models.length}`);
  const key = values.key ?? process.env.FREEWAY_API_KEY;
  if (!key) throw new ConfigError('set FREEWAY_API_KEY or pass --key (an inference key)');
  const params: CompareParams = {};
  const maxTokens = numberOption(values['max-tokens'], '--max-tokens', 1, 1_000_000, true);
  const temperature = numberOption(values.temperature, '--temperature', 0, 2, false);
  if (maxTokens !== undefined) params.max_tokens = maxTokens;
  if (temperature !== undefined) params.temperature = temperature;
  const messages: CompareMessage[] = [];
  if (values.system) messages.push({ role: 'system', content: values.system });
  messages.push({ role: 'user', content: prompt });

  const base = await apiBase(values['base-url'], values.config);
  const post = (body: string, signal?: AbortSignal) =>
    fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-title': 'freeway compare' },
      body,
      signal,
    });
  const results = await Promise.all(models.map((m) => streamCompare(post, m, messages, params)));

  if (values.json) out(JSON.stringify(results, null, 2));
  else out(report(results));
  if (results.some((r) => r.error !== null)) process.exitCode = 1;
}

/** Each answer under its model's name, then the table. */
export function report(results: CompareResult[]): string {
  const parts: string[] = [];
  for (const r of results) {
    parts.push(`== ${r.model}${r.provider ? ` (${r.provider})` : ''}`);
    if (r.text) parts.push(r.text.trimEnd());
    if (r.error) parts.push(`[error] ${r.error}`);
    parts.push('');
  }
  const rows = [['model', 'ttft', 'total', 'prompt', 'completion', 'cost', 'generation']];
  for (const r of results) {
    rows.push([r.model, ms(r.ttftMs), ms(r.totalMs), n(r.promptTokens), n(r.completionTokens), costText(r.cost), r.generationId ?? '-']);
  }
  parts.push(table(rows));
  return parts.join('\n');
}
