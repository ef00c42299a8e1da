/**
 * The Messages door's renderer sees the events an Anthropic upstream's bytes passed through and
 * carries the same message on when another endpoint's events follow (mid-stream failover): no second
 * message_start, the open text block extended, later blocks numbered after the passed-through ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnthropicStreamRenderer } from '../../src/doors/anthropic/render-stream.ts';
import { NO_CHARGE } from '../../src/accounting/charge.ts';
import { emptyUsage } from '../../src/spec/response.ts';

const frame = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const RAW =
  frame('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', model: 'claude-sonnet-4-5', content: [] } }) +
  frame('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }) +
  frame('content_block_stop', { type: 'content_block_stop', index: 0 }) +
  frame('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }) +
  frame('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hello' } });

function events(sse: string): Array<{ event: string; data: Record<string, unknown> }> {
  return [...sse.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({ event: m[1], data: JSON.parse(m[2]) as Record<string, unknown> }));
}

test('passed-through events keep their bytes; message_start names the asked model and carries the warnings', () => {
  const r = new AnthropicStreamRenderer({ id: 'gen-1', model: 'test/claude', promptTokens: 1, warnings: ['door'] });
  r.warn(['capped']);
  const out = r.passthrough(RAW);
  const start = events(out)[0].data.message as Record<string, unknown>;
  assert.equal(start.model, 'test/claude');
  assert.deepEqual(start.warnings, ['door', 'capped']);
  assert.equal(start.id, 'msg_1', "Anthropic's own message");
  assert.equal(out.slice(out.indexOf('event: content_block_start')), RAW.slice(RAW.indexOf('event: content_block_start')));
});

test('rendered events after them continue the same message', () => {
  const r = new AnthropicStreamRenderer({ id: 'gen-1', model: 'test/claude', promptTokens: 1 });
  r.passthrough(RAW);
  const text = r.event({ type: 'text', text: ' world' }) ?? '';
  const more = text + (r.event({ type: 'tool-call-start', index: 0, id: 'call_1', name: 'f' }) ?? '');
  const out = events(more + r.final({ unified: 'stop', raw: null }, emptyUsage(), NO_CHARGE));
  assert.ok(!out.some((e) => e.event === 'message_start'), 'no second message_start');
  const delta = { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: ' world' } };
  assert.deepEqual(out[0], { event: 'content_block_delta', data: delta });
  assert.deepEqual(out[1].data, { type: 'content_block_stop', index: 1 }, 'the passed-through text block is closed by the renderer');
  assert.equal(out[2].data.index, 2, 'the next block is numbered after the passed-through ones');
  assert.deepEqual(out.map((e) => e.event).slice(-2), ['message_delta', 'message_stop']);
});
