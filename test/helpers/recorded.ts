/**
 * Reading the recorded provider responses of test/fixtures/recorded/ and describing a response's
 * SHAPE, so an emulator's output (or a door's) can be compared with what the real API sent: the
 * SSE framing, the sequence of event kinds, the field names at each level. Values never count.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SseParser } from '../../src/providers/sse.ts';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'recorded');

/** A recorded file's text, exactly as stored (line ends included). */
export function recorded(provider: string, file: string): string {
  return readFileSync(join(ROOT, provider, file), 'utf8');
}

/** The provider's sidecar: where each recording came from, and what it says beside the body. */
export function sources(provider: string): {
  files: Record<string, { status?: number; headers?: Record<string, string> }>;
  /** Header names the provider's documentation lists, by when they are sent. */
  documentedHeaders?: Record<string, string[] | string>;
} {
  return JSON.parse(recorded(provider, 'sources.json'));
}

/** The header names a provider's documentation lists for `when` (`every response`, `rate limits`). */
export function documentedHeaders(provider: string, when: string): string[] {
  const names = sources(provider).documentedHeaders?.[when];
  return Array.isArray(names) ? names : [];
}

export interface Frame {
  event?: string;
  data: string;
  // any: a provider's JSON, compared by shape only.
  json: any;
}

/** The SSE events of a stream, through Freeway's own parser, their data parsed when it is JSON. */
export function framesOf(raw: string): Frame[] {
  const parser = new SseParser();
  return [...parser.push(raw), ...parser.end()].map((m) => {
    let json: unknown;
    try {
      json = JSON.parse(m.data);
    } catch {
      json = undefined;
    }
    return { event: m.event, data: m.data, json };
  });
}

/** How a stream is framed, as a reader of the bytes sees it. */
export interface Framing {
  lineEnd: 'crlf' | 'lf';
  /** Every event has an `event:` line before its data. */
  named: boolean;
  /** Every event is exactly one `data: ` line (with the space). */
  oneDataLine: boolean;
  /** The last event is `data: [DONE]`. */
  done: boolean;
  /** The body ends with a blank line. */
  endsWithBlankLine: boolean;
}

export function framingOf(raw: string): Framing {
  const lineEnd = raw.includes('\r\n') ? 'crlf' : 'lf';
  const blocks = raw.split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
  const lines = (b: string): string[] => b.split(/\r?\n/);
  return {
    lineEnd,
    named: blocks.every((b) => lines(b)[0].startsWith('event: ')),
    oneDataLine: blocks.every((b) => lines(b).filter((l) => l.startsWith('data: ')).length === 1),
    done: blocks.at(-1)?.trim() === 'data: [DONE]',
    endsWithBlankLine: /\r?\n\r?\n$/.test(raw),
  };
}

/** The kinds in order, a run of the same kind written once with `+` (`delta+`). */
export function pattern(kinds: string[]): string[] {
  const out: string[] = [];
  for (const k of kinds) {
    const last = out.at(-1);
    if (last === k || last === `${k}+`) out[out.length - 1] = `${k}+`;
    else out.push(k);
  }
  return out;
}

/** Every field path of a JSON value (`message.usage.input_tokens`, `choices[].delta`), values aside. */
export function keyPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) keyPaths(v, `${prefix}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = prefix === '' ? k : `${prefix}.${k}`;
      out.add(path);
      keyPaths(v, path, out);
    }
  }
  return out;
}

/** The field paths of each kind of event, over all the events given. */
export function fieldsByKind(items: Array<{ kind: string; json: unknown }>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const { kind, json } of items) {
    const set = out.get(kind) ?? new Set<string>();
    keyPaths(json, '', set);
    out.set(kind, set);
  }
  return out;
}

/**
 * How an emulated (or served) answer's fields differ from the recordings', kind by kind: `missing`
 * are fields a recording has for a kind that the emulated output also has, but not the field;
 * `extra` are fields the emulated output has that no recording of that kind has.
 */
export function fieldDiff(
  recordings: Array<Map<string, Set<string>>>,
  emulated: Map<string, Set<string>>,
  ignore: (kind: string, path: string) => boolean = () => false,
): { missing: string[]; extra: string[] } {
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [kind, fields] of emulated) {
    const seen = recordings.filter((r) => r.has(kind)).map((r) => r.get(kind) as Set<string>);
    if (seen.length === 0) continue;
    for (const rec of seen) for (const f of rec) if (!fields.has(f) && !ignore(kind, f)) missing.push(`${kind}: ${f}`);
    for (const f of fields) if (!seen.some((rec) => rec.has(f)) && !ignore(kind, f)) extra.push(`${kind}: ${f}`);
  }
  return { missing: [...new Set(missing)].sort(), extra: [...new Set(extra)].sort() };
}

/** A body as a network would hand it over: in small pieces, cut anywhere (inside a CRLF too). */
export async function* inPieces(raw: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(raw);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
