/**
 * The OpenAI emulator, driven by the official `openai` SDK: if the SDK is happy with what the
 * emulator says, a gateway that speaks to it is being tested against OpenAI's real wire format.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { Emulator } from './common.ts';
import { embeddingVector, startOpenAIEmulator } from './openai.ts';

let emu: Emulator;
let client: OpenAI;

before(async () => {
  emu = await startOpenAIEmulator();
  client = new OpenAI({ apiKey: emu.apiKey, baseURL: `${emu.url}/v1`, maxRetries: 0 });
});

after(async () => {
  await emu.close();
});

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
    },
  },
};
const timeTool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

interface AssembledCall {
  id: string;
  name: string;
  arguments: string;
}

/** Assembles streamed tool-call fragments the way clients must: by `index`. */
function assembleToolCalls(chunks: ChatCompletionChunk[]): AssembledCall[] {
  const calls: AssembledCall[] = [];
  for (const chunk of chunks) {
    for (const frag of chunk.choices[0]?.delta.tool_calls ?? []) {
      if (frag.id !== undefined) {
        assert.equal(frag.type, 'function');
        assert.equal(frag.function?.arguments, '', 'the opening fragment carries empty arguments');
        calls[frag.index] = { id: frag.id, name: frag.function?.name ?? '', arguments: '' };
      } else {
        assert.equal(frag.function?.name, undefined, 'later fragments carry only arguments');
        calls[frag.index].arguments += frag.function?.arguments ?? '';
      }
    }
  }
  return calls;
}

test('non-streaming text: body, usage and headers like OpenAI', async () => {
  const { data, response, request_id } = await client.chat.completions
    .create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi there' },
      ],
    })
    .withResponse();
  const content = 'Hello from OpenAI emulator! You said: Hi there';
  assert.match(data.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.model, 'gpt-4o-mini');
  assert.match(data.system_fingerprint ?? '', /^fp_/);
  assert.ok(Math.abs(data.created - Date.now() / 1000) < 5);
  assert.deepEqual(data.choices, [
    { index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' },
  ]);
  // 'Be brief.' = 3 tokens, 'Hi there' = 2 tokens, plus 3 per message.
  assert.deepEqual(data.usage, {
    prompt_tokens: 11,
    completion_tokens: Math.ceil(content.length / 4),
    total_tokens: 11 + Math.ceil(content.length / 4),
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  });
  assert.match(response.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
  assert.equal(request_id, response.headers.get('x-request-id'));
  assert.match(response.headers.get('openai-processing-ms') ?? '', /^\d+$/);
  assert.equal(response.headers.get('x-ratelimit-limit-requests'), '10000');
  assert.ok(Number(response.headers.get('x-ratelimit-remaining-requests')) < 10000);
  assert.ok(Number(response.headers.get('x-ratelimit-remaining-tokens')) < Number(response.headers.get('x-ratelimit-limit-tokens')));
  assert.match(response.headers.get('x-ratelimit-reset-requests') ?? '', /^\d+(\.\d+)?m?s$/);
  assert.match(response.headers.get('x-ratelimit-reset-tokens') ?? '', /^\d+(\.\d+)?m?s$/);
  assert.equal(emu.last().headers.authorization, `Bearer ${emu.apiKey}`);
});

test('streaming text: role chunk, small deltas, finish chunk, no usage unless asked', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Stream me' }],
    stream: true,
  });
  const chunks = await collect(stream);
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null });
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(text, 'Hello from OpenAI emulator! You said: Stream me');
  assert.ok(chunks.length > 5, 'content arrives in several deltas');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  assert.ok(
    chunks.every((c) => !('usage' in c)),
    'no usage field without include_usage',
  );
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices[0].delta, {});
  assert.equal(last.choices[0].finish_reason, 'stop');
  assert.ok(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null));
});

test('streaming with include_usage: usage: null everywhere, then a choices: [] usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Count me' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = await collect(stream);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage?.prompt_tokens, 2 + 3);
  assert.equal(last.usage?.completion_tokens, Math.ceil('Hello from OpenAI emulator! You said: Count me'.length / 4));
  assert.equal(last.usage?.total_tokens, last.usage!.prompt_tokens + last.usage!.completion_tokens);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
  assert.equal(chunks.at(-2)!.choices[0].finish_reason, 'stop');
});

