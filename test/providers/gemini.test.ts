/**
 * The Gemini adapter against the Gemini emulator over real HTTP: what goes on the wire, what comes
 * back, streaming, and failures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { geminiAdapter } from '../../src/providers/google/adapter.ts';
import { GatewayError } from '../../src/spec/errors.ts';
import type { AssistantMessage, ChatRequest, Message, ToolDefinition, UserMessage } from '../../src/spec/request.ts';
import type { ChatResult, StreamEvent } from '../../src/spec/response.ts';
import type { CallContext, ProviderInstance, Target } from '../../src/providers/types.ts';
import { startGeminiEmulator } from '../emulators/gemini.ts';
import type { Emulator } from '../emulators/common.ts';

let emu: Emulator;
before(async () => {
  emu = await startGeminiEmulator();
});
after(() => emu.close());

const provider = (apiKey = emu.apiKey): ProviderInstance => ({
  id: 'google',
  name: 'Google AI Studio',
  protocol: 'gemini',
  baseUrl: `${emu.url}/v1beta`,
  apiKey,
  headers: {},
  quirks: {},
});
const target = (model = 'gemini-2.5-flash', apiKey?: string): Target => ({ provider: provider(apiKey), model });
const ctx = (signal = new AbortController().signal): CallContext => ({ signal });
const user = (text: string): UserMessage => ({ role: 'user', content: [{ type: 'text', text }] });
const request = (messages: Message[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'google/gemini-2.5-flash',
  messages,
  stream: false,
  ...extra,
});
const assistantOf = (r: ChatResult): AssistantMessage => ({
  role: 'assistant',
  content: r.text ? [{ type: 'text', text: r.text }] : [],
  toolCalls: r.toolCalls,
  reasoning: r.reasoning,
});
const weather: ToolDefinition = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a failure');
}

describe('Gemini adapter: chat', () => {
  it('sends system instructions, roles, generation config and the key header; reads text and usage', async () => {
    const r = await geminiAdapter.chat(
      request(
        [
          { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
          user('Hi'),
          { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }], toolCalls: [], reasoning: [] },
          { role: 'system', content: [{ type: 'text', text: 'Be kind.' }] },
          user('How are you?'),
        ],
        {
          temperature: 0.3,
          topP: 0.9,
          topK: 40,
          maxTokens: 200,
          stop: ['END'],
          seed: 7,
          presencePenalty: 0.1,
          frequencyPenalty: 0.2,
          minP: 0.1,
        },
      ),
      target(),
      ctx(),
    );
    assert.equal(r.text, 'Hello from Gemini emulator! You said: How are you?');
    assert.deepEqual(r.finish, { unified: 'stop', raw: 'STOP' });
    assert.ok(r.upstreamId);
    assert.ok(r.usage.inputTokens > 0);
    assert.equal(r.usage.outputTokens, Math.ceil(r.text.length / 4));
    assert.equal(r.usage.reasoningTokens, 0);
    assert.deepEqual(r.warnings, ['min_p is not supported by Gemini and was dropped']);

    const sent = emu.last();
    assert.equal(sent.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(sent.headers['x-goog-api-key'], emu.apiKey);
    assert.deepEqual(sent.body.systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'Be kind.' }] });
    assert.deepEqual(
      sent.body.contents.map((c: { role: string }) => c.role),
      ['user', 'model', 'user'],
    );
    assert.deepEqual(sent.body.generationConfig, {
      temperature: 0.3,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 200,
      stopSequences: ['END'],
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
    });
  });

  it('runs a tool loop with thought signatures replayed and accepted', async () => {
    const tools = [weather];
    const reasoning = { effort: 'high' as const };
    const first = await geminiAdapter.chat(request([user('Weather in Paris?')], { tools, reasoning, maxTokens: 1000 }), target(), ctx());
    let sent = emu.last().body;
    assert.deepEqual(sent.generationConfig.thinkingConfig, { thinkingBudget: 800, includeThoughts: true });
    assert.deepEqual(sent.tools[0].functionDeclarations[0], {
      name: 'get_weather',
      description: 'Weather for a city',
      parametersJsonSchema: weather.parameters,
    });
    assert.equal(first.toolCalls.length, 1);
    const call = first.toolCalls[0];
    assert.match(call.id, /^call_[A-Za-z0-9_-]{16}$/);
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, '{"city":"Paris"}');
    assert.deepEqual(first.finish, { unified: 'tool_calls', raw: 'STOP' });
    assert.equal(first.reasoning.length, 2);
    assert.deepEqual(first.reasoning[0], { type: 'reasoning.text', text: 'Thinking about: Weather in Paris?', format: 'google-gemini-v1' });
    const sig = first.reasoning[1];
    assert.equal(sig.type, 'reasoning.encrypted');
    assert.equal(sig.id, call.id);
    assert.equal(sig.format, 'google-gemini-v1');
    assert.equal(first.usage.reasoningTokens, 16);
    const raw = first.usage.raw as { candidatesTokenCount: number; thoughtsTokenCount: number };
    assert.equal(raw.thoughtsTokenCount, 16);
    assert.equal(first.usage.outputTokens, raw.candidatesTokenCount + 16);

    const history: Message[] = [
      user('Weather in Paris?'),
      assistantOf(first),
      { role: 'tool', toolCallId: call.id, content: [{ type: 'text', text: '{"temp":21}' }] },
    ];
    const second = await geminiAdapter.chat(request(history, { tools, reasoning, maxTokens: 1000 }), target(), ctx());
    sent = emu.last().body;
    assert.deepEqual(sent.contents[1], {
      role: 'model',
      parts: [
        { text: 'Thinking about: Weather in Paris?', thought: true },
        {
          functionCall: { name: 'get_weather', args: { city: 'Paris' } },
          thoughtSignature: sig.type === 'reasoning.encrypted' ? sig.data : '',
        },
      ],
    });
    assert.deepEqual(sent.contents[2], { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] });
    assert.equal(second.text, 'Tool result received: {"temp":21}');
    assert.deepEqual(second.finish, { unified: 'stop', raw: 'STOP' });
    const textSig = second.reasoning.find((d) => d.type === 'reasoning.encrypted');
    assert.ok(textSig && textSig.id === undefined, 'a text answer carries an id-less signature');

    // The text signature goes back on the text part, and the emulator verifies it.
    const third = await geminiAdapter.chat(
      request([...history, assistantOf(second), user('Thanks')], { tools, reasoning, maxTokens: 1000 }),
      target(),
      ctx(),
    );
    sent = emu.last().body;
    const modelTurn = sent.contents[3];
    assert.equal(modelTurn.role, 'model');
    assert.equal(modelTurn.parts.at(-1).text, 'Tool result received: {"temp":21}');
    assert.equal(modelTurn.parts.at(-1).thoughtSignature, textSig.type === 'reasoning.encrypted' ? textSig.data : '');
    assert.equal(third.toolCalls.length, 1);
  });

  it('fills Google’s placeholder for a call that lost its signature, on every model that thinks (not on 2.0)', async () => {
    const history: Message[] = [
      user('Weather?'),
      { role: 'assistant', content: [], toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }], reasoning: [] },
      { role: 'tool', toolCallId: 'toolu_1', content: [{ type: 'text', text: 'sunny' }] },
    ];
    // Gemini 2.5 thinking (a budget set) and Gemini 3 (always thinking) check the call's signature.
    for (const [model, reasoning] of [
      [undefined, { maxTokens: 512 }],
      ['gemini-3-pro-preview', undefined],
    ] as const) {
      const r = await geminiAdapter.chat(request(history, { tools: [weather], reasoning }), target(model), ctx());
      const sent = emu.last().body;
      assert.equal(sent.contents[1].parts[0].thoughtSignature, 'skip_thought_signature_validator', String(model));
      assert.deepEqual(sent.contents[2].parts[0].functionResponse, { name: 'get_weather', response: { result: 'sunny' } });
      assert.equal(r.text, 'Tool result received: {"result":"sunny"}');
    }
    // Without the placeholder the emulator fails it as Gemini does (so the above proves the fill).
    const res = await fetch(`${emu.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': emu.apiKey },
      body: JSON.stringify({
        contents: [
          { role: 'user', parts: [{ text: 'Weather?' }] },
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: 'sunny' } } }] },
        ],
        generationConfig: { thinkingConfig: { thinkingBudget: 512 } },
      }),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /missing a thought_signature/);
  });

  it('sends no placeholder to a model that does not think (Gemini 2.0)', async () => {
    const history: Message[] = [
      user('Weather?'),
      { role: 'assistant', content: [], toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }], reasoning: [] },
      { role: 'tool', toolCallId: 'toolu_1', content: [{ type: 'text', text: 'sunny' }] },
    ];
    await geminiAdapter.chat(request(history, { tools: [weather] }), target('gemini-2.0-flash'), ctx());
    assert.equal(emu.last().body.contents[1].parts[0].thoughtSignature, undefined);
  });

  it('gives parallel calls distinct ids and merges their results into one user turn', async () => {
    const first = await geminiAdapter.chat(request([user('Both [[parallel]]')], { tools: [weather] }), target(), ctx());
    assert.equal(first.toolCalls.length, 2);
    assert.notEqual(first.toolCalls[0].id, first.toolCalls[1].id);
    assert.deepEqual(first.reasoning, [], 'no thinking configured, no signatures');
    const second = await geminiAdapter.chat(
      request(
        [
          user('Both [[parallel]]'),
          assistantOf(first),
          { role: 'tool', toolCallId: first.toolCalls[0].id, content: [{ type: 'text', text: '{"a":1}' }] },
          { role: 'tool', toolCallId: first.toolCalls[1].id, content: [{ type: 'text', text: '[1,2]' }] },
        ],
        { tools: [weather] },
      ),
      target(),
      ctx(),
    );
    const sent = emu.last().body;
    assert.equal(sent.contents.length, 3);
    assert.deepEqual(sent.contents[2].parts, [
      { functionResponse: { name: 'get_weather', response: { a: 1 } } },
      { functionResponse: { name: 'get_weather', response: { result: '[1,2]' } } },
    ]);
    assert.match(second.text, /^Tool result received:/);
  });

  it('maps tool choice, JSON schema output, images and files', async () => {
    const r = await geminiAdapter.chat(
      request(
        [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Look [[notool]]' },
              { type: 'image', data: 'aGVsbG8=', mediaType: 'image/png' },
              { type: 'image', url: 'https://example.com/cat.webp' },
              { type: 'image', url: 'https://example.com/photo' },
              { type: 'image', url: 'data:image/gif;base64,R0lG' },
              { type: 'file', url: 'https://example.com/doc.pdf', mediaType: 'application/pdf' },
            ],
          },
        ],
        {
          tools: [weather],
          toolChoice: { type: 'tool', name: 'get_weather' },
          responseFormat: { type: 'json_schema', name: 'out', schema: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      ),
      target(),
      ctx(),
    );
    const sent = emu.last().body;
    assert.deepEqual(sent.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    assert.equal(sent.generationConfig.responseMimeType, 'application/json');
    assert.deepEqual(sent.generationConfig.responseJsonSchema, { type: 'object', properties: { n: { type: 'integer' } } });
    assert.deepEqual(sent.contents[0].parts.slice(1), [
      { inlineData: { mimeType: 'image/png', data: 'aGVsbG8=' } },
      { fileData: { fileUri: 'https://example.com/cat.webp', mimeType: 'image/webp' } },
      { fileData: { fileUri: 'https://example.com/photo', mimeType: 'image/jpeg' } },
      { inlineData: { mimeType: 'image/gif', data: 'R0lG' } },
      { fileData: { fileUri: 'https://example.com/doc.pdf', mimeType: 'application/pdf' } },
    ]);
    assert.deepEqual(JSON.parse(r.text), { n: 42 });
    assert.ok(r.usage.inputTokens >= 5 * 258);

    await geminiAdapter.chat(request([user('x')], { tools: [weather], toolChoice: { type: 'required' } }), target(), ctx());
    assert.deepEqual(emu.last().body.toolConfig, { functionCallingConfig: { mode: 'ANY' } });
    await geminiAdapter.chat(request([user('x')], { tools: [weather], toolChoice: { type: 'none' } }), target(), ctx());
    assert.deepEqual(emu.last().body.toolConfig, { functionCallingConfig: { mode: 'NONE' } });
    await geminiAdapter.chat(
      request([user('x')], { responseFormat: { type: 'json_object' }, reasoning: { effort: 'none' } }),
      target(),
      ctx(),
    );
    assert.equal(emu.last().body.generationConfig.responseMimeType, 'application/json');
    assert.deepEqual(emu.last().body.generationConfig.thinkingConfig, { thinkingBudget: 0 });
  });

  it('reports truncation as length and implicit cache hits as cache reads', async () => {
    const cut = await geminiAdapter.chat(request([user('[[long]]')], { maxTokens: 10 }), target(), ctx());
    assert.deepEqual(cut.finish, { unified: 'length', raw: 'MAX_TOKENS' });
    assert.equal(cut.text.length, 40);

    const big = 'lorem ipsum '.repeat(400);
    const turn1 = await geminiAdapter.chat(request([user(big)]), target(), ctx());
    assert.equal(turn1.usage.cacheReadTokens, 0);
    const turn2 = await geminiAdapter.chat(request([user(big), assistantOf(turn1), user('more')]), target(), ctx());
    assert.equal(turn2.usage.cacheReadTokens, Math.ceil(big.length / 4));
    assert.ok(turn2.usage.inputTokens > turn2.usage.cacheReadTokens);
  });
});

describe('Gemini adapter: streaming', () => {
  it('streams text, then finish and usage', async () => {
    const events = await collect(await geminiAdapter.chatStream(request([user('Stream me')], { stream: true }), target(), ctx()));
    assert.match(emu.last().path, /:streamGenerateContent\?alt=sse$/);
    assert.equal(events[0].type, 'start');
    assert.ok(events[0].type === 'start' && events[0].upstreamId);
    const texts = events.filter((e) => e.type === 'text');
    assert.ok(texts.length > 3);
    assert.equal(texts.map((e) => (e.type === 'text' ? e.text : '')).join(''), 'Hello from Gemini emulator! You said: Stream me');
    assert.deepEqual(events.at(-2), { type: 'finish', finish: { unified: 'stop', raw: 'STOP' } });
    const last = events.at(-1)!;
    assert.equal(last.type, 'usage');
    assert.ok(last.type === 'usage' && last.usage.outputTokens > 0 && last.usage.inputTokens > 0);
  });

  it('streams thoughts, a whole function call and its signature', async () => {
    const events = await collect(
      await geminiAdapter.chatStream(
        request([user('Weather?')], { stream: true, tools: [weather], reasoning: { maxTokens: 2048 } }),
        target(),
        ctx(),
      ),
    );
    assert.deepEqual(emu.last().body.generationConfig.thinkingConfig, { thinkingBudget: 2048, includeThoughts: true });
    const thoughts = events.filter((e) => e.type === 'reasoning' && e.kind === 'reasoning.text');
    assert.ok(thoughts.length > 0 && thoughts.every((e) => e.type === 'reasoning' && e.index === 0));
    assert.equal(thoughts.map((e) => (e.type === 'reasoning' ? e.text : '')).join(''), 'Thinking about: Weather?');
    const start = events.find((e) => e.type === 'tool-call-start');
    assert.ok(start && start.type === 'tool-call-start');
    assert.equal(start.name, 'get_weather');
    assert.match(start.id, /^call_/);
    assert.deepEqual(
      events.find((e) => e.type === 'tool-call-delta'),
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":"Paris"}' },
    );
    const sig = events.find((e) => e.type === 'reasoning' && e.kind === 'reasoning.encrypted');
    assert.ok(sig && sig.type === 'reasoning' && sig.data && sig.id === start.id && sig.index === 1);
    assert.deepEqual(
      events.find((e) => e.type === 'finish'),
      { type: 'finish', finish: { unified: 'tool_calls', raw: 'STOP' } },
    );
    const usage = events.find((e) => e.type === 'usage');
    assert.ok(usage && usage.type === 'usage' && usage.usage.reasoningTokens === 16);
  });

  it('turns a dropped connection and a malformed chunk into error events', async () => {
    for (const directive of ['[[die:2]]', '[[malformed]]']) {
      const events = await collect(await geminiAdapter.chatStream(request([user(`x ${directive}`)], { stream: true }), target(), ctx()));
      assert.equal(events[0].type, 'start');
      const last = events.at(-1)!;
      assert.equal(last.type, 'error', directive);
      assert.ok(last.type === 'error' && last.error instanceof GatewayError);
      assert.ok(!events.some((e) => e.type === 'finish'), directive);
    }
  });

  it('rejects before streaming on an upstream error, and honours the abort signal', async () => {
    const err = await failure(geminiAdapter.chatStream(request([user('[[error:503]]')], { stream: true }), target(), ctx()));
    assert.equal(err.status, 503);

    const ac = new AbortController();
    const events: StreamEvent[] = [];
    for await (const e of await geminiAdapter.chatStream(request([user('[[long]]')], { stream: true }), target(), ctx(ac.signal))) {
      events.push(e);
      if (e.type === 'text') ac.abort();
    }
    const last = events.at(-1)!;
    assert.ok(last.type === 'error' && last.error.status === 499);
  });
});

describe('Gemini adapter: errors', () => {
  it('maps 429 with RetryInfo, 503, 404 and a bad key', async () => {
    const e429 = await failure(geminiAdapter.chat(request([user('[[error:429]]')]), target(), ctx()));
    assert.equal(e429.status, 429);
    assert.equal(e429.type, 'rate_limit_exceeded');
    assert.equal(e429.retryAfter, 27);
    assert.equal(e429.headers['retry-after'], '27');

    const e503 = await failure(geminiAdapter.chat(request([user('[[error:503]]')]), target(), ctx()));
    assert.equal(e503.status, 503);
    assert.match(e503.message, /The model is overloaded/);

    const e404 = await failure(geminiAdapter.chat(request([user('x')]), target('does-not-exist'), ctx()));
    assert.equal(e404.status, 404);

    const secret = 'AIzaSy-very-secret-key';
    const bad = await failure(geminiAdapter.chat(request([user('x')]), target('gemini-2.5-flash', secret), ctx()));
    assert.equal(bad.status, 502);
    assert.equal(bad.type, 'provider_unavailable');
    assert.match(bad.message, /rejected the API key Freeway is configured with/);
    assert.ok(!bad.message.includes(secret));
    assert.ok(!JSON.stringify(bad.metadata).includes(secret));
    assert.ok(!emu.last().path.includes(secret), 'the key never travels in the URL');
  });
});

describe('Gemini adapter: embeddings and models', () => {
  it('embeds through batchEmbedContents with dimensions, task type and base64', async () => {
    const t = target('gemini-embedding-001');
    const r = await geminiAdapter.embed!(
      { model: 'google/gemini-embedding-001', input: ['a', 'b'], dimensions: 16, inputType: 'search_query' },
      t,
      ctx(),
    );
    assert.equal(r.data.length, 2);
    assert.equal((r.data[0] as number[]).length, 16);
    assert.equal(r.upstreamModel, 'gemini-embedding-001');
    const sent = emu.last();
    assert.equal(sent.path, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
    assert.deepEqual(sent.body.requests[0], {
      model: 'models/gemini-embedding-001',
      content: { parts: [{ text: 'a' }] },
      taskType: 'RETRIEVAL_QUERY',
      outputDimensionality: 16,
    });
    const b64 = await geminiAdapter.embed!({ model: 'x', input: ['a'], dimensions: 16, encodingFormat: 'base64' }, t, ctx());
    const bytes = Buffer.from(b64.data[0] as string, 'base64');
    const floats = new Float32Array(new Uint8Array(bytes).buffer);
    assert.equal(floats.length, 16);
    assert.ok(Math.abs(floats[0] - (r.data[0] as number[])[0]) < 1e-6);

    const err = await failure(geminiAdapter.embed!({ model: 'x', input: [[1, 2]] }, t, ctx()));
    assert.equal(err.status, 400);
  });

  it('lists models without the models/ prefix', async () => {
    const ids = await geminiAdapter.listModels!(provider(), new AbortController().signal);
    assert.deepEqual(ids, ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-3-pro-preview', 'gemini-embedding-001']);
    assert.match(emu.last().path, /^\/v1beta\/models\?pageSize=1000$/);
  });
});
