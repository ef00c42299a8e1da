/**
 * What reaches Gemini when an OpenAI client talks to Freeway: systemInstruction, roles, function
 * responses named after their calls, and Gemini 3 thought signatures round-tripped verbatim.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;
const model = 'google/gemini-3-pro-preview';

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

const tool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

type Details = Array<{ type: string; data?: string; id?: string; format?: string }>;

test('system → systemInstruction, assistant → model, tool → functionResponse named after the call', async () => {
  const first = await client.chat.completions.create({
    model: 'google/gemini-2.5-flash',
    messages: [
      { role: 'system', content: 'Be exact.' },
      { role: 'user', content: 'where?' },
    ],
    tools: [tool],
  });
  const call = first.choices[0].message.tool_calls![0];
  await client.chat.completions.create({
    model: 'google/gemini-2.5-flash',
    tools: [tool],
    messages: [
      { role: 'system', content: 'Be exact.' },
      { role: 'user', content: 'where?' },
      first.choices[0].message,
      { role: 'tool', tool_call_id: call.id, content: '{"temp":20}' },
    ],
  });
  const body = stack.gemini.last().body;
  assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be exact.' }] });
  assert.deepEqual(
    body.contents.map((c: { role: string }) => c.role),
    ['user', 'model', 'user'],
  );
  assert.equal(body.contents[2].parts[0].functionResponse.name, 'lookup');
  assert.deepEqual(body.contents[2].parts[0].functionResponse.response, { temp: 20 });
});

test('Gemini 3 thought signatures survive a tool loop through the OpenAI door', async () => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'weather in Paris?' }];
  const first = await client.chat.completions.create({
    model,
    messages,
    tools: [tool],
    reasoning: { effort: 'low' },
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  const msg = first.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_details: Details };
  const call = msg.tool_calls![0];
  const sig = msg.reasoning_details.find((d) => d.type === 'reasoning.encrypted' && d.id === call.id);
  assert.ok(sig?.data, 'signature tied to the tool call');
  assert.equal(sig.format, 'google-gemini-v1');
  messages.push(msg, { role: 'tool', tool_call_id: call.id, content: 'sunny' });
  const second = await client.chat.completions.create({
    model,
    messages,
    tools: [tool],
    reasoning: { effort: 'low' },
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  assert.match(second.choices[0].message.content ?? '', /Tool result received/);
  const replayed = stack.gemini.last().body.contents[1].parts.find((p: { functionCall?: unknown }) => p.functionCall);
  assert.equal(replayed.thoughtSignature, sig.data);
});

test('streamed thought signatures arrive in reasoning_details', async () => {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'weather?' }],
    tools: [tool],
    stream: true,
  });
  const details: Details = [];
  let id = '';
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta as { reasoning_details?: Details; tool_calls?: Array<{ id?: string }> } | undefined;
    details.push(...(d?.reasoning_details ?? []));
    id ||= d?.tool_calls?.[0]?.id ?? '';
  }
  assert.ok(id);
  assert.ok(details.some((d) => d.type === 'reasoning.encrypted' && d.id === id && d.data));
});
