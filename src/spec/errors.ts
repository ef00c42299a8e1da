/**
 * The one error taxonomy. Every failure that leaves the server is a GatewayError rendered in the
 * OpenAI/OpenRouter envelope `{ error: { code, message, metadata } }` with HTTP status = code.
 */
export type ErrorType =
  | 'invalid_request'
  | 'authentication'
  | 'payment_required'
  | 'permission_denied'
  | 'not_found'
  | 'payload_too_large'
  | 'context_length_exceeded'
  | 'rate_limit_exceeded'
  | 'provider_unavailable'
  | 'provider_overloaded'
  | 'timeout'
  /** A dependency of Freeway itself (its database, Redis in fail-closed mode) is down: try again shortly. */
  | 'service_unavailable'
  | 'server';

/** The one table from error type to HTTP status. */
export const STATUS_OF: Record<ErrorType, number> = {
  invalid_request: 400,
  context_length_exceeded: 400,
  authentication: 401,
  payment_required: 402,
  permission_denied: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limit_exceeded: 429,
  server: 500,
  provider_unavailable: 502,
  provider_overloaded: 503,
  service_unavailable: 503,
  timeout: 504,
};

export interface GatewayErrorOptions {
  metadata?: Record<string, unknown>;
  /** Overrides the status implied by the type (e.g. an upstream 400 passed through). */
  status?: number;
  /** Whether trying again (or elsewhere) may succeed. */
  retryable?: boolean;
  /** Seconds, from the upstream's Retry-After. */
  retryAfter?: number;
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The retry rule: a failure may succeed if tried again or elsewhere when it is a rate limit or a
 * server-side failure (5xx); a request the client got wrong (4xx) fails the same way everywhere.
 * Errors that know better say so (`retryable`), e.g. an upstream 404: that provider lacks the model.
 */
export function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export class GatewayError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  readonly metadata: Record<string, unknown>;
  readonly retryable: boolean;
  retryAfter: number | undefined;
  readonly headers: Record<string, string>;

  constructor(type: ErrorType, message: string, options: GatewayErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.type = type;
    this.status = options.status ?? STATUS_OF[type];
    this.metadata = options.metadata ?? {};
    this.retryable = options.retryable ?? retryableStatus(this.status);
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
  }

  /** The OpenAI/OpenRouter error body. */
  toBody(): { error: { code: number; message: string; metadata: Record<string, unknown> } } {
    return {
      error: { code: this.status, message: this.message, metadata: { error_type: this.type, ...this.metadata } },
    };
  }
}

export const invalidRequest = (message: string, metadata?: Record<string, unknown>): GatewayError =>
  new GatewayError('invalid_request', message, { metadata });

/**
 * A prompt longer than any endpoint's context. The message is OpenRouter's; the token counts ride
 * in `metadata` (`prompt_tokens`, `max_context_tokens`) so the Anthropic door can say it as
 * Anthropic does, which is what Claude Code reads to compact the conversation and go on.
 */
export function contextTooLong(promptTokens: number, maxContext: number, metadata: Record<string, unknown> = {}): GatewayError {
  return new GatewayError(
    'context_length_exceeded',
    `This endpoint's maximum context length is ${maxContext} tokens. However, you requested about ${promptTokens} tokens. ` +
      'Please reduce the length of the messages (or compact the conversation) and try again.',
    { retryable: false, metadata: { ...metadata, prompt_tokens: promptTokens, max_context_tokens: maxContext } },
  );
}

/** Wraps anything thrown into a GatewayError without leaking internals (no stack, no secrets). */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('server', 'Internal server error', { cause: err, retryable: false });
}

/**
 * A dependency (the database, Redis) is away: an outage is logged once, where it is noticed, so
 * callers that log their own failures leave these out.
 */
export function isOutage(err: unknown): boolean {
  return err instanceof GatewayError && err.type === 'service_unavailable';
}
