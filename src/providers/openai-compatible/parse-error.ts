/**
 * Error bodies of OpenAI-compatible servers, read loosely: the servers behind this adapter speak
 * several dialects (OpenAI `{error:{message,type,code}}`, FastAPI `{detail}`, `{errors:[...]}`,
 * `{message}`, a bare string). An error may also come inside a 200 answer or a stream chunk.
 */
import { GatewayError } from '../../spec/errors.ts';
import { nonEmpty as str } from '../upstream-error.ts';
import type { UpstreamErrorBody } from '../upstream-error.ts';

/** Finds the human message and the server's own error code in a parsed error body. */
export function parseOpenAIError(_status: number, body: unknown): UpstreamErrorBody {
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

/** The `error` object of an answer or a stream chunk that came with a 2xx status. */
export function bodyError(providerName: string, error: unknown, fallback: string): GatewayError {
  const e = error && typeof error === 'object' ? (error as Record<string, unknown>) : {};
  return new GatewayError('provider_unavailable', `${providerName}: ${str(e.message) ?? fallback}`, {
    metadata: { provider_name: providerName, raw: error },
  });
}
