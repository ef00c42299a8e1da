/**
 * Sticky routing for prompt caching: a conversation keeps going to the endpoint that served it,
 * so the provider's prompt cache stays warm. The key names the conversation, scoped to the API
 * key and the model: the client's `session_id` when it sends one, else a hash of the start of
 * the conversation (first system message, first user message), which every later turn repeats.
 */
import { hash } from 'node:crypto';
import type { Endpoint } from '../../catalog/types.ts';
import type { ChatRequest, Message } from '../../spec/request.ts';

/** How much of each opening message identifies a conversation. */
const HEAD_BYTES = 2048;

function textOf(m: Message | undefined): string {
  if (!m) return '';
  const parts: string[] = [];
  for (const p of m.content) {
    if (p.type === 'text') parts.push(p.text);
    else if (p.type === 'image') parts.push(`[image:${p.url ?? p.data?.slice(0, 64) ?? ''}]`);
    else if (p.type === 'file') parts.push(`[file:${p.filename ?? p.url ?? p.data?.slice(0, 64) ?? ''}]`);
    else if (p.type === 'audio') parts.push(`[audio:${p.data.slice(0, 64)}]`);
  }
  return parts.join('\n');
}

/**
 * The sticky-routing key of a request (64 hex chars). `keyHash` identifies the API key (its
 * stored hash), `modelId` the requested model; `sessionId` is the body's `session_id`.
 */
export function stickyKeyOf(keyHash: string, modelId: string, req: Pick<ChatRequest, 'messages'>, sessionId?: string): string {
  // Each field length-prefixed (in bytes), so no two field lists hash the same input.
  const parts: Buffer[] = [];
  const field = (value: string | Buffer) => {
    const b = typeof value === 'string' ? Buffer.from(value) : value;
    parts.push(Buffer.from(`${b.length}:`), b);
  };
  field(keyHash);
  field(modelId);
  if (sessionId !== undefined && sessionId !== '') {
    field('session');
    field(sessionId);
  } else {
    field('conversation');
    field(Buffer.from(textOf(req.messages.find((m) => m.role === 'system'))).subarray(0, HEAD_BYTES));
    field(Buffer.from(textOf(req.messages.find((m) => m.role === 'user'))).subarray(0, HEAD_BYTES));
  }
  return hash('sha256', Buffer.concat(parts));
}

/** Whether staying on this endpoint pays: it prices cache reads below fresh prompt tokens. */
export function hasCacheDiscount(e: Pick<Endpoint, 'pricing'>): boolean {
  return e.pricing.cacheRead !== undefined && e.pricing.cacheRead < e.pricing.prompt;
}