test('tool call, non-streaming, then the tool result gets a final answer', async () => {
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
  const first = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool, timeTool] });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  const calls = choice.message.tool_calls ?? [];
  assert.equal(calls.length, 1);
  const call = calls[0];
  assert.ok(call.type === 'function');
  assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', unit: 'celsius' });
  assert.equal(first.usage?.completion_tokens, Math.ceil(('get_weather' + call.function.arguments).length / 4));

  messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '18C and sunny' });
  const second = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool] });
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.content, 'Tool result received: 18C and sunny');
  assert.equal(second.choices[0].message.tool_calls, undefined);
});

test("the SDK's stream helper assembles a streamed tool call and text into final completions", async () => {
  const tools = client.chat.completions.stream({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'Weather? [[parallel]]' }],
    tools: [weatherTool],
  });
  const withTools = await tools.finalChatCompletion();
  assert.equal(withTools.choices[0].finish_reason, 'tool_calls');
  const calls = withTools.choices[0].message.tool_calls ?? [];
  assert.equal(calls.length, 2);
  for (const call of calls) assert.ok(call.type === 'function' && JSON.parse(call.function.arguments).city === 'Paris');

  const text = client.chat.completions.stream({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'Hello' }],
    stream_options: { include_usage: true },
  });
  const final = await text.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'Hello from OpenAI emulator! You said: Hello');
  assert.equal(final.usage?.prompt_tokens, 2 + 3);
});

test('tool_choice forces a tool; "none" and [[notool]] answer in text', async () => {
  const forced = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'What time?' }],
    tools: [weatherTool, timeTool],
    tool_choice: { type: 'function', function: { name: 'get_time' } },
  });
  const call = forced.choices[0].message.tool_calls?.[0];
  assert.ok(call?.type === 'function');
  assert.equal(call.function.name, 'get_time');
  for (const extra of [{ tool_choice: 'none' as const, text: 'hi' }, { text: 'hi [[notool]]' }]) {
    const r: OpenAI.ChatCompletion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: extra.text }],
      tools: [weatherTool],
      ...('tool_choice' in extra ? { tool_choice: extra.tool_choice } : {}),
    });
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.choices[0].message.content, 'Hello from OpenAI emulator! You said: hi');
  }
});

test('tool call, streaming: fragments assemble by index; the tool result streams back', async () => {
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather?' }];
  const chunks = await collect(
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [weatherTool], stream: true }),
  );
  const opening = chunks[0].choices[0].delta;
  assert.equal(opening.role, 'assistant');
  assert.equal(opening.content, null);
  assert.equal(opening.tool_calls?.[0].id?.startsWith('call_'), true);
  const calls = assembleToolCalls(chunks);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].arguments), { city: 'Paris', unit: 'celsius' });
  const argFragments = chunks.filter((c) => c.choices[0]?.delta.tool_calls?.[0]?.id === undefined && c.choices[0]?.delta.tool_calls);
  assert.ok(argFragments.length > 1, 'arguments arrive in several pieces');
  assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'tool_calls');

  messages.push({
    role: 'assistant',
    content: null,
    tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
  });
  messages.push({ role: 'tool', tool_call_id: calls[0].id, content: 'rainy' });
  const final = await collect(await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [weatherTool], stream: true }));
  assert.equal(final.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Tool result received: rainy');
});

test('[[parallel]]: two calls in one turn, streamed with indexes 0 and 1; parallel_tool_calls: false gives one', async () => {
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Both please [[parallel]]' }];
  const plain = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool, timeTool] });
  const ids = (plain.choices[0].message.tool_calls ?? []).map((c) => c.id);
  assert.equal(ids.length, 2);
  assert.notEqual(ids[0], ids[1]);

  const chunks = await collect(await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool], stream: true }));
  const calls = assembleToolCalls(chunks);
  assert.equal(calls.length, 2);
  for (const c of calls) assert.deepEqual(JSON.parse(c.arguments), { city: 'Paris', unit: 'celsius' });

  const single = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool], parallel_tool_calls: false });
  assert.equal(single.choices[0].message.tool_calls?.length, 1);
});

