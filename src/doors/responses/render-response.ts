/**
 * Internal ChatResult → OpenAI's `response` object, and the output items both the whole and the
 * streamed response are made of. Reasoning becomes one `reasoning` item whose `encrypted_content`
 * carries every detail losslessly (see reasoning-codec.ts); usage adds OpenRouter's cost fields.
 */
import { randomBytes } from 'node:crypto';
import type { Charge } from '../../accounting/charge.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import { reasoningText } from '../../spec/reasoning.ts';
import type { ToolCall } from '../../spec/request.ts';
import type { ChatResult, FinishReason, UrlCitation, Usage } from '../../spec/response.ts';
import { renderUsage as renderChatUsage } from '../openai/render-usage.ts';
import type { Obj } from '../../spec/validate.ts';
import type { ResponseEcho } from './parse-request.ts';
import { clientToolName } from './parse-tools.ts';
import type { ToolNames } from './parse-tools.ts';
import { encodeReasoning } from './reasoning-codec.ts';

/** `resp_` + 48 hex characters, OpenAI's id shape. */
export function newId(prefix: 'resp'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

const RESPONSE_HEX = 48;

/**
 * An output item's id, `msg_`/`fc_`/`rs_` + hex like OpenAI's, that starts with its response's
 * hex: an `item_reference` finds its response without an index of items.
 */
export function newItemId(prefix: 'msg' | 'fc' | 'rs', responseId: string): string {
  return `${prefix}_${responseId.slice('resp_'.length)}${randomBytes(4).toString('hex')}`;
}

/** The id of the response an output item id came from, if it is one of Freeway's. */
export function responseIdOfItem(itemId: string): string | undefined {
  const m = /^(?:msg|fc|rs)_([0-9a-f]+)$/.exec(itemId);
  return m && m[1].length > RESPONSE_HEX ? `resp_${m[1].slice(0, RESPONSE_HEX)}` : undefined;
}

export interface ResponseMeta {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  model: string;
  providerName: string;
  echo: ResponseEcho;
  /** `reasoning.exclude`: no summary text (the encrypted content still travels, for the next turn). */
  excludeReasoning: boolean;
  /** Flattened tool names → the namespaced names the client declared. */
  toolNames: ToolNames;
  /** What the door dropped from the request, shown with the upstream's warnings. */
  warnings: readonly string[];
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';
type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** A finish reason → the response's status and why it is incomplete. */
export function statusOf(finish: FinishReason): { status: ResponseStatus; incomplete: { reason: string } | null } {
  if (finish.unified === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (finish.unified === 'content_filter') return { status: 'incomplete', incomplete: { reason: 'content_filter' } };
  if (finish.unified === 'error') return { status: 'failed', incomplete: null };
  return { status: 'completed', incomplete: null };
}

export function reasoningItem(id: string, details: readonly ReasoningDetail[], excludeText: boolean): Obj {
  const text = excludeText ? '' : reasoningText(details);
  return {
    type: 'reasoning',
    id,
    summary: text ? [{ type: 'summary_text', text }] : [],
    encrypted_content: encodeReasoning(details),
  };
}

/** Output text, with the web sources it cites as OpenAI's `url_citation` annotations. */
export function outputText(text: string, citations: readonly UrlCitation[] = []): Obj {
  const annotations = citations.map((c) => ({
    type: 'url_citation',
    url: c.url,
    title: c.title ?? '',
    start_index: c.startIndex,
    end_index: c.endIndex,
  }));
  return { type: 'output_text', text, annotations, logprobs: [] };
}

export function messageItem(
  id: string,
  text: string,
  status: ItemStatus,
  refusal?: string | null,
  citations?: readonly UrlCitation[],
): Obj {
  const content: Obj[] = [];
  if (text.length > 0 || !refusal) content.push(outputText(text, citations));
  if (refusal) content.push({ type: 'refusal', refusal });
  return { type: 'message', id, status, role: 'assistant', content };
}

export function functionCallItem(id: string, call: ToolCall, status: ItemStatus, names: ToolNames): Obj {
  return { type: 'function_call', id, call_id: call.id, ...clientToolName(names, call.name), arguments: call.arguments, status };
}

/** The output items of a whole result: reasoning, then the message, then the function calls. */
export function outputItems(r: ChatResult, meta: ResponseMeta): Obj[] {
  const { status } = statusOf(r.finish);
  const items: Obj[] = [];
  if (r.reasoning.length > 0) items.push(reasoningItem(newItemId('rs', meta.id), r.reasoning, meta.excludeReasoning));
  if (r.text.length > 0 || r.refusal || r.toolCalls.length === 0) {
    const itemStatus = status === 'incomplete' ? 'incomplete' : 'completed';
    items.push(messageItem(newItemId('msg', meta.id), r.text, itemStatus, r.refusal, r.citations));
  }
  for (const c of r.toolCalls) items.push(functionCallItem(newItemId('fc', meta.id), c, 'completed', meta.toolNames));
  return items;
}

/**
 * Responses usage: tokens with cache and reasoning details, and the cost as OpenRouter shows it —
 * its Responses cost details name the two halves `input`/`output` (chat's say `prompt`/`completions`),
 * and its SDK requires both.
 */
export function renderUsage(u: Usage, c: Charge): Obj {
  const chat = renderChatUsage(u, c);
  const details = chat.cost_details as Obj;
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cacheReadTokens, cache_write_tokens: u.cacheWriteTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
    cost: chat.cost,
    is_byok: chat.is_byok,
    cost_details: {
      ...details,
      upstream_inference_input_cost: details.upstream_inference_prompt_cost,
      upstream_inference_output_cost: details.upstream_inference_completions_cost,
    },
  };
}

export interface ResponseState {
  status: ResponseStatus;
  output: Obj[];
  usage: Obj | null;
  error?: { code: string; message: string } | null;
  /** OpenRouter's canonical error type, beside `error` on a failed response. */
  errorType?: string;
  incomplete?: { reason: string } | null;
  warnings?: string[];
  /** The processing tier the upstream reported (`service_tier`), when it reported one. */
  serviceTier?: string;
}

/**
 * The `response` object around a state: what the request asked for, what came back. Every field
 * OpenRouter's schema requires is present, `null` where unknown (`completed_at` until the response
 * completes, a penalty the request did not set).
 */
export function responseObject(meta: ResponseMeta, s: ResponseState): Obj {
  const e = meta.echo;
  const out: Obj = {
    id: meta.id,
    object: 'response',
    created_at: meta.createdAt,
    completed_at: s.status === 'completed' ? Math.max(meta.createdAt, Math.floor(Date.now() / 1000)) : null,
    status: s.status,
    background: false,
    error: s.error ?? null,
    incomplete_details: s.incomplete ?? null,
    instructions: e.instructions,
    max_output_tokens: e.maxOutputTokens,
    model: meta.model,
    output: s.output,
    parallel_tool_calls: e.parallelToolCalls,
    previous_response_id: e.previousResponseId,
    reasoning: e.reasoning,
    store: e.store,
    temperature: e.temperature,
    frequency_penalty: e.frequencyPenalty ?? null,
    presence_penalty: e.presencePenalty ?? null,
    text: e.text,
    tool_choice: e.toolChoice,
    tools: e.tools,
    top_p: e.topP,
    truncation: 'disabled',
    usage: s.usage,
    user: e.user,
    metadata: e.metadata,
    provider: meta.providerName,
    safety_identifier: e.safetyIdentifier,
    prompt_cache_key: e.promptCacheKey,
    // The upstream's own tier once it reports one; `null` (unknown), not the tier asked for, until then.
    service_tier: s.serviceTier ?? null,
    // Neither is applied (both are dropped with a warning): the echo says what was in effect.
    max_tool_calls: null,
    top_logprobs: 0,
  };
  if (s.errorType !== undefined) out.error_type = s.errorType;
  const warnings = [...meta.warnings, ...(s.warnings ?? [])];
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/** A whole (non-streamed) response. */
export function renderResponse(meta: ResponseMeta, r: ChatResult, usage: Usage, charge: Charge): Obj {
  const { status, incomplete } = statusOf(r.finish);
  return responseObject(meta, {
    status,
    incomplete,
    output: outputItems(r, meta),
    usage: renderUsage(usage, charge),
    warnings: r.warnings,
    ...(r.serviceTier !== undefined ? { serviceTier: r.serviceTier } : {}),
  });
}
