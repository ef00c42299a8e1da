/**
 * Anthropic's errors: the body of a non-2xx answer, `{type:'error', error:{type, message}}`, and
 * the same object in a stream's `event: error`, whose error type names what went wrong.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { ErrorType } from '../../spec/errors.ts';
import { nonEmpty, overflowCounts } from '../upstream-error.ts';
import type { UpstreamErrorBody } from '../upstream-error.ts';
import type { WireStreamEvent } from './wire-types.ts';

export function parseAnthropicError(_status: number, body: unknown): UpstreamErrorBody {
  if (typeof body === 'string') return { message: nonEmpty(body) };
  const e = (body as { error?: unknown } | null)?.error;
  if (!e || typeof e !== 'object') return {};
  const eo = e as Record<string, unknown>;
  const message = nonEmpty(eo.message);
  // "prompt is too long: 212345 tokens > 200000 maximum"
  const overflow = message ? overflowCounts(/prompt is too long:\s*(\d+)\s*tokens?\s*>\s*(\d+)/i.exec(message), 1) : undefined;
  return { message, code: nonEmpty(eo.type), ...(overflow ? { contextOverflow: overflow } : {}) };
}

const ERROR_TYPES: Record<string, ErrorType> = {
  overloaded_error: 'provider_overloaded',
  rate_limit_error: 'rate_limit_exceeded',
  api_error: 'provider_unavailable',
  timeout_error: 'timeout',
  invalid_request_error: 'invalid_request',
  request_too_large: 'payload_too_large',
};

/** An `event: error` of the stream (its status is the taxonomy's for the error type). */
export function streamError(providerName: string, error: WireStreamEvent['error']): GatewayError {
  const code = typeof error?.type === 'string' ? error.type : undefined;
  const type = (code && ERROR_TYPES[code]) || 'provider_unavailable';
  const message = typeof error?.message === 'string' && error.message ? error.message : (code ?? 'unknown error');
  return new GatewayError(type, `${providerName} stream error: ${message}`, {
    metadata: { provider_name: providerName, ...(code ? { provider_code: code } : {}), raw: error },
  });
}