test('tool messages must answer a preceding tool call, as OpenAI insists', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'tool', tool_call_id: 'call_1', content: 'y' },
      ],
    }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /preceeding message with 'tool_calls'/.test(err.message),
  );
  await assert.rejects(
    client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'user', content: 'y' },
      ],
    }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && /did not have response messages: call_a/.test(err.message),
  );
});

test('response_format: json_schema and json_object', async () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] };
  const r = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Who?' }],
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
  });
  assert.deepEqual(JSON.parse(r.choices[0].message.content ?? ''), { name: 'name-value', age: 42 });

  const obj = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Answer in JSON' }],
    response_format: { type: 'json_object' },
  });
  assert.deepEqual(JSON.parse(obj.choices[0].message.content ?? ''), { answer: 'Hello from OpenAI emulator! You said: Answer in JSON' });

  await assert.rejects(
    client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      response_format: { type: 'json_object' },
    }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'messages',
  );
});

test('max_tokens below the reply length truncates with finish_reason length', async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me' }], max_tokens: 3 });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].message.content, 'Hello from O');
  assert.equal(r.usage?.completion_tokens, 3);

  const chunks = await collect(
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Tell me' }],
      max_completion_tokens: 2,
      stream: true,
    }),
  );
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello fr');
  assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'length');
});

test('reasoning models report reasoning tokens, reject max_tokens; reasoner models return reasoning_content', async () => {
  const gpt5 = await client.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'Think' }] });
  assert.equal(gpt5.usage?.completion_tokens_details?.reasoning_tokens, 16);
  const content = gpt5.choices[0].message.content ?? '';
  assert.equal(gpt5.usage?.completion_tokens, Math.ceil(content.length / 4) + 16);
  assert.equal('reasoning_content' in gpt5.choices[0].message, false);

  const effort = await client.chat.completions.create({
    model: 'gpt-5-mini',
    reasoning_effort: 'low',
    messages: [{ role: 'user', content: 'Hm' }],
  });
  assert.equal(effort.usage?.completion_tokens_details?.reasoning_tokens, 16);
  // As the real API: a model that does not reason refuses reasoning settings.
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', reasoning_effort: 'low', messages: [{ role: 'user', content: 'Hm' }] }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'unsupported_parameter' && err.param === 'reasoning_effort',
  );

  await assert.rejects(
    client.chat.completions.create({ model: 'o3-mini', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }),
    (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === 'unsupported_parameter' && err.param === 'max_tokens',
  );

  const reasoner = await client.chat.completions.create({ model: 'deepseek-reasoner', messages: [{ role: 'user', content: 'Why?' }] });
  const message = reasoner.choices[0].message as (typeof reasoner.choices)[0]['message'] & { reasoning_content?: string };
  assert.equal(message.reasoning_content, 'Thinking about: Why?');
  assert.equal(reasoner.usage?.completion_tokens_details?.reasoning_tokens, Math.ceil('Thinking about: Why?'.length / 4));

  const chunks = await collect(
    await client.chat.completions.create({ model: 'deepseek-reasoner', messages: [{ role: 'user', content: 'Why?' }], stream: true }),
  );
  const reasoning = chunks
    .map((c) => (c.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '')
    .join('');
  assert.equal(reasoning, 'Thinking about: Why?');
});

test('images are accepted and cost 85 prompt tokens each', async () => {
  const r = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ],
  });
  assert.equal(r.usage?.prompt_tokens, Math.ceil('What is this?'.length / 4) + 85 + 3);
  assert.equal(r.choices[0].message.content, 'Hello from OpenAI emulator! You said: What is this?');
});

