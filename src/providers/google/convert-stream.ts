/**
 * Gemini `streamGenerateContent?alt=sse` → internal stream events. Each SSE message is a whole
 * GenerateContentResponse holding the next parts: text parts become `text` events, thought parts
 * `reasoning` events, function calls (which Gemini sends whole) a `tool-call-start` plus one
 * `tool-call-delta`, thought signatures `reasoning.encrypted` events. finishReason and the last
 * usageMetadata seen are emitted once, at the end.
 *
 * Failures after the stream started never throw: malformed JSON, an in-band `{error}`, a dropped
 * connection, a stream that ends without a finishReason, or cancellation via `signal` each end the
 * stream with one `error` event.
 */
import { GatewayError } from '../../spec/errors.ts';
import { GEMINI_FORMAT } from '../../spec/reasoning.ts';
import type { FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import { networkError, streamDroppedError } from '../http-client.ts';
import { parseSse, tryParseJson } from '../sse.ts';
import { upstreamHttpError } from '../upstream-error.ts';
import { parseGeminiError } from './parse-error.ts';
import { toolCallOf } from './convert-response.ts';
import { convertGeminiUsage, searchQueries, withSearches } from './convert-usage.ts';
import { mapGeminiBlockReason, mapGeminiFinishReason } from './map-finish-reason.ts';
import type { GeminiResponse } from './wire-types.ts';

function broken(providerName: string, message: string, raw?: unknown): StreamEvent {
  return {
    type: 'error',
    error: new GatewayError('provider_unavailable', `${providerName} ${message}`, {
      metadata: { provider_name: providerName, ...(raw !== undefined ? { raw } : {}) },
    }),
  };
}

export async function* convertGeminiStream(
  body: AsyncIterable<Uint8Array>,
  providerName: string,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  let started = false;
  let finishRaw: string | undefined;
  let blockReason: string | undefined;
  let usage: Usage | undefined;
  /** Search queries the grounding metadata reported (it comes with the last chunks, whole). */
  let searches = 0;
  let toolCount = 0;
  let reasoningCount = 0;
  /** Index of the thought detail that consecutive thought parts extend, or -1. */
  let thoughtIndex = -1;

  try {
    for await (const msg of parseSse(body)) {
      if (signal.aborted) {
        yield { type: 'error', error: networkError(providerName, signal.reason, signal) };
        return;
      }
      const parsed = tryParseJson(msg.data);
      const chunk: GeminiResponse = parsed.ok && parsed.value && typeof parsed.value === 'object' ? (parsed.value as GeminiResponse) : {};
      if (!started) {
        started = true;
        yield { type: 'start', upstreamId: typeof chunk.responseId === 'string' ? chunk.responseId : undefined };
      }
      if (!parsed.ok) {
        yield broken(providerName, 'sent a stream chunk that is not valid JSON', msg.data.slice(0, 2000));
        return;
      }
      if (chunk.error) {
        const code = typeof chunk.error.code === 'number' ? chunk.error.code : 500;
        yield { type: 'error', error: upstreamHttpError(providerName, code, {}, JSON.stringify(chunk), parseGeminiError) };
        return;
      }
      const u = convertGeminiUsage(chunk.usageMetadata);
      if (u) usage = u;
      if (typeof chunk.promptFeedback?.blockReason === 'string') blockReason = chunk.promptFeedback.blockReason;

      const candidate = Array.isArray(chunk.candidates) ? chunk.candidates[0] : undefined;
      searches = Math.max(searches, searchQueries(candidate));
      const parts = Array.isArray(candidate?.content?.parts) ? candidate.content.parts : [];
      for (const p of parts) {
        if (!p || typeof p !== 'object') continue;
        const sig = typeof p.thoughtSignature === 'string' && p.thoughtSignature !== '' ? p.thoughtSignature : undefined;
        if (p.thought === true && typeof p.text === 'string') {
          if (thoughtIndex === -1) thoughtIndex = reasoningCount++;
          yield { type: 'reasoning', index: thoughtIndex, kind: 'reasoning.text', text: p.text, format: GEMINI_FORMAT };
          if (sig) {
            yield { type: 'reasoning', index: thoughtIndex, kind: 'reasoning.text', signature: sig, format: GEMINI_FORMAT };
            thoughtIndex = -1;
          }
          continue;
        }
        thoughtIndex = -1;
        if (p.functionCall) {
          const call = toolCallOf(p.functionCall);
          const index = toolCount++;
          yield { type: 'tool-call-start', index, id: call.id, name: call.name };
          yield { type: 'tool-call-delta', index, argumentsDelta: call.arguments };
          if (sig) {
            yield {
              type: 'reasoning',
              index: reasoningCount++,
              kind: 'reasoning.encrypted',
              data: sig,
              id: call.id,
              format: GEMINI_FORMAT,
            };
          }
        } else {
          if (typeof p.text === 'string' && p.text !== '') yield { type: 'text', text: p.text };
          if (sig) yield { type: 'reasoning', index: reasoningCount++, kind: 'reasoning.encrypted', data: sig, format: GEMINI_FORMAT };
        }
      }
      if (typeof candidate?.finishReason === 'string' && candidate.finishReason !== '') finishRaw = candidate.finishReason;
    }
  } catch (err) {
    yield { type: 'error', error: streamDroppedError(providerName, err, signal) };
    return;
  }
  if (signal.aborted) {
    yield { type: 'error', error: networkError(providerName, signal.reason, signal) };
    return;
  }

  let finish: FinishReason;
  if (finishRaw !== undefined) finish = mapGeminiFinishReason(finishRaw, toolCount > 0);
  else if (blockReason !== undefined) finish = mapGeminiBlockReason(blockReason);
  else {
    yield broken(providerName, 'ended the stream before it finished');
    return;
  }
  yield { type: 'finish', finish };
  if (usage) yield { type: 'usage', usage: withSearches(usage, searches) };
}
