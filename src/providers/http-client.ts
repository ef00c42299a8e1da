/**
 * The one way Freeway talks HTTP to an upstream: undici over a keep-alive pool per origin, with
 * typed failures. Adapters never call fetch themselves.
 */
import { Agent, request, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../spec/errors.ts';
import { redactSecret } from './redact.ts';
import { upstreamHttpError } from './upstream-error.ts';

const agent = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  connections: 256,
  pipelining: 1,
  // Upstream-level timeouts are enforced by the caller's deadlines; these are backstops.
  headersTimeout: 0,
  bodyTimeout: 0,
});

export interface UpstreamTimeouts {
  /** Until the response headers arrive (for a stream: the first byte). */
  firstByteMs: number;
  /** Longest silence between two chunks of a streamed body. */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = { firstByteMs: 120_000, idleMs: 120_000 };

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface UpstreamCall {
  /** Display name of the provider, used in error messages. */
  providerName: string;
  method?: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  timeouts?: UpstreamTimeouts;
  /** The provider's credential, blanked out of any error this call produces. */
  secret?: string;
}

/**
 * Sends one request. Resolves with a 2xx response (body unread); throws a GatewayError for a
 * non-2xx status (body read and parsed loosely), a network failure or a timeout.
 */
export async function callUpstream(call: UpstreamCall): Promise<UpstreamResponse> {
  try {
    return await send(call);
  } catch (err) {
    throw redactSecret(err, call.secret);
  }
}

async function send(call: UpstreamCall): Promise<UpstreamResponse> {
  const timeouts = call.timeouts ?? DEFAULT_TIMEOUTS;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(call.url, {
      method: call.method ?? 'POST',
      headers: call.headers,
      body: call.body,
      signal: call.signal,
      dispatcher: agent,
      headersTimeout: timeouts.firstByteMs,
      bodyTimeout: timeouts.idleMs,
    });
  } catch (err) {
    throw networkError(call.providerName, err, call.signal);
  }
  if (res.statusCode >= 200 && res.statusCode < 300) {
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }
  let text = '';
  try {
    text = await res.body.text();
  } catch {
    // A body that dies while we read an error is still an error with the status we have.
  }
  throw upstreamHttpError(call.providerName, res.statusCode, res.headers, text);
}

/** Reads a whole 2xx JSON body; a body that is not JSON is a 502 naming the provider. */
export async function readJson(providerName: string, res: UpstreamResponse, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw networkError(providerName, err, signal);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('provider_unavailable', `${providerName} returned a response that is not JSON`, {
      metadata: { provider_name: providerName, raw: text.slice(0, 2000) },
    });
  }
}

export function networkError(providerName: string, err: unknown, signal?: AbortSignal): GatewayError {
  if (signal?.aborted) {
    return new GatewayError('timeout', `Request to ${providerName} was cancelled`, {
      status: 499,
      retryable: false,
      cause: err,
      metadata: { provider_name: providerName },
    });
  }
  if (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  ) {
    return new GatewayError('timeout', `${providerName} did not respond in time`, {
      cause: err,
      metadata: { provider_name: providerName },
    });
  }
  const code = (err as { code?: string } | null)?.code;
  return new GatewayError('provider_unavailable', `Could not reach ${providerName}${code ? ` (${code})` : ''}`, {
    cause: err,
    metadata: { provider_name: providerName },
  });
}