test('prompt caching: a repeated 1024+ token prefix is reported in 128-token steps', async () => {
  const cacheEmu = await startOpenAIEmulator({ record: false });
  try {
    const c = new OpenAI({ apiKey: cacheEmu.apiKey, baseURL: `${cacheEmu.url}/v1`, maxRetries: 0 });
    const system = 'You are a meticulous assistant. '.repeat(160); // 5120 chars = 1280 tokens
    const ask = (q: string) =>
      c.chat.completions.create({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: q },
        ],
      });
    const first = await ask('first question');
    assert.equal(first.usage?.prompt_tokens_details?.cached_tokens, 0);
    const second = await ask('second question');
    // The shared prefix is the system message: 1280 + 3 tokens → 1280 cached.
    assert.equal(second.usage?.prompt_tokens_details?.cached_tokens, 1280);
    const repeat = await ask('second question');
    const total = repeat.usage!.prompt_tokens;
    assert.equal(repeat.usage?.prompt_tokens_details?.cached_tokens, Math.floor(total / 128) * 128);
    const short = await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'short' }] });
    const shortAgain = await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'short' }] });
    assert.equal(short.usage?.prompt_tokens_details?.cached_tokens, 0);
    assert.equal(shortAgain.usage?.prompt_tokens_details?.cached_tokens, 0, 'prompts under 1024 tokens are never cached');
  } finally {
    await cacheEmu.close();
  }
});

test('embeddings: deterministic unit vectors, as floats and as base64 through the SDK', async () => {
  const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float' });
  assert.equal(floats.object, 'list');
  assert.equal(floats.model, 'text-embedding-3-small');
  assert.equal(floats.data.length, 2);
  assert.deepEqual(
    floats.data.map((d) => [d.object, d.index]),
    [
      ['embedding', 0],
      ['embedding', 1],
    ],
  );
  const [a, b] = floats.data.map((d) => d.embedding);
  assert.equal(a.length, 8);
  assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-6, 'L2-normalised');
  assert.notDeepEqual(a, b);
  // 'alpha' = 2 tokens, 'beta' = 1 token.
  assert.deepEqual(floats.usage, { prompt_tokens: 3, total_tokens: 3 });

  // Without encoding_format the SDK asks for base64 and decodes it itself: the vectors must agree.
  const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
  assert.equal(emu.last().body.encoding_format, 'base64');
  assert.deepEqual(
    decoded.data.map((d) => d.embedding),
    [a, b],
  );

  const raw = await client.embeddings.create({
    model: 'text-embedding-3-small',
    input: 'alpha',
    encoding_format: 'base64',
    dimensions: 16,
  });
  const b64 = raw.data[0].embedding as unknown as string;
  assert.equal(typeof b64, 'string');
  const buf = Buffer.from(b64, 'base64');
  assert.deepEqual(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4)), Array.from(embeddingVector('alpha', 16)));

  const tokens = await client.embeddings.create({ model: 'text-embedding-3-small', input: [[1, 2, 3]], encoding_format: 'float' });
  assert.equal(tokens.usage.prompt_tokens, 3);
});

test('models list', async () => {
  const ids: string[] = [];
  for await (const model of client.models.list()) {
    assert.equal(model.object, 'model');
    assert.equal(model.owned_by, 'system');
    ids.push(model.id);
  }
  assert.ok(['gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 'gpt-5-mini', 'o4-mini', 'text-embedding-3-small'].every((id) => ids.includes(id)));
  assert.ok(!ids.includes('gpt-4-32k'), 'a retired model is not listed');
  const one = await client.models.retrieve('gpt-4o');
  assert.equal(one.id, 'gpt-4o');
  await assert.rejects(client.models.retrieve('does-not-exist'), OpenAI.NotFoundError);
});

test('legacy completions: text_completion, prompt arrays, streaming', async () => {
  const r = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: ['One', 'Two'], max_tokens: 100 });
  assert.equal(r.object, 'text_completion');
  assert.match(r.id, /^cmpl-/);
  assert.deepEqual(
    r.choices.map((c) => [c.index, c.text, c.logprobs, c.finish_reason]),
    [
      [0, 'Hello from OpenAI emulator! You said: One', null, 'stop'],
      [1, 'Hello from OpenAI emulator! You said: Two', null, 'stop'],
    ],
  );
  assert.equal(r.usage?.prompt_tokens, 2);

  // OpenAI's legacy endpoint stops at 16 tokens unless max_tokens says otherwise.
  const capped = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'a fairly long prompt to answer' });
  assert.equal(capped.choices[0].finish_reason, 'length');
  assert.equal(capped.usage?.completion_tokens, 16);

  const stream = await client.completions.create({
    model: 'gpt-3.5-turbo-instruct',
    prompt: 'Go',
    max_tokens: 50,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish: string | null = null;
  let usage: unknown;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.text;
      finish = c.finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'Hello from OpenAI emulator! You said: Go');
  assert.equal(finish, 'stop');
  assert.deepEqual(usage, { prompt_tokens: 1, completion_tokens: 10, total_tokens: 11 });

  await assert.rejects(
    client.completions.create({ model: 'gpt-4o-mini', prompt: 'x' }),
    (err: unknown) => err instanceof OpenAI.NotFoundError && /chat model/.test(err.message),
  );
});

