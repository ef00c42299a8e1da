/**
 * Failures in Anthropic's shape: `{ type: 'error', error: { type, message } }`, plus Freeway's
 * `metadata` (the field at fault, suggestions, the provider that failed) which Anthropic clients
 * ignore. The HTTP status is Freeway's own for every error, so logs, dashboards and retries read
 * the same whichever door a request used; only the body's `error.type` speaks Anthropic:
 *
 *   400 invalid_request_error   401 authentication_error   402 billing_error
 *   403 permission_error        404 not_found_error        413 request_too_large
 *   429 rate_limit_error        500, 502 api_error         503 overloaded_error (Anthropic's 529)
 *   504 timeout_error           other 4xx invalid_request_error, other 5xx api_error
 *
 * 503 stays 503 rather than Anthropic's 529: clients key their overload handling on the body's
 * `overloaded_error` and retry any 5xx either way.
 */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../../spec/errors.ts';
import { noteError } from '../../ops/request-facts.ts';

const TYPE_OF_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function anthropicErrorType(err: GatewayError): string {
  if (err.type === 'provider_overloaded') return 'overloaded_error';
  if (err.type === 'timeout' && err.status !== 499) return 'timeout_error';
  return TYPE_OF_STATUS[err.status] ?? (err.status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function anthropicErrorBody(err: GatewayError): {
  type: 'error';
  error: { type: string; message: string; metadata: Record<string, unknown> };
} {
  return {
    type: 'error',
    error: { type: anthropicErrorType(err), message: anthropicMessage(err), metadata: { error_type: err.type, ...err.metadata } },
  };
}

/** Anthropic's own words where clients act on them: a prompt too long is what Claude Code compacts on. */
function anthropicMessage(err: GatewayError): string {
  const { prompt_tokens: tokens, max_context_tokens: max } = err.metadata ?? {};
  if (err.type === 'context_length_exceeded' && typeof tokens === 'number' && typeof max === 'number') {
    return `prompt is too long: ${tokens} tokens > ${max} maximum`;
  }
  return err.message;
}

/** An in-stream failure: `event: error` with the same body. */
export function anthropicErrorFrame(err: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(err))}\n\n`;
}

/** Sends the error response; a response already under way is cut off instead (nothing else is safe). */
export function sendAnthropicError(res: ServerResponse, err: GatewayError, extraHeaders: Record<string, string> = {}): void {
  noteError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...err.headers, ...extraHeaders };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfter)));
  const text = JSON.stringify(anthropicErrorBody(err));
  // A client that hung up (499) gets nothing; there is nobody to read it.
  res.writeHead(err.status === 499 ? 400 : err.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
