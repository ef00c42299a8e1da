/**
 * The Responses door's conversions on their own: input items → internal messages, output items →
 * input items again without loss (reasoning details byte for byte, tool-call ids and arguments),
 * whole and streamed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { itemsToMessages } from '../../src/doors/responses/parse-items.ts';
import { parseResponsesRequest } from '../../src/doors/responses/parse-request.ts';
import { decodeReasoning, encodeReasoning } from '../../src/doors/responses/reasoning-codec.ts';
import { outputItems } from '../../src/doors/responses/render-response.ts';
import type { ResponseMeta } from '../../src/doors/responses/render-response.ts';
import { ResponsesStreamRenderer } from '../../src/doors/responses/render-stream.ts';
import { NO_CHARGE } from '../../src/accounting/charge.ts';
import type { ReasoningDetail } from '../../src/spec/reasoning.ts';
import type { AssistantMessage } from '../../src/spec/request.ts';
import type { ChatResult, StreamEvent } from '../../src/spec/response.ts';
import { emptyUsage } from '../../src/spec/response.ts';

const DETAILS: ReasoningDetail[] = [
  {
    type: 'reasoning.text',
    text: 'Thinking — with "quotes", \\ and 👋\n',
    signature: 'EqQBCkgIARAB+/==',
    format: 'anthropic-claude-v1',
    index: 0,
  },
  { type: 'reasoning.encrypted', data: 'RWRhY3RlZA==/+', format: 'anthropic-claude-v1', index: 1 },
  { type: 'reasoning.encrypted', data: 'c2lnbmF0dXJl', id: 'call_1', format: 'google-gemini-v1' },
  { type: 'reasoning.encrypted', data: 'gAAAAABo-openai-blob', id: 'rs_x', format: 'openai-responses-v1' },
];

test('encrypted_content decodes to exactly the details it encoded; anything altered does not', () => {
  const enc = encodeReasoning(DETAILS);
  assert.match(enc, /^fw1\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeReasoning(enc), DETAILS);
  assert.equal(JSON.stringify(decodeReasoning(enc)), JSON.stringify(DETAILS), 'same bytes, same key order');
  assert.equal(decodeReasoning(`${enc}!`), undefined);
  assert.equal(decodeReasoning(enc.slice(0, -3)), undefined);
  assert.equal(decodeReasoning('gAAAAABsomething'), undefined);
});

test('a turn of items gathers into one assistant message; outputs become tool messages', () => {
  const messages = itemsToMessages([
    { role: 'developer', content: 'Rules.' },
    {
      role: 'user',
      content: [
        { type: 'input_text', text: 'Look' },
        { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
      ],
    },
    {
      type: 'reasoning',
      id: 'rs_1',
      summary: [{ type: 'summary_text', text: 'ignored: the blob wins' }],
      encrypted_content: encodeReasoning(DETAILS),
    },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
    { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'a', arguments: '{"x":1}' },
    { type: 'function_call', id: 'fc_2', call_id: 'call_2', name: 'b', arguments: '{"y":' },
    { type: 'function_call_output', call_id: 'call_1', output: 'one' },
    { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'two' }] },
    { role: 'user', content: [{ type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBER' }] },
  ]);
  assert.deepEqual(
    messages.map((m) => m.role),
    ['system', 'user', 'assistant', 'tool', 'tool', 'user'],
  );
  assert.deepEqual(messages[1].content[1], { type: 'image', data: 'AAAA', mediaType: 'image/png', detail: 'low' });
  const a = messages[2] as AssistantMessage;
  assert.deepEqual(a.reasoning, DETAILS);
  assert.deepEqual(a.content, [{ type: 'text', text: 'Checking.' }]);
  assert.deepEqual(a.toolCalls, [
    { id: 'call_1', name: 'a', arguments: '{"x":1}' },
    { id: 'call_2', name: 'b', arguments: '{"y":' },
  ]);
  assert.deepEqual(messages[4], { role: 'tool', toolCallId: 'call_2', content: [{ type: 'text', text: 'two' }] });
  assert.deepEqual(messages[5].content[0], { type: 'file', data: 'JVBER', mediaType: 'application/pdf', filename: 'a.pdf' });
});

test("OpenAI's own encrypted reasoning is carried as an openai-responses-v1 blob with its summary", () => {
  const [m] = itemsToMessages([
    { type: 'reasoning', id: 'rs_9', summary: [{ type: 'summary_text', text: 'S' }], encrypted_content: 'gAAAAB' },
  ]);
  assert.deepEqual((m as AssistantMessage).reasoning, [
    { type: 'reasoning.summary', summary: 'S', format: 'openai-responses-v1', id: 'rs_9' },
    { type: 'reasoning.encrypted', data: 'gAAAAB', format: 'openai-responses-v1', id: 'rs_9' },
  ]);
});

test('request fields map to the internal request', () => {
  const p = parseResponsesRequest({
    model: 'anthropic/claude-sonnet-4-5',
    input: 'hi',
    instructions: 'Be brief.',
    tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: true }],
    tool_choice: { type: 'function', name: 'f' },
    parallel_tool_calls: false,
    max_output_tokens: 100,
    temperature: 0.5,
    top_p: 0.9,
    reasoning: { effort: 'high', summary: 'auto' },
    text: { format: { type: 'json_schema', name: 'p', schema: { type: 'object' }, strict: true } },
    store: true,
    metadata: { a: 'b' },
    user: 'u1',
    models: ['openai/gpt-4o-mini'],
    provider: { sort: 'price' },
  });
  assert.deepEqual(p.input, [{ type: 'message', role: 'user', content: 'hi' }]);
  assert.equal(p.instructions, 'Be brief.');
  assert.deepEqual(p.request.tools, [{ name: 'f', description: undefined, parameters: { type: 'object' }, strict: true }]);
  assert.deepEqual(p.request.toolChoice, { type: 'tool', name: 'f' });
  assert.equal(p.request.parallelToolCalls, false);
  assert.equal(p.request.maxTokens, 100);
  assert.deepEqual(p.request.reasoning, { effort: 'high' });
  assert.deepEqual(p.request.responseFormat, {
    type: 'json_schema',
    name: 'p',
    schema: { type: 'object' },
    strict: true,
    description: undefined,
  });
  assert.equal(p.store, true);
  assert.deepEqual(p.fallbackModels, ['openai/gpt-4o-mini']);
  assert.equal(p.preferences.sort, 'price');
  assert.deepEqual(p.echo.reasoning, { effort: 'high', summary: 'auto' });
  assert.deepEqual(parseResponsesRequest({ model: 'm', input: 'x', reasoning: { summary: 'auto' } }).request.reasoning, { enabled: true });
});

test('whole output items, sent back as input, restore the assistant turn exactly', () => {
  const result: ChatResult = {
    text: 'Let me check.',
    reasoning: DETAILS,
    toolCalls: [
      { id: 'toolu_1', name: 'lookup', arguments: '{"city":"Paris"}' },
      { id: 'toolu_2', name: 'lookup', arguments: '{"city": "Rome" }' },
    ],
    finish: { unified: 'tool_calls', raw: 'tool_use' },
    usage: emptyUsage(),
  };
  const items = outputItems(result, META);
  assert.deepEqual(
    items.map((i) => i.type),
    ['reasoning', 'message', 'function_call', 'function_call'],
  );
  const [m] = itemsToMessages(items) as AssistantMessage[];
  assert.deepEqual(m, {
    role: 'assistant',
    content: [{ type: 'text', text: 'Let me check.' }],
    toolCalls: result.toolCalls,
    reasoning: DETAILS,
  });
});

const META: ResponseMeta = {
  id: 'resp_test',
  createdAt: 1,
  model: 'test/model',
  providerName: 'Test',
  excludeReasoning: false,
  toolNames: new Map(),
  warnings: [],
  echo: {
    instructions: null,
    maxOutputTokens: null,
    parallelToolCalls: true,
    previousResponseId: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    topP: null,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    toolChoice: 'auto',
    tools: [],
    metadata: {},
    user: null,
    safetyIdentifier: null,
    promptCacheKey: null,
  },
};

function events(frames: string): Array<Record<string, unknown>> {
  return frames
    .split('\n\n')
    .filter((f) => f.startsWith('event: '))
    .map((f) => {
      const [head, data] = f.split('\n');
      const ev = JSON.parse(data.slice('data: '.length)) as Record<string, unknown>;
      assert.equal(head, `event: ${ev.type}`);
      return ev;
    });
}

test('streamed deltas (split signatures, interleaved calls) end as items that restore the turn exactly', () => {
  const stream: StreamEvent[] = [
    { type: 'reasoning', index: 0, kind: 'reasoning.text', text: 'Thinking ', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 0, kind: 'reasoning.text', text: 'hard', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 0, kind: 'reasoning.text', signature: 'EqQB', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 0, kind: 'reasoning.text', signature: 'CkgI==', format: 'anthropic-claude-v1' },
    { type: 'reasoning', index: 1, kind: 'reasoning.encrypted', data: 'cmVk', format: 'anthropic-claude-v1' },
    { type: 'text', text: 'Let me ' },
    { type: 'text', text: 'check.' },
    { type: 'tool-call-start', index: 0, id: 'call_a', name: 'lookup' },
    { type: 'tool-call-start', index: 1, id: 'call_b', name: 'lookup' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
    { type: 'tool-call-delta', index: 1, argumentsDelta: '{"city":"Rome"}' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '"Paris"}' },
    { type: 'reasoning', index: 2, kind: 'reasoning.encrypted', data: 'c2ln', id: 'call_a', format: 'google-gemini-v1' },
  ];
  let saved: Record<string, unknown> | undefined;
  const r = new ResponsesStreamRenderer(META, (resp) => (saved = resp));
  let frames = stream.map((e) => r.event(e) ?? '').join('');
  frames += r.final({ unified: 'tool_calls', raw: 'tool_use' }, emptyUsage(), NO_CHARGE);
  const evs = events(frames);
  assert.deepEqual(
    evs.map((e) => e.sequence_number),
    evs.map((_, i) => i),
  );
  assert.equal(evs[0].type, 'response.created');
  const completed = evs.at(-1)!;
  assert.equal(completed.type, 'response.completed');
  assert.deepEqual(completed.response, saved);
  const output = (completed.response as { output: Array<Record<string, unknown>> }).output;
  assert.deepEqual(
    output.map((o) => o.type),
    ['reasoning', 'message', 'function_call', 'function_call'],
  );
  // Every item's done event carries the same item as the completed response.
  for (const ev of evs.filter((e) => e.type === 'response.output_item.done')) assert.deepEqual(ev.item, output[ev.output_index as number]);
  const [m] = itemsToMessages(output) as AssistantMessage[];
  assert.deepEqual(m.reasoning, [
    { type: 'reasoning.text', text: 'Thinking hard', signature: 'EqQBCkgI==', format: 'anthropic-claude-v1' },
    { type: 'reasoning.encrypted', data: 'cmVk', format: 'anthropic-claude-v1' },
    { type: 'reasoning.encrypted', data: 'c2ln', id: 'call_a', format: 'google-gemini-v1' },
  ]);
  assert.deepEqual(m.content, [{ type: 'text', text: 'Let me check.' }]);
  assert.deepEqual(m.toolCalls, [
    { id: 'call_a', name: 'lookup', arguments: '{"city":"Paris"}' },
    { id: 'call_b', name: 'lookup', arguments: '{"city":"Rome"}' },
  ]);
  const summary = evs
    .filter((e) => e.type === 'response.reasoning_summary_text.delta')
    .map((e) => e.delta)
    .join('');
  assert.equal(summary, 'Thinking hard');
});
