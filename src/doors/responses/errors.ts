/**
 * The Responses door's error shape, read by two kinds of client: OpenRouter's SDK validates the body
 * against OpenRouter's envelope (`{ error: { code: <integer>, message, metadata? } }`; a string code
 * fails its schema and the caller gets "Response validation failed" instead of the error), while
 * OpenAI's SDK and the AI SDK read `message`, `type`, `param` and `code` loosely (`code` is any JSON
 * value to the first, a string or a number to the second). One body serves both: the integer code
 * (the HTTP status, as OpenRouter sends it), OpenAI's `type` and `param`, and OpenAI's own string
 * code in `metadata.code` beside OpenRouter's `metadata.error_type`. Every error this door answers
 * leaves through here.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorType, GatewayError } from '../../spec/errors.ts';
import { sendJson } from '../../http/respond.ts';
import { noteError } from '../../ops/request-facts.ts';

export interface ResponsesErrorBody {
  error: { code: number; message: string; type: string; param: string | null; metadata: Record<string, unknown> };
}

/** OpenAI's error `type` (and default `code`) for each of Freeway's error types. */
const OPENAI_TYPE: Record<ErrorType, { type: string; code: string | null }> = {
  invalid_request: { type: 'invalid_request_error', code: null },
  context_length_exceeded: { type: 'invalid_request_error', code: 'context_length_exceeded' },
  authentication: { type: 'authentication_error', code: 'invalid_api_key' },
  payment_required: { type: 'insufficient_quota', code: 'insufficient_quota' },
  permission_denied: { type: 'permission_error', code: null },
  not_found: { type: 'invalid_request_error', code: 'not_found' },
  payload_too_large: { type: 'invalid_request_error', code: 'request_too_large' },
  rate_limit_exceeded: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  provider_unavailable: { type: 'server_error', code: 'provider_unavailable' },
  provider_overloaded: { type: 'server_error', code: 'provider_overloaded' },
  timeout: { type: 'server_error', code: 'timeout' },
  service_unavailable: { type: 'server_error', code: 'service_unavailable' },
  server: { type: 'server_error', code: 'server_error' },
};

/** The error body for a GatewayError: `param` and OpenAI's code from its metadata when it names them. */
export function responsesErrorBody(err: GatewayError): ResponsesErrorBody {
  const mapped = OPENAI_TYPE[err.type];
  const param = typeof err.metadata.param === 'string' ? err.metadata.param : null;
  const unknownModel = err.type === 'not_found' && (param === 'model' || param?.startsWith('models[') === true);
  const code = typeof err.metadata.code === 'string' ? err.metadata.code : unknownModel ? 'model_not_found' : mapped.code;
  const envelope = err.toBody().error;
  return {
    error: {
      // A client that hung up (499) is answered 400 (sendResponsesError): the code says the status sent.
      code: err.status === 499 ? 400 : envelope.code,
      message: envelope.message,
      type: mapped.type,
      param,
      metadata: { ...envelope.metadata, ...(code !== null ? { code } : {}) },
    },
  };
}

/**
 * `response.error.code` takes OpenAI's list of codes (OpenRouter's SDK reads it as such; OpenRouter
 * maps onto it the same lossy way), but for the two OpenAI itself sends that clients act on: a
 * context overflow or an exhausted quota is not worth a retry. The exact type travels beside it as
 * `error_type`.
 */
const RESPONSE_ERROR_CODE: Partial<Record<ErrorType, string>> = {
  rate_limit_exceeded: 'rate_limit_exceeded',
  invalid_request: 'invalid_prompt',
  payload_too_large: 'invalid_prompt',
  context_length_exceeded: 'context_length_exceeded',
  payment_required: 'insufficient_quota',
};

/** `response.error` of a failed response: OpenAI's `{ code, message }`. */
export function responseError(err: GatewayError): { code: string; message: string } {
  return { code: RESPONSE_ERROR_CODE[err.type] ?? 'server_error', message: err.message };
}

/** OpenRouter's canonical `error_type` of a failed response (its vocabulary has no outage of Freeway's own). */
export function responseErrorType(err: GatewayError): string {
  return err.type === 'service_unavailable' ? 'server' : err.type;
}

/** Sends the error with Freeway's status and headers (Retry-After), in the Responses shape. */
export function sendResponsesError(res: ServerResponse, err: GatewayError): void {
  noteError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfter)));
  if (err.type === 'payload_too_large') headers.connection = 'close';
  sendJson(res, err.status === 499 ? 400 : err.status, responsesErrorBody(err), headers);
}
