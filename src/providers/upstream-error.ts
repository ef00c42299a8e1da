/**
 * Turns an upstream's non-2xx answer into a GatewayError: the common taxonomy (which status means
 * what), the Retry-After headers and the message every error carries. What the body says is each
 * protocol's own: its adapter reads it (the `parse-error.ts` of each provider folder).
 */
import { GatewayError } from '../spec/errors.ts';
import type { ErrorType } from '../spec/errors.ts';

type Headers = Record<string, string | string[] | undefined>;

/** The upstream's words kept in the message; the rest is cut. */
const MAX_MESSAGE_CHARS = 2000;
/** An error body past this is kept as the start of its text, not the whole parsed object. */
const MAX_RAW_CHARS = 8_000;

/** What an adapter reads from its protocol's error body. */
export interface UpstreamErrorBody {
  /** The upstream's own words. */
  message?: string;
  /** The provider's own error code. */
  code?: string;
  /** The provider refused Freeway's credentials, whatever status it said it with. */
  keyRejected?: boolean;
  /** Seconds to wait, when the body says (the headers, read here, win). */
  retryAfter?: number;
  /**
   * The prompt did not fit the model's context, with the counts when the upstream gave them: every
   * door then says so in its own words (the Anthropic door as Anthropic does, which clients such as
   * Claude Code read to compact and go on).
   */
  contextOverflow?: { promptTokens?: number; maxContext?: number };
}

/** `{promptTokens, maxContext}` from a message's two numbers, in the order a pattern captures them. */
export function overflowCounts(m: RegExpExecArray | null, promptAt: 1 | 2): UpstreamErrorBody['contextOverflow'] {
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return promptAt === 1 ? { promptTokens: a, maxContext: b } : { promptTokens: b, maxContext: a };
}

/** A protocol's error-body reader: `body` is the parsed JSON, or the text when it is not JSON. */
export type ErrorBodyParser = (status: number, body: unknown) => UpstreamErrorBody;

/** A non-empty string, or undefined: error bodies are read loosely. */
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Seconds to wait, from `retry-after-ms`, `retry-after` (seconds or HTTP date). */
export function retryAfterSeconds(headers: Headers): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms) / 1000);
  const ra = header(headers, 'retry-after');
  if (!ra) return undefined;
  if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra));
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** The taxonomy of an upstream status; whether it is retryable follows from the mapped status (retryableStatus). */
function typeForStatus(status: number): { type: ErrorType; status: number; retryable?: boolean } {
  if (status === 400 || status === 422) return { type: 'invalid_request', status: 400 };
  // This provider lacks the model (or the route): another endpoint may have it.
  if (status === 404) return { type: 'not_found', status: 404, retryable: true };
  if (status === 413) return { type: 'payload_too_large', status: 413 };
  // The provider refused Freeway's own credentials: the client's key is fine, the gateway is not.
  if (status === 401 || status === 403) return { type: 'provider_unavailable', status: 502 };
  if (status === 402) return { type: 'provider_unavailable', status: 502 };
  if (status === 408 || status === 504 || status === 524) return { type: 'timeout', status: 504 };
  if (status === 429) return { type: 'rate_limit_exceeded', status: 429 };
  if (status === 503 || status === 529) return { type: 'provider_overloaded', status: 503 };
  return { type: 'provider_unavailable', status: 502 };
}

export function upstreamHttpError(
  providerName: string,
  status: number,
  headers: Headers,
  text: string,
  parse: ErrorBodyParser,
): GatewayError {
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text itself as the raw body.
  }
  const { message, code, keyRejected, retryAfter: bodyRetryAfter, contextOverflow } = parse(status, parsed);
  const overflow = contextOverflow && (status === 400 || status === 413) ? contextOverflow : undefined;
  const mapped: { type: ErrorType; status: number; retryable?: boolean } = overflow
    ? { type: 'context_length_exceeded', status: 400 }
    : typeForStatus(keyRejected ? 401 : status);
  const what =
    status === 401 || status === 403 || keyRejected
      ? `rejected the API key Freeway is configured with (HTTP ${status})`
      : `returned HTTP ${status}`;
  const words = message ?? (text.slice(0, 500) || 'no error message');
  // Upstreams quote the request back (an OpenAI 400 lists the tool call ids): a megabyte id sent is
  // not sent back twice over, in the message and in the raw body.
  const full = `${providerName} ${what}: ${words.length > MAX_MESSAGE_CHARS ? `${words.slice(0, MAX_MESSAGE_CHARS)}... (cut)` : words}`;
  const retryAfter = retryAfterSeconds(headers) ?? bodyRetryAfter;
  const forwarded: Record<string, string> = {};
  if (retryAfter !== undefined) forwarded['retry-after'] = String(Math.ceil(retryAfter));
  return new GatewayError(mapped.type, full, {
    status: mapped.status,
    retryable: mapped.retryable,
    retryAfter,
    headers: forwarded,
    metadata: {
      provider_name: providerName,
      provider_status: status,
      ...(code ? { provider_code: code } : {}),
      ...(overflow?.promptTokens !== undefined ? { prompt_tokens: overflow.promptTokens } : {}),
      ...(overflow?.maxContext !== undefined ? { max_context_tokens: overflow.maxContext } : {}),
      raw: typeof parsed === 'string' || text.length > MAX_RAW_CHARS ? text.slice(0, 4000) : parsed,
    },
  });
}
