/**
 * Gemini's error body, `{error:{code,message,status,details}}` (a stream chunk may carry the same
 * object): the message, the status name as the code, a rejected API key (Google says it with a
 * 400, not a 401) and the RetryInfo delay (Google's stand-in for Retry-After).
 */
import { nonEmpty, overflowCounts } from '../upstream-error.ts';
import type { UpstreamErrorBody } from '../upstream-error.ts';

export function parseGeminiError(status: number, body: unknown): UpstreamErrorBody {
  if (typeof body === 'string') return { message: nonEmpty(body) };
  const e = (body as { error?: unknown } | null)?.error;
  if (!e || typeof e !== 'object') return {};
  const eo = e as Record<string, unknown>;
  const retryAfter = googleRetryDelaySeconds(body);
  const message = nonEmpty(eo.message);
  // "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
  const overflow = message
    ? overflowCounts(/input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)/i.exec(message), 1)
    : undefined;
  return {
    message,
    ...(overflow ? { contextOverflow: overflow } : {}),
    code: nonEmpty(eo.status) ?? (typeof eo.code === 'number' ? String(eo.code) : nonEmpty(eo.code)),
    ...(isGoogleKeyRejection(status, body) ? { keyRejected: true } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  };
}

/**
 * Google answers a bad or expired API key with HTTP 400 INVALID_ARGUMENT (ErrorInfo reason
 * API_KEY_INVALID / API_KEY_EXPIRED) instead of 401: recognised here so it maps like a 401.
 */
function isGoogleKeyRejection(status: number, body: unknown): boolean {
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
function googleRetryDelaySeconds(body: unknown): number | undefined {
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
