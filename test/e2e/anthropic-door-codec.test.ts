/**
 * Round trips through the Anthropic door's wire shape without a server: every provider's reasoning
 * artefact (Anthropic thinking and redacted thinking, Gemini thought text and signatures, OpenAI
 * encrypted reasoning, summaries) and every tool id, rendered whole or streamed, then sent back by
 * the client on its next turn, decode to exactly what the upstream issued.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromAnthropicToolId, toAnthropicToolId } from '../../src/doors/anthropic/codec.ts';
import { parseMessagesRequest } from '../../src/doors/anthropic/parse-request.ts';
import { renderMessage } from '../../src/doors/anthropic/render-message.ts';
import { AnthropicStreamRenderer } from '../../src/doors/anthropic/render-stream.ts';
import { NO_CHARGE } from '../../src/accounting/charge.ts';
import type { ReasoningDetail } from '../../src/spec/reasoning.ts';
import type { AssistantMessage } from '../../src/spec/request.ts';
import { emptyUsage } from '../../src/spec/response.ts';
import type { ChatResult, StreamEvent } from '../../src/spec/response.ts';

const DETAILS: ReasoningDetail[] = [
  { type: 'reasoning.text', text: 'Let me think.', signature: 'EqQBCkgIARABGAIiQL+/sig==', format: 'anthropic-claude-v1', index: 0 },
  { type: 'reasoning.encrypted', data: 'EmwKAhgBEgy3redacted+/==', format: 'anthropic-claude-v1', index: 1 },
  { type: 'reasoning.text', text: 'Gemini thinks.', signature: 'CiQBgemini/thought+sig==', format: 'google-gemini-v1', index: 2 },
  { type: 'reasoning.encrypted', data: 'CvcBAY89a1+gemini/call/sig', id: 'call_gem1', format: 'google-gemini-v1', index: 3 },
  { type: 'reasoning.encrypted', data: 'gAAAAABo-openai-encrypted_content==', id: 'rs_68a1', format: 'openai-responses-v1', index: 4 },
  { type: 'reasoning.summary', summary: '**Planning** the answer', id: 'rs_68a1', format: 'openai-responses-v1', index: 5 },
  { type: 'reasoning.text', text: 'unformatted reasoning', index: 6 },
];

const RESULT: ChatResult = {
  text: 'Here you go.',
  reasoning: DETAILS,
  toolCalls: [
    { id: 'call_gem1', name: 'lookup', arguments: '{"city":"Paris"}' },
    { id: 'toolu_01AbCdEf', name: 'lookup', arguments: '{"city":"Rome"}' },
    { id: 'fc_0 weird/id+=ü', name: 'lookup', arguments: '{}' },
  ],
  finish: { unified: 'tool_calls', raw: 'tool_calls' },
  usage: emptyUsage(),
};

/** The client's next turn, carrying `content` back, parsed as the door parses it. */
function replay(content: unknown[]): AssistantMessage {
  const ids = content.filter((b) => (b as { type: string }).type === 'tool_use').map((b) => (b as { id: string }).id);
  const { request, foreign } = parseMessagesRequest({
    model: 'x',
    max_tokens: 10,
    messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content },
      { role: 'user', content: ids.map((id) => ({ type: 'tool_result', tool_use_id: id, content: 'ok' })) },
    ],
  });
  assert.ok(foreign, 'carries Freeway-encoded artefacts');
  const toolIds = request.messages.filter((m) => m.role === 'tool').map((m) => (m as { toolCallId: string }).toolCallId);
  assert.deepEqual(
    toolIds,
    RESULT.toolCalls.map((c) => c.id),
    'tool results answer the upstream ids',
  );
  return request.messages[1] as AssistantMessage;
}

test('tool ids: upstream ids become toolu_ ids and come back exactly; Anthropic ids pass unchanged', () => {
  for (const id of ['call_abc', 'fc_0 weird/id+=ü', 'x']) {
    const a = toAnthropicToolId(id);
    assert.match(a, /^toolu_[A-Za-z0-9_-]+$/);
    assert.deepEqual(fromAnthropicToolId(a), { id, foreign: true });
  }
  assert.equal(toAnthropicToolId('toolu_01AbCdEf'), 'toolu_01AbCdEf');
  assert.deepEqual(fromAnthropicToolId('toolu_01AbCdEf'), { id: 'toolu_01AbCdEf', foreign: false });
  assert.deepEqual(fromAnthropicToolId('toolu_fw_!!'), { id: 'toolu_fw_!!', foreign: false });
});

test('a whole message: every reasoning detail and tool call survives the next turn', () => {
  const msg = renderMessage({ id: 'gen-1', model: 'm' }, RESULT, NO_CHARGE) as { content: Array<Record<string, unknown>> };
  // Anthropic's own artefacts are native blocks, byte for byte.
  assert.deepEqual(msg.content[0], { type: 'thinking', thinking: 'Let me think.', signature: 'EqQBCkgIARABGAIiQL+/sig==' });
  assert.deepEqual(msg.content[1], { type: 'redacted_thinking', data: 'EmwKAhgBEgy3redacted+/==' });
  const back = replay(msg.content);
  assert.deepEqual(back.reasoning, DETAILS);
  assert.deepEqual(back.toolCalls, RESULT.toolCalls);
  assert.deepEqual(back.content, [{ type: 'text', text: 'Here you go.' }]);
});

