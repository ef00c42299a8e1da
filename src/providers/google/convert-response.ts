/**
 * A whole Gemini GenerateContentResponse → ChatResult (first candidate). Thought parts become
 * `reasoning.text` details; thought signatures become `reasoning.encrypted` details, carrying the
 * tool call id when they sit on a function call. Function calls get a `call_<random>` id when
 * Gemini gives none.
 */
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../spec/errors.ts';
import { GEMINI_FORMAT } from '../../spec/reasoning.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { ToolCall } from '../../spec/request.ts';
import { emptyUsage } from '../../spec/response.ts';
import type { ChatResult } from '../../spec/response.ts';
import { convertGeminiUsage, groundingCitations, searchQueries, withSearches } from './convert-usage.ts';
import { mapGeminiBlockReason, mapGeminiFinishReason } from './map-finish-reason.ts';
import type { GeminiFunctionCall, GeminiResponse } from './wire-types.ts';

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}

/** The internal tool call for a Gemini function call (arguments as compact JSON text). */
export function toolCallOf(fc: GeminiFunctionCall): ToolCall {
  return {
    id: typeof fc.id === 'string' && fc.id.length > 0 ? fc.id : newToolCallId(),
    name: typeof fc.name === 'string' ? fc.name : '',
    arguments: JSON.stringify(fc.args && typeof fc.args === 'object' ? fc.args : {}),
  };
}

export function convertGeminiResponse(json: unknown, providerName: string): ChatResult {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new GatewayError('provider_unavailable', `${providerName} returned an unexpected response`, {
      metadata: { provider_name: providerName, raw: json },
    });
  }
  const r = json as GeminiResponse;
  const candidate = Array.isArray(r.candidates) ? r.candidates[0] : undefined;
  const parts = Array.isArray(candidate?.content?.parts) ? candidate.content.parts : [];

  let text = '';
  const reasoning: ReasoningDetail[] = [];
  const toolCalls: ToolCall[] = [];
  /** The thought detail that consecutive thought parts extend. */
  let thought: Extract<ReasoningDetail, { type: 'reasoning.text' }> | undefined;
  for (const p of parts) {
    if (!p || typeof p !== 'object') continue;
    const sig = typeof p.thoughtSignature === 'string' && p.thoughtSignature !== '' ? p.thoughtSignature : undefined;
    if (p.thought === true && typeof p.text === 'string') {
      if (!thought) {
        thought = { type: 'reasoning.text', text: '', format: GEMINI_FORMAT };
        reasoning.push(thought);
      }
      thought.text += p.text;
      if (sig) {
        thought.signature = sig;
        thought = undefined;
      }
      continue;
    }
    thought = undefined;
    if (p.functionCall) {
      const call = toolCallOf(p.functionCall);
      toolCalls.push(call);
      if (sig) reasoning.push({ type: 'reasoning.encrypted', data: sig, id: call.id, format: GEMINI_FORMAT });
    } else {
      if (typeof p.text === 'string') text += p.text;
      if (sig) reasoning.push({ type: 'reasoning.encrypted', data: sig, format: GEMINI_FORMAT });
    }
  }

  const blocked = !candidate && typeof r.promptFeedback?.blockReason === 'string';
  const citations = groundingCitations(candidate, text);
  return {
    ...(citations.length > 0 ? { citations } : {}),
    upstreamId: typeof r.responseId === 'string' ? r.responseId : undefined,
    text,
    reasoning,
    toolCalls,
    finish: blocked
      ? mapGeminiBlockReason(r.promptFeedback!.blockReason!)
      : mapGeminiFinishReason(candidate?.finishReason, toolCalls.length > 0),
    usage: withSearches(convertGeminiUsage(r.usageMetadata) ?? emptyUsage(), searchQueries(candidate)),
  };
}