test('a wrong key is an AuthenticationError with the key masked; a missing one says so', async () => {
  const bad = new OpenAI({ apiKey: 'sk-proj-abcdefghijklmnop1234', baseURL: `${emu.url}/v1`, maxRetries: 0 });
  await assert.rejects(bad.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    assert.equal(err.type, 'invalid_request_error');
    assert.match(err.message, /Incorrect API key provided: sk-proj-\*{16}1234\./);
    return true;
  });
  const res = await fetch(`${emu.url}/v1/models`);
  assert.equal(res.status, 401);
  const body = (await res.json()) as { error: { message: string; code: unknown } };
  assert.match(body.error.message, /^You didn't provide an API key/);
  assert.equal(body.error.code, null);
});

test('[[error:N]] answers in OpenAI error format: 429 is a RateLimitError with retry headers', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi [[error:429]]' }] }),
    (err: unknown) => {
      assert.ok(err instanceof OpenAI.RateLimitError);
      assert.equal(err.code, 'rate_limit_exceeded');
      assert.match(err.message, /Rate limit reached for gpt-4o-mini/);
      assert.equal(err.headers.get('retry-after'), '1');
      assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
      return true;
    },
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi [[error:503]]' }] }),
    (err: unknown) => err instanceof OpenAI.InternalServerError && err.status === 503 && /engine is currently overloaded/.test(err.message),
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi [[error:500]]' }] }),
    (err: unknown) => err instanceof OpenAI.InternalServerError && err.type === 'server_error',
  );
  await assert.rejects(client.embeddings.create({ model: 'text-embedding-3-small', input: 'x [[error:429]]' }), OpenAI.RateLimitError);
});

test('validation errors: missing model/messages, unknown model, bad JSON, unknown route', async () => {
  const post = async (path: string, body: string) => {
    const res = await fetch(`${emu.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error: Record<string, unknown> } };
  };
  const noMessages = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o' }));
  assert.equal(noMessages.status, 400);
  assert.deepEqual(noMessages.body.error, {
    message: "Missing required parameter: 'messages'.",
    type: 'invalid_request_error',
    param: 'messages',
    code: 'missing_required_parameter',
  });
  const noModel = await post('/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }));
  assert.equal(noModel.status, 400);
  assert.equal(noModel.body.error.message, 'you must provide a model parameter');
  const badJson = await post('/v1/chat/completions', '{"model": ');
  assert.equal(badJson.status, 400);
  assert.match(String(badJson.body.error.message), /^We could not parse the JSON body of your request/);
  const route = await post('/v1/xyz', '{}');
  assert.equal(route.status, 404);
  assert.equal(route.body.error.message, 'Invalid URL (POST /v1/xyz)');

  await assert.rejects(
    client.chat.completions.create({ model: 'does-not-exist', messages: [{ role: 'user', content: 'x' }] }),
    (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found',
  );
});

test('chat refuses top-level fields OpenAI does not take, and service tiers it does not know, as the real API does', async () => {
  const post = async (body: object) => {
    const res = await fetch(`${emu.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], ...body }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error: Record<string, unknown> } };
  };
  for (const junk of ['plugins', 'provider', 'session_id', 'top_k', 'trace', 'reasoning']) {
    const r = await post({ [junk]: {} });
    assert.equal(r.status, 400, junk);
    const message = `Unrecognized request argument supplied: ${junk}`;
    assert.deepEqual(r.body.error, { message, type: 'invalid_request_error', param: null, code: null });
  }
  const fast = await post({ service_tier: 'fast' });
  assert.equal(fast.status, 400);
  assert.equal(fast.body.error.param, 'service_tier');
  // Everything OpenAI documents is accepted, and the tier asked for is the tier reported.
  const ok = await post({
    service_tier: 'flex',
    prediction: { type: 'content', content: 'x' },
    verbosity: 'medium',
    prompt_cache_key: 'k',
    metadata: { a: 'b' },
    store: false,
    safety_identifier: 'u',
  });
  assert.equal(ok.status, 200);
  // Web search only on the search models, as OpenAI's chat completions do.
  const search = await post({ web_search_options: {} });
  assert.deepEqual([search.status, search.body.error.message], [400, 'Web search options not supported with this model.']);
  assert.equal((await post({ web_search_options: {}, model: 'gpt-4o-search-preview' })).status, 200);
  assert.equal(ok.body.service_tier, 'flex');
  assert.equal((await post({ service_tier: 'auto' })).body.service_tier, 'default');
});

