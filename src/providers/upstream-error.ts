/**
 * Turns an upstream's non-2xx answer into a GatewayError, whatever the provider's error dialect.
 * Read loosely: OpenAI `{error:{message,type,code}}`, Anthropic `{type:'error',error:{type,message}}`,
 * Gemini `{error:{code,message,status}}`, FastAPI `{detail}`, a bare string.
 */
import { GatewayError } from '../spec/errors.ts';
import type { ErrorType } from '../spec/errors.ts';

type Headers = Record<string, string | string[] | undefined>;

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

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Finds the human message and the provider's own error code in a parsed error body. */
export function extractUpstreamMessage(body: unknown): { message?: string; code?: string } {
  if (typeof body === 'string') return { message: str(body) };
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const e = b.error;
  if (typeof e === 'string') return { message: e, code: str(b.code) ?? str(b.type) };
  if (e && typeof e === 'object') {
    const eo = e as Record<string, unknown>;
    return {
      message: str(eo.message) ?? str(eo.msg),
      code: str(eo.code) ?? str(eo.type) ?? str(eo.status) ?? (typeof eo.code === 'number' ? String(eo.code) : undefined),
    };
  }
  if (Array.isArray(b.errors) && b.errors[0] && typeof b.errors[0] === 'object') {
    return { message: str((b.errors[0] as Record<string, unknown>).message) };
  }
  if (typeof b.detail === 'string') return { message: b.detail };
  if (Array.isArray(b.detail)) return { message: JSON.stringify(b.detail) };
  return { message: str(b.message), code: str(b.code) ?? str(b.type) };
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

/**
 * Google answers a bad or expired API key with HTTP 400 INVALID_ARGUMENT (ErrorInfo reason
 * API_KEY_INVALID / API_KEY_EXPIRED) instead of 401: recognised here so it maps like a 401.
 */
export function isGoogleKeyRejection(status: number, body: unknown): boolean {
  if (status !== 400 || !body || typeof body !== 'object') return false;
  const e = (body as { error?: unknown }).error;
  if (!e || typeof e !== 'object') return false;
  const { message, details } = e as { message?: unknown; details?: unknown };
  if (Array.isArray(details)) {
    for (const d of details) {
      const reason = (d as { reason?: unknown } | null)?.reason;
      if (reason === 'API_KEY_INVALID' || reason === 'API_KEY_EXPIRED') return true;
    }
  }
  return typeof message === 'string' && /^API key (not valid|expired)/i.test(message);
}

/** Seconds from a google.rpc.RetryInfo detail (`retryDelay: "27s"`), Google's stand-in for Retry-After. */
export function googleRetryDelaySeconds(body: unknown): number | undefined {
  const details = (body as { error?: { details?: unknown } } | null)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    const o = d as { '@type'?: unknown; retryDelay?: unknown } | null;
    if (typeof o?.['@type'] !== 'string' || !o['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const m = typeof o.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(o.retryDelay) : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

export function upstreamHttpError(providerName: string, status: number, headers: Headers, text: string): GatewayError {
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text itself as the raw body.
  }
  const { message, code } = extractUpstreamMessage(parsed);
  const keyRejected = isGoogleKeyRejection(status, parsed);
  const mapped = typeForStatus(keyRejected ? 401 : status);
  const what =
    status === 401 || status === 403 || keyRejected
      ? `rejected the API key Freeway is configured with (HTTP ${status})`
      : `returned HTTP ${status}`;
  const full = `${providerName} ${what}: ${message ?? (text.slice(0, 500) || 'no error message')}`;
  const retryAfter = retryAfterSeconds(headers) ?? googleRetryDelaySeconds(parsed);
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
      raw: typeof parsed === 'string' ? parsed.slice(0, 4000) : parsed,
    },
  });
}
