/**
 * One model's turn in a comparison: a streamed chat completion read chunk by chunk, timed (time to
 * first token, total) and priced by the final chunk's usage. Shared by `freeway compare` and the
 * dashboard's Compare page, so both measure the same way: it uses only fetch's Response, the one
 * SSE parser and performance.now(), all of which exist in Node and in browsers.
 */
import { SseParser, tryParseJson } from '../providers/sse.ts';

export interface CompareMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Sampling parameters a comparison may set; anything absent is left to the model's default. */
export interface CompareParams {
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
}

export interface CompareResult {
  model: string;
  text: string;
  reasoning: string;
  /** Milliseconds from sending the request to the first content (text or reasoning); null if none came. */
  ttftMs: number | null;
  totalMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  reasoningTokens: number | null;
  /** What the request was charged, in USD, exactly as the final chunk's `usage.cost` said it. */
  cost: number | null;
  generationId: string | null;
  provider: string | null;
  finishReason: string | null;
  error: string | null;
}

/** Sends the request body (JSON text); the caller adds the URL, auth and headers. */
export type PostChat = (body: string, signal?: AbortSignal) => Promise<Response>;

export interface StreamOptions {
  signal?: AbortSignal;
  /** Called as text arrives, with the result so far. */
  onProgress?: (r: CompareResult) => void;
}

export function chatBody(model: string, messages: CompareMessage[], params: CompareParams = {}): string {
  return JSON.stringify({ model, messages, ...params, stream: true, stream_options: { include_usage: true }, usage: { include: true } });
}

interface ChunkShape {
  id?: unknown;
  provider?: unknown;
  error?: { message?: unknown } | null;
  choices?: Array<{ delta?: { content?: unknown; reasoning?: unknown }; finish_reason?: unknown }>;
  usage?: {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    cost?: unknown;
    completion_tokens_details?: { reasoning_tokens?: unknown } | null;
  } | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The error message of a non-2xx answer in OpenAI's or OpenRouter's envelope, or its status. */
async function errorOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  const parsed = tryParseJson(text);
  const body = parsed.ok ? (parsed.value as { error?: { message?: unknown } } | null) : null;
  const message = str(body?.error?.message);
  return `${res.status}: ${message ?? (text.slice(0, 200) || res.statusText)}`;
}

function apply(r: CompareResult, chunk: ChunkShape, started: number): boolean {
  let content = false;
  r.generationId ??= str(chunk.id);
  r.provider ??= str(chunk.provider);
  if (chunk.error) r.error = str(chunk.error.message) ?? 'the stream ended with an error';
  for (const c of chunk.choices ?? []) {
    const text = str(c.delta?.content);
    const reasoning = str(c.delta?.reasoning);
    if (text) r.text += text;
    if (reasoning) r.reasoning += reasoning;
    if (text || reasoning) content = true;
    r.finishReason = str(c.finish_reason) ?? r.finishReason;
  }
  if (content && r.ttftMs === null) r.ttftMs = performance.now() - started;
  const u = chunk.usage;
  if (u) {
    r.promptTokens = num(u.prompt_tokens) ?? r.promptTokens;
    r.completionTokens = num(u.completion_tokens) ?? r.completionTokens;
    r.reasoningTokens = num(u.completion_tokens_details?.reasoning_tokens) ?? r.reasoningTokens;
    r.cost = num(u.cost) ?? r.cost;
  }
  return content;
}

/** Streams one model's answer to the end; never throws (a failure is the result's `error`). */
/** A model's result before anything has come back. */
export function pendingResult(model: string): CompareResult {
  return {
    model,
    text: '',
    reasoning: '',
    ttftMs: null,
    totalMs: 0,
    promptTokens: null,
    completionTokens: null,
    reasoningTokens: null,
    cost: null,
    generationId: null,
    provider: null,
    finishReason: null,
    error: null,
  };
}

export async function streamCompare(
  post: PostChat,
  model: string,
  messages: CompareMessage[],
  params: CompareParams = {},
  opts: StreamOptions = {},
): Promise<CompareResult> {
  const r = pendingResult(model);
  const started = performance.now();
  try {
    const res = await post(chatBody(model, messages, params), opts.signal);
    r.generationId = res.headers.get('x-generation-id');
    if (!res.ok || !res.body) {
      r.error = await errorOf(res);
      return r;
    }
    const parser = new SseParser();
    const reader = res.body.getReader();
    const take = (msgs: { data: string }[]) => {
      let changed = false;
      for (const m of msgs) {
        if (m.data === '[DONE]') continue;
        const parsed = tryParseJson(m.data);
        if (parsed.ok && parsed.value && typeof parsed.value === 'object')
          changed = apply(r, parsed.value as ChunkShape, started) || changed;
      }
      if (changed) opts.onProgress?.(r);
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      take(parser.push(value));
    }
    take(parser.end());
  } catch (err) {
    r.error = (err as Error)?.name === 'AbortError' ? 'cancelled' : `request failed: ${(err as Error)?.message ?? String(err)}`;
  } finally {
    r.totalMs = performance.now() - started;
  }
  if (r.error === null && r.cost === null) r.error = 'the stream ended without usage';
  return r;
}