/** Applies an SSE body to a message snapshot the way the Anthropic SDK does. */
function accumulate(sse: string): Array<Record<string, any>> {
  const content: Array<Record<string, any>> = [];
  const json: string[] = [];
  for (const frame of sse.split('\n\n').filter(Boolean)) {
    const data = JSON.parse(frame.split('\n')[1].slice(6));
    if (data.type === 'content_block_start') {
      content[data.index] = { ...data.content_block };
      json[data.index] = '';
    } else if (data.type === 'content_block_delta') {
      const b = content[data.index];
      const d = data.delta;
      if (d.type === 'text_delta') b.text += d.text;
      else if (d.type === 'thinking_delta') b.thinking += d.thinking;
      else if (d.type === 'signature_delta') b.signature = d.signature;
      else if (d.type === 'input_json_delta') json[data.index] += d.partial_json;
    } else if (data.type === 'content_block_stop' && content[data.index].type === 'tool_use') {
      content[data.index].input = json[data.index] ? JSON.parse(json[data.index]) : {};
    }
  }
  return content;
}

test('a stream: the same details and calls survive, whatever pieces they arrived in', () => {
  const events: StreamEvent[] = [
    { type: 'start' },
    { type: 'reasoning', index: 0, kind: 'reasoning.text', text: 'Let me ', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 0, kind: 'reasoning.text', text: 'think.', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 0, kind: 'reasoning.text', signature: 'EqQBCkgIARABGAIiQL+/sig==', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 1, kind: 'reasoning.encrypted', data: 'EmwKAhgBEgy3redacted+/==', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 2, kind: 'reasoning.text', text: 'Gemini ', format: 'google-gemini-v1' },
    { type: 'reasoning', index: 2, kind: 'reasoning.text', text: 'thinks.', format: 'google-gemini-v1' },
    { type: 'reasoning', index: 2, kind: 'reasoning.text', signature: 'CiQBgemini/thought+sig==', format: 'google-gemini-v1' },
    { type: 'tool-call-start', index: 0, id: 'call_gem1', name: 'lookup' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city"' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: ':"Paris"}' },
    { type: 'reasoning', index: 3, kind: 'reasoning.encrypted', data: 'CvcBAY89a1+gemini/', id: 'call_gem1', format: 'google-gemini-v1' },
    { type: 'reasoning', index: 3, kind: 'reasoning.encrypted', data: 'call/sig', format: 'google-gemini-v1' },
    {
      type: 'reasoning',
      index: 4,
      kind: 'reasoning.encrypted',
      data: 'gAAAAABo-openai-encrypted_content==',
      id: 'rs_68a1',
      format: 'openai-responses-v1',
    },
    {
      type: 'reasoning',
      index: 5,
      kind: 'reasoning.summary',
      text: '**Planning** the answer',
      id: 'rs_68a1',
      format: 'openai-responses-v1',
    },
    { type: 'reasoning', index: 6, kind: 'reasoning.text', text: 'unformatted reasoning' },
    { type: 'text', text: 'Here you ' },
    { type: 'text', text: 'go.' },
    { type: 'tool-call-start', index: 1, id: 'toolu_01AbCdEf', name: 'lookup' },
    { type: 'tool-call-delta', index: 1, argumentsDelta: '{"city":"Rome"}' },
    { type: 'tool-call-start', index: 2, id: 'fc_0 weird/id+=ü', name: 'lookup' },
  ];
  const r = new AnthropicStreamRenderer({ id: 'gen-1', model: 'm', promptTokens: 3 });
  let sse = '';
  for (const ev of events) sse += r.event(ev) ?? '';
  sse += r.final({ unified: 'tool_calls', raw: 'tool_calls' }, emptyUsage(), NO_CHARGE);
  const names = sse
    .split('\n\n')
    .filter(Boolean)
    .map((f) => f.split('\n')[0].slice(7));
  assert.deepEqual(names.slice(0, 2), ['message_start', 'ping']);
  assert.deepEqual(names.slice(-2), ['message_delta', 'message_stop']);
  // Every block that starts stops, in order, before the next one starts.
  let open = -1;
  for (const frame of sse.split('\n\n').filter(Boolean)) {
    const data = JSON.parse(frame.split('\n')[1].slice(6));
    if (data.type === 'content_block_start') {
      assert.equal(open, -1);
      open = data.index;
    } else if (data.type === 'content_block_stop') {
      assert.equal(data.index, open);
      open = -1;
    } else if (data.type === 'content_block_delta') assert.equal(data.index, open);
  }
  const content = accumulate(sse);
  const back = replay(content);
  const expected = DETAILS.map((d) =>
    d.type === 'reasoning.encrypted' && d.format === 'google-gemini-v1' ? { ...d, id: 'call_gem1' } : d,
  );
  assert.deepEqual(back.reasoning, expected);
  assert.deepEqual(back.toolCalls, RESULT.toolCalls);
  assert.deepEqual(back.content, [{ type: 'text', text: 'Here you go.' }]);
});
