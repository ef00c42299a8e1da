/**
 * OpenAI Chat Completions SSE → internal stream events. A malformed chunk is skipped (servers under
 * load occasionally emit one); a dropped connection or an in-band error becomes an `error` event.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { StreamEvent, Usage } from '../../spec/response.ts';
import { networkError } from '../http-client.ts';
import { SseParser, tryParseJson } from '../sse.ts';
import type { OpenAIQuirks } from '../types.ts';
import { isReasoningDetail } from './convert-response.ts';
import { convertOpenAIUsage } from './convert-usage.ts';
import { mapOpenAIFinishReason } from './map-finish-reason.ts';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function* convertOpenAIStream(
  body: AsyncIterable<Uint8Array>,
  providerName: string,
  q: OpenAIQuirks,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  let started = false;
  let finishRaw: unknown = undefined;
  let usage: Usage | undefined;
  let sawToolCalls = false;
  /** upstream tool-call index → our index */
  const toolIndex = new Map<number, number>();
  let done = false;
  const reasoningField = q.reasoningField ?? 'reasoning';

  let reads: AsyncIterator<Uint8Array> | undefined;
  try {
    // One async step per network read; the messages a read completes are handled synchronously.
    const parser = new SseParser();
    const iterator = body[Symbol.asyncIterator]();
    reads = iterator;
    for (;;) {
      const read = await iterator.next();
      if (read.done) reads = undefined;
      for (const msg of read.done ? parser.end() : parser.push(read.value)) {
        if (done) continue;
        if (msg.data === '[DONE]') {
          // Keep reading to the end of the body instead of abandoning it (which destroys it, at the
          // cost of an AbortError with a stack per stream).
          done = true;
          continue;
        }
        const parsed = tryParseJson(msg.data);
        if (!parsed.ok) continue;
        const chunk = obj(parsed.value);
        if (!started) {
          started = true;
          yield { type: 'start', upstreamId: str(chunk.id) };
        }
        if (chunk.error) {
          const e = obj(chunk.error);
          yield {
            type: 'error',
            error: new GatewayError('provider_unavailable', `${providerName}: ${str(e.message) ?? 'stream error'}`, {
              metadata: { provider_name: providerName, raw: chunk.error },
            }),
          };
          return;
        }
        const u = convertOpenAIUsage(chunk.usage);
        if (u) usage = u;
        const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
        const choice = obj(choices[0]);
        const delta = obj(choice.delta);
        const rText = str(delta[reasoningField]) ?? str(delta.reasoning) ?? str(delta.reasoning_content);
        if (Array.isArray(delta.reasoning_details)) {
          for (const d of delta.reasoning_details) {
            if (!isReasoningDetail(d)) continue;
            yield {
              type: 'reasoning',
              index: typeof d.index === 'number' ? d.index : 0,
              kind: d.type,
              text: d.type === 'reasoning.text' ? d.text : d.type === 'reasoning.summary' ? d.summary : undefined,
              signature: d.type === 'reasoning.text' ? (d.signature ?? undefined) : undefined,
              data: d.type === 'reasoning.encrypted' ? d.data : undefined,
              id: d.id ?? undefined,
              format: d.format ?? undefined,
            };
          }
        } else if (rText) {
          yield { type: 'reasoning', index: 0, kind: 'reasoning.text', text: rText, format: 'unknown' };
        }
        // Legacy /completions chunks carry `text` on the choice instead of a delta.
        const content = str(delta.content) ?? str(choice.text);
        if (content) yield { type: 'text', text: content };
        if (Array.isArray(delta.tool_calls)) {
          for (const raw of delta.tool_calls) {
            const tc = obj(raw);
            const upstreamIndex = typeof tc.index === 'number' ? tc.index : toolIndex.size;
            const f = obj(tc.function);
            let index = toolIndex.get(upstreamIndex);
            if (index === undefined) {
              index = toolIndex.size;
              toolIndex.set(upstreamIndex, index);
              sawToolCalls = true;
              yield {
                type: 'tool-call-start',
                index,
                id: str(tc.id) ?? `call_${Date.now().toString(36)}${index}`,
                name: str(f.name) ?? '',
              };
            }
            const args = str(f.arguments);
            if (args) yield { type: 'tool-call-delta', index, argumentsDelta: args };
          }
        }
        if (choice.finish_reason) finishRaw = choice.finish_reason;
      }
      if (read.done) break;
    }
  } catch (err) {
    // A connection that drops after [DONE] lost nothing.
    if (!done) {
      yield { type: 'error', error: networkError(providerName, err, signal) };
      return;
    }
  } finally {
    // Left early (an in-band error): release the body rather than leave the socket hanging.
    if (reads) void reads.return?.();
  }
  if (!done && finishRaw === undefined) {
    yield {
      type: 'error',
      error: new GatewayError('provider_unavailable', `${providerName} closed the stream before it finished`, {
        metadata: { provider_name: providerName },
      }),
    };
    return;
  }
  yield { type: 'finish', finish: mapOpenAIFinishReason(finishRaw, sawToolCalls) };
  if (usage) yield { type: 'usage', usage };
}
