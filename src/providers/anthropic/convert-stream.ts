/**
 * Anthropic's SSE stream → internal StreamEvents. Never throws: once the caller has the iterable,
 * every failure (an `event: error`, a dropped connection, a broken event, a stream that ends early)
 * becomes one final `error` event.
 *
 * Frames without an `event:` name are not part of Anthropic's protocol and are skipped, as the
 * official SDK does. A named event whose JSON does not parse ends the stream with an error: its
 * content is lost, and carrying on would hand the client a silently incomplete answer.
 */
import { GatewayError } from '../../spec/errors.ts';
import { ANTHROPIC_FORMAT } from '../../spec/reasoning.ts';
import type { StreamEvent } from '../../spec/response.ts';
import { streamDroppedError } from '../http-client.ts';
import { streamError } from './parse-error.ts';
import { parseSse, tryParseJson } from '../sse.ts';
import { serviceTierOf } from './convert-options.ts';
import { convertUsage, mergeUsage } from './convert-usage.ts';
import { mapStopReason } from './map-stop-reason.ts';
import type { WireStreamEvent, WireUsage } from './wire-types.ts';

type BlockState = { kind: 'text' } | { kind: 'reasoning'; index: number } | { kind: 'tool'; index: number } | { kind: 'other' };

function brokenStream(providerName: string, what: string, raw?: string): GatewayError {
  return new GatewayError('provider_unavailable', `${providerName} ${what}`, {
    metadata: { provider_name: providerName, ...(raw !== undefined ? { raw: raw.slice(0, 2000) } : {}) },
  });
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export async function* convertStream(
  body: AsyncIterable<Uint8Array | string>,
  providerName: string,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  const blocks = new Map<number, BlockState>();
  let reasoningCount = 0;
  let toolCount = 0;
  let started = false;
  let usage: WireUsage | undefined;
  let stopReason: string | null | undefined;
  let stopped = false;
  const format = ANTHROPIC_FORMAT;

  try {
    for await (const sse of parseSse(body)) {
      if (stopped || !sse.event || sse.event === 'ping') continue;
      const parsed = tryParseJson(sse.data);
      if (!parsed.ok || !parsed.value || typeof parsed.value !== 'object') {
        yield { type: 'error', error: brokenStream(providerName, `sent a malformed \`${sse.event}\` stream event`, sse.data) };
        return;
      }
      const ev = parsed.value as WireStreamEvent;
      const type = ev.type ?? sse.event;
      if (type === 'error') {
        yield { type: 'error', error: streamError(providerName, ev.error) };
        return;
      }
      if (!started) {
        started = true;
        const tier = type === 'message_start' ? serviceTierOf(ev.message?.usage) : undefined;
        yield {
          type: 'start',
          ...(type === 'message_start' && ev.message?.id ? { upstreamId: ev.message.id } : {}),
          ...(tier !== undefined ? { serviceTier: tier } : {}),
        };
      }
      switch (type) {
        case 'message_start':
          usage = mergeUsage(undefined, ev.message?.usage);
          break;
        case 'content_block_start': {
          const cb = ev.content_block ?? {};
          const at = ev.index ?? blocks.size;
          if (cb.type === 'text') {
            blocks.set(at, { kind: 'text' });
            if (str(cb.text)) yield { type: 'text', text: str(cb.text) };
          } else if (cb.type === 'thinking') {
            const index = reasoningCount++;
            blocks.set(at, { kind: 'reasoning', index });
            if (str(cb.thinking)) yield { type: 'reasoning', index, kind: 'reasoning.text', text: str(cb.thinking), format };
            if (str(cb.signature)) yield { type: 'reasoning', index, kind: 'reasoning.text', signature: str(cb.signature), format };
          } else if (cb.type === 'redacted_thinking') {
            const index = reasoningCount++;
            blocks.set(at, { kind: 'reasoning', index });
            yield { type: 'reasoning', index, kind: 'reasoning.encrypted', data: str(cb.data), format };
          } else if (cb.type === 'tool_use') {
            const index = toolCount++;
            blocks.set(at, { kind: 'tool', index });
            yield { type: 'tool-call-start', index, id: str(cb.id), name: str(cb.name) };
            // The real API starts with `input: {}` and streams the JSON; some proxies send it whole.
            if (cb.input && typeof cb.input === 'object' && Object.keys(cb.input).length > 0) {
              yield { type: 'tool-call-delta', index, argumentsDelta: JSON.stringify(cb.input) };
            }
          } else {
            blocks.set(at, { kind: 'other' });
          }
          break;
        }
        case 'content_block_delta': {
          const block = blocks.get(ev.index ?? -1);
          const d = ev.delta ?? {};
          if (d.type === 'text_delta' && str(d.text)) {
            yield { type: 'text', text: str(d.text) };
          } else if (d.type === 'thinking_delta' && block?.kind === 'reasoning' && str(d.thinking)) {
            yield { type: 'reasoning', index: block.index, kind: 'reasoning.text', text: str(d.thinking), format };
          } else if (d.type === 'signature_delta' && block?.kind === 'reasoning' && str(d.signature)) {
            yield { type: 'reasoning', index: block.index, kind: 'reasoning.text', signature: str(d.signature), format };
          } else if (d.type === 'input_json_delta' && block?.kind === 'tool' && str(d.partial_json)) {
            yield { type: 'tool-call-delta', index: block.index, argumentsDelta: str(d.partial_json) };
          }
          break;
        }
        case 'message_delta':
          if (ev.delta?.stop_reason !== undefined) stopReason = ev.delta.stop_reason;
          usage = mergeUsage(usage, ev.usage);
          break;
        case 'message_stop':
          yield { type: 'finish', finish: mapStopReason(stopReason) };
          yield { type: 'usage', usage: convertUsage(usage) };
          // Read on to the end of the body rather than abandon it: an abandoned body is destroyed,
          // which costs an AbortError (with its stack) per stream.
          stopped = true;
          break;
        default:
          // content_block_stop, and event types newer than this adapter.
          break;
      }
    }
  } catch (err) {
    // A connection that drops after message_stop lost nothing.
    if (!stopped) yield { type: 'error', error: streamDroppedError(providerName, err, signal) };
    return;
  }
  if (!stopped) yield { type: 'error', error: brokenStream(providerName, 'ended the stream before the message was complete') };
}