test('[[slow:ms]] delays the response headers', async () => {
  const t0 = performance.now();
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi [[slow:120]]' }] });
  assert.ok(performance.now() - t0 >= 115);
});

test('[[die:2]] and [[malformed]] make the SDK stream throw', async () => {
  const died = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi [[die:2]]' }],
    stream: true,
  });
  const seen: ChatCompletionChunk[] = [];
  await assert.rejects(async () => {
    for await (const chunk of died) seen.push(chunk);
  });
  assert.equal(seen.length, 2, 'the two frames before the drop arrive');
  assert.equal(seen[0].choices[0].delta.role, 'assistant');

  const broken = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi [[malformed]]' }],
    stream: true,
  });
  await assert.rejects(async () => {
    for await (const _ of broken) void _;
  });
});

test('[[fail:3]] ends the stream with an in-band error event, which the SDK raises with its message', async () => {
  const failed = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: '[[long]] [[fail:3]]' }],
    stream: true,
  });
  const seen: ChatCompletionChunk[] = [];
  await assert.rejects(
    async () => {
      for await (const chunk of failed) seen.push(chunk);
    },
    (err: Error) => /The server had an error while processing your request/.test(err.message),
  );
  assert.equal(seen.length, 3, 'the chunks before the error arrive');
});

test('[[bytes:N]]: a reply of exactly N characters, streamed in 4 KiB deltas the SDK reassembles', async () => {
  const N = 300_000;
  const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `big [[bytes:${N}]]` }] });
  assert.equal(whole.choices[0]!.message.content!.length, N);
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: `big [[bytes:${N}]]` }],
  });
  let text = '';
  let largest = 0;
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta.content ?? '';
    largest = Math.max(largest, piece.length);
    text += piece;
  }
  assert.equal(text, whole.choices[0]!.message.content);
  assert.equal(largest, 4096);
});

test('a top-level field OpenAI does not document is a 400, as OpenAI answers it (chat and legacy completions)', async () => {
  const post = async (path: string, body: object) => {
    const res = await fetch(`${emu.url}/v1/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: object } };
  };
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
  const unknown = (field: string) => ({
    error: { message: `Unrecognized request argument supplied: ${field}`, type: 'invalid_request_error', param: null, code: null },
  });
  assert.deepEqual(await post('chat/completions', { ...chat, client_metadata: { a: 'b' } }), {
    status: 400,
    body: unknown('client_metadata'),
  });
  assert.deepEqual(await post('chat/completions', { ...chat, thinking: { type: 'enabled' } }), { status: 400, body: unknown('thinking') });
  const documented = {
    ...chat,
    prompt_cache_key: 'k',
    verbosity: 'low',
    service_tier: 'auto',
    safety_identifier: 'u',
    metadata: { a: 'b' },
  };
  assert.equal((await post('chat/completions', documented)).status, 200);
  const legacy = { model: 'gpt-3.5-turbo-instruct', prompt: 'hi' };
  assert.deepEqual(await post('completions', { ...legacy, messages: [] }), { status: 400, body: unknown('messages') });
  assert.equal((await post('completions', { ...legacy, suffix: '.', echo: false })).status, 200);
});
