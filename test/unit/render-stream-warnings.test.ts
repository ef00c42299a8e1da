/**
 * Door renderers and warnings that arrive once the stream has begun (a mid-stream failover's next
 * endpoint): the Messages renderer shows them on `message_delta` (its `message_start` is gone), the
 * Responses renderer on the final response; a warning already shown is not repeated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnthropicStreamRenderer } from '../../src/doors/anthropic/render-stream.ts';
import { ResponsesStreamRenderer } from '../../src/doors/responses/render-stream.ts';
import type { ResponseMeta } from '../../src/doors/responses/render-response.ts';
import { NO_CHARGE } from '../../src/accounting/charge.ts';
import { emptyUsage } from '../../src/spec/response.ts';
import { sseData } from '../helpers/openrouter-schemas.ts';

// any: SSE payloads read field by field.
type Json = Record<string, any>;
const stop = { unified: 'stop', raw: 'stop' } as const;

test('Messages: warnings before content on message_start, later ones on message_delta, each once', () => {
  const r = new AnthropicStreamRenderer({ id: 'gen-1', model: 'm', promptTokens: 1, warnings: ['door'] });
  r.warn(['first leg']);
  const head = sseData(r.event({ type: 'text', text: 'hi' }) ?? '') as Json[];
  assert.deepEqual(head[0].message.warnings, ['door', 'first leg']);
  r.warn(['first leg', 'second leg']);
  const tail = sseData(r.final(stop, emptyUsage(), NO_CHARGE)) as Json[];
  assert.deepEqual(tail.find((e) => e.type === 'message_delta')!.warnings, ['second leg']);
});

test('Messages: no warnings, no warnings field', () => {
  const r = new AnthropicStreamRenderer({ id: 'gen-1', model: 'm', promptTokens: 1 });
  const all = sseData((r.event({ type: 'text', text: 'hi' }) ?? '') + r.final(stop, emptyUsage(), NO_CHARGE)) as Json[];
  assert.ok(all.every((e) => e.warnings === undefined && e.message?.warnings === undefined));
});

test("Responses: the door's warnings and the upstreams' on the response objects, each once", () => {
  const meta = {
    id: 'resp_1',
    createdAt: 1,
    model: 'm',
    providerName: 'p',
    echo: {},
    excludeReasoning: false,
    toolNames: new Map(),
    warnings: ['door'],
  } as unknown as ResponseMeta;
  const r = new ResponsesStreamRenderer(meta);
  r.warn(['door', 'first leg']);
  const head = sseData(r.event({ type: 'text', text: 'hi' }) ?? '') as Json[];
  assert.deepEqual(head.find((e) => e.type === 'response.created')!.response.warnings, ['door', 'first leg']);
  r.warn(['second leg']);
  const tail = sseData(r.final(stop, emptyUsage(), NO_CHARGE)) as Json[];
  assert.deepEqual(tail.find((e) => e.type === 'response.completed')!.response.warnings, ['door', 'first leg', 'second leg']);
});
