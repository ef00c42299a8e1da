/**
 * The internal response model: what an adapter returns (whole, or as a stream of events), before a
 * door renders it in its client's format.
 */
import type { ReasoningDetail } from './reasoning.ts';
import type { ToolCall } from './request.ts';

export type UnifiedFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

export interface FinishReason {
  unified: UnifiedFinishReason;
  /** The provider's own word (`end_turn`, `MAX_TOKENS`, `stop`, ...). */
  raw: string | null;
}

/**
 * Token usage. `inputTokens` counts every prompt token, including cache reads and writes (OpenAI's
 * convention), so uncached input = inputTokens - cacheReadTokens - cacheWriteTokens.
 * `outputTokens` includes reasoning tokens.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Web searches the upstream ran itself (Anthropic's server tool), billed per search. */
  webSearchRequests?: number;
  /**
   * The processing tier the upstream says served (and bills) these tokens, in OpenAI's words
   * (`default`, `flex`, `priority`); absent when it did not say. Prices differ by tier.
   */
  serviceTier?: string;
  /** The provider's usage object as it arrived, for the generation record. */
  raw?: unknown;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}

/**
 * A source the answer cites (a web search result), over a span of `text` counted in UTF-16 code
 * units, as JavaScript strings and OpenAI's `url_citation` annotations count.
 */
export interface UrlCitation {
  url: string;
  title?: string;
  /** The cited passage, when the upstream gave it. */
  content?: string;
  startIndex: number;
  endIndex: number;
}

export interface ChatResult {
  /** The upstream's own response id, when it gave one. */
  upstreamId?: string;
  text: string;
  reasoning: ReasoningDetail[];
  toolCalls: ToolCall[];
  finish: FinishReason;
  usage: Usage;
  refusal?: string | null;
  /** The web sources the answer cites (Anthropic's citations, Gemini's grounding), in order. */
  citations?: UrlCitation[];
  /** Parameters the adapter dropped or rewrote, said out loud. */
  warnings?: string[];
  /** The processing tier the upstream says it used, in OpenAI's words (`default`, `priority`, `flex`...). */
  serviceTier?: string;
  /**
   * The upstream's own `chat.completion` body, when it is already in OpenRouter's shape (an
   * OpenAI-compatible upstream whose answer needed no normalising): a chat-completions door sends
   * it on with Freeway's id, model, provider, finish reason and usage put on it, keeping the
   * fields Freeway does not model.
   */
  openAIBody?: Record<string, unknown>;
}

/**
 * Stream events. Adapters yield them in order; doors render them. Rules:
 * - `tool-call-start` precedes any `tool-call-delta` of the same `index`; indexes count from 0 in
 *   the order calls start.
 * - `reasoning` events with the same `index` belong to one detail; `text`, `signature` and `data`
 *   arrive as deltas to concatenate (`signature`/`data` usually in one piece).
 * - `warnings`, when the adapter has some, comes first (once).
 * - `finish` and `usage` come once each, at the end, in either order.
 * - A failure after the first event is an `error` event, never a thrown exception.
 */
export type StreamEvent =
  | { type: 'start'; upstreamId?: string; serviceTier?: string }
  /** What the adapter dropped or rewrote in the request: first, before any content. */
  | { type: 'warnings'; warnings: string[] }
  | { type: 'text'; text: string }
  | {
      type: 'reasoning';
      index: number;
      kind: ReasoningDetail['type'];
      text?: string;
      signature?: string;
      data?: string;
      id?: string;
      format?: string;
    }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; argumentsDelta: string }
  | { type: 'finish'; finish: FinishReason }
  | { type: 'usage'; usage: Usage }
  | { type: 'error'; error: import('./errors.ts').GatewayError };

export interface EmbeddingResult {
  data: Array<number[] | string>;
  usage: Usage;
  upstreamModel?: string;
}

/** A stream of events with the adapter's warnings first (StreamEvent's rule), when it has some. */
export async function* withWarnings(warnings: readonly string[], events: AsyncIterable<StreamEvent>): AsyncGenerator<StreamEvent> {
  if (warnings.length > 0) yield { type: 'warnings', warnings: [...warnings] };
  yield* events;
}
