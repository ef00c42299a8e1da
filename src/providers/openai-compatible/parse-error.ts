/**
 * Error bodies of OpenAI-compatible servers, read loosely: the servers behind this adapter speak
 * several dialects (OpenAI `{error:{message,type,code}}`, FastAPI `{detail}`, `{errors:[...]}`,
 * `{message}`, a bare string). An error may also come inside a 200 answer or a stream chunk.
 */
import { GatewayError } from '../../spec/errors.ts';
import { overflowCounts, nonEmpty as str } from '../upstream-error.ts';
import type { UpstreamErrorBody } from '../upstream-error.ts';

/** Finds the human message, the server's own error code, and a context overflow in a parsed error body. */
export function parseOpenAIError(status: number, body: unknown): UpstreamErrorBody {
  const read = readOpenAIError(status, body);
  const overflow = contextOverflow(read, body);
  return overflow ? { ...read, contextOverflow: overflow } : read;
}

/**
 * OpenAI's and vLLM's "This model's maximum context length is 128000 tokens. However, your messages
 * resulted in 130000 tokens", OpenRouter's "…you requested about 130000 tokens", llama.cpp's
 * `exceed_context_size_error` (with `n_prompt_tokens` and `n_ctx`), or just the code.
 */
function contextOverflow(read: UpstreamErrorBody, body: unknown): UpstreamErrorBody['contextOverflow'] {
  const fromText = read.message
    ? overflowCounts(
        /maximum context length is (\d+) tokens[\s\S]*?(?:resulted in|requested(?: about)?) (\d+) tokens/i.exec(read.message),
        2,
      )
    : undefined;
  if (fromText) return fromText;
  if (read.code !== 'context_length_exceeded' && read.code !== 'exceed_context_size_error') return undefined;
  const e = (body as { error?: Record<string, unknown> } | null)?.error;
  const n = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
  return { promptTokens: n(e?.n_prompt_tokens), maxContext: n(e?.n_ctx) };
}

function readOpenAIError(_status: number, body: unknown): UpstreamErrorBody {
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
