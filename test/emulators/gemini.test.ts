/**
 * The Gemini emulator, driven by Google's own SDK: if @google/genai can talk to it, the wire format
 * is right.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type } from '@google/genai';
import type { Content } from '@google/genai';
import { startGeminiEmulator } from './gemini.ts';
import type { Emulator } from './common.ts';

describe('Gemini emulator (via @google/genai)', () => {
  let emu: Emulator;
  let ai: GoogleGenAI;

  before(async () => {
    emu = await startGeminiEmulator();
    ai = new GoogleGenAI({ apiKey: emu.apiKey, httpOptions: { baseUrl: emu.url } });
  });
  after(() => emu.close());

  const weatherTool = {
    functionDeclarations: [
      {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
      },
    ],
  };

  it('generateContent answers text with usage and the key in x-goog-api-key', async () => {
    const r = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Hi there',
      config: { systemInstruction: 'Be brief', temperature: 0.2, maxOutputTokens: 500 },
    });
    assert.equal(r.text, 'Hello from Gemini emulator! You said: Hi there');
    assert.equal(r.candidates?.[0].finishReason, 'STOP');
    assert.equal(r.modelVersion, 'gemini-2.5-flash');
    assert.ok(r.responseId);
    const u = r.usageMetadata!;
    assert.ok(u.promptTokenCount! > 0);
    assert.equal(u.totalTokenCount, u.promptTokenCount! + u.candidatesTokenCount!);
    assert.equal(u.thoughtsTokenCount, undefined);
    const req = emu.last();
    assert.equal(req.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(req.headers['x-goog-api-key'], emu.apiKey);
    assert.deepEqual(req.body.systemInstruction.parts, [{ text: 'Be brief' }]);
    assert.equal(req.body.generationConfig.temperature, 0.2);
  });

  it('accepts the key in the query string too', async () => {
    const res = await fetch(`${emu.url}/v1beta/models/gemini-2.5-flash:generateContent?key=${emu.apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'q' }] }] }),
    });
    assert.equal(res.status, 200);
  });

  it('truncates at maxOutputTokens with MAX_TOKENS', async () => {
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: '[[long]]', config: { maxOutputTokens: 5 } });
    assert.equal(r.candidates?.[0].finishReason, 'MAX_TOKENS');
    assert.equal(r.text?.length, 20);
  });

  it('generateContentStream streams text in several chunks and ends with finishReason and usage', async () => {
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Stream this please' });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.ok(chunks.length > 3);
    assert.equal(chunks.map((c) => c.text ?? '').join(''), 'Hello from Gemini emulator! You said: Stream this please');
    const last = chunks.at(-1)!;
    assert.equal(last.candidates?.[0].finishReason, 'STOP');
    assert.ok(last.usageMetadata?.candidatesTokenCount);
    assert.equal(chunks[0].candidates?.[0].finishReason, undefined);
    assert.match(emu.last().path, /:streamGenerateContent\?alt=sse$/);
  });

  it('waits with [[slow:ms]] and drops the stream with [[die:N]]', async () => {
    const t0 = Date.now();
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'wait [[slow:120]]' });
    assert.ok(Date.now() - t0 >= 110);
    const res = await fetch(`${emu.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': emu.apiKey },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'bye [[die:2]]' }] }] }),
    });
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
  });

  it('streams a JSON array without alt=sse', async () => {
    const res = await fetch(`${emu.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': emu.apiKey },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'array' }] }] }),
    });
    const arr = (await res.json()) as Array<{ candidates: Array<{ content: { parts: Array<{ text: string }> } }> }>;
    assert.ok(Array.isArray(arr) && arr.length > 1);
    assert.equal(arr.map((r) => r.candidates[0].content.parts[0].text).join(''), 'Hello from Gemini emulator! You said: array');
  });

  it('runs a function-call loop with thought signatures: replayed → accepted, missing → rejected', async () => {
    const config = { tools: [weatherTool], thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } };
    const first = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Weather in Paris?', config });
    const parts = first.candidates![0].content!.parts!;
    assert.equal(parts[0].thought, true);
    assert.match(parts[0].text!, /^Thinking about: Weather in Paris\?/);
    const calls = first.functionCalls!;
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'get_weather');
    assert.deepEqual(calls[0].args, { city: 'Paris' });
    assert.equal(first.candidates![0].finishReason, 'STOP');
    assert.equal(first.usageMetadata?.thoughtsTokenCount, 16);
    const callPart = parts.find((p) => p.functionCall)!;
    assert.ok(callPart.thoughtSignature);

    const history: Content[] = [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      first.candidates![0].content!,
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ];
    const second = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: history, config });
    assert.equal(second.text, 'Tool result received: {"temp":21}');
    assert.ok(second.candidates![0].content!.parts!.at(-1)!.thoughtSignature, 'a text answer carries a signature');

    const stripped: Content[] = structuredClone(history);
    for (const p of stripped[1].parts!) delete p.thoughtSignature;
    await assert.rejects(ai.models.generateContent({ model: 'gemini-2.5-flash', contents: stripped, config }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 400);
      assert.match(err.message, /Function call is missing a thought_signature/);
      assert.match(err.message, /INVALID_ARGUMENT/);
      return true;
    });

    const tampered: Content[] = structuredClone(history);
    tampered[1].parts!.find((p) => p.functionCall)!.thoughtSignature = 'bm90IGEgc2lnbmF0dXJl';
    await assert.rejects(
      ai.models.generateContent({ model: 'gemini-2.5-flash', contents: tampered, config }),
      /Corrupted thought signature/,
    );
  });

  it('gives parallel calls with [[parallel]], honours NONE and allowedFunctionNames', async () => {
    const two = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'go [[parallel]]',
      config: { tools: [weatherTool] },
    });
    assert.equal(two.functionCalls?.length, 2);
    assert.equal(two.candidates![0].content!.parts![0].thoughtSignature, undefined, 'no thinking, no signature');
    const none = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'go',
      config: { tools: [weatherTool], toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } } },
    });
    assert.equal(none.functionCalls, undefined);
    assert.match(none.text!, /You said: go/);
    const tools = [
      {
        functionDeclarations: [
          ...weatherTool.functionDeclarations,
          { name: 'get_time', parameters: { type: Type.OBJECT, properties: {} } },
        ],
      },
    ];
    const pick = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'go',
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: ['get_time'] } } },
    });
    assert.deepEqual(
      pick.functionCalls?.map((c) => c.name),
      ['get_time'],
    );
  });

  it('checks function response counts against the call turn', async () => {
    const contents: Content[] = [
      { role: 'user', parts: [{ text: 'x' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: {} } }, { functionCall: { name: 'get_weather', args: {} } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: {} } }] },
    ];
    await assert.rejects(ai.models.generateContent({ model: 'gemini-2.5-flash', contents }), /number of function response parts/);
  });

  it('answers JSON mode from the schema, or as {answer}', async () => {
    const r = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'json please',
      config: {
        responseMimeType: 'application/json',
        responseSchema: { type: Type.OBJECT, properties: { name: { type: Type.STRING }, age: { type: Type.INTEGER } } },
      },
    });
    assert.deepEqual(JSON.parse(r.text!), { name: 'name-value', age: 42 });
    const free = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'hi',
      config: { responseMimeType: 'application/json' },
    });
    assert.deepEqual(JSON.parse(free.text!), { answer: 'Hello from Gemini emulator! You said: hi' });
  });

  it('embeds deterministically (batch through the SDK), honouring outputDimensionality', async () => {
    const r = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['a', 'b', 'a'],
      config: { outputDimensionality: 8 },
    });
    const [a, b, a2] = r.embeddings!.map((e) => e.values!);
    assert.equal(a.length, 8);
    assert.deepEqual(a, a2);
    assert.notDeepEqual(a, b);
    assert.ok(Math.abs(a.reduce((s, v) => s + v * v, 0) - 1) < 1e-9);
    assert.match(emu.last().path, /gemini-embedding-001:batchEmbedContents$/);
    const full = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'x' });
    assert.equal(full.embeddings![0].values!.length, 3072);
  });

  it('counts tokens and lists models', async () => {
    const c = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'abcdefgh' });
    assert.equal(c.totalTokens, 2);
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name!);
    assert.deepEqual(names, [
      'models/gemini-2.5-flash',
      'models/gemini-2.5-pro',
      'models/gemini-3-pro-preview',
      'models/gemini-embedding-001',
    ]);
  });

  it('surfaces a bad key as HTTP 400 API_KEY_INVALID', async () => {
    const bad = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: emu.url } });
    await assert.rejects(bad.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 400);
      assert.match(err.message, /API key not valid/);
      assert.match(err.message, /API_KEY_INVALID/);
      return true;
    });
  });

  it('rejects bad roles and empty contents, and unknown models', async () => {
    const post = (body: unknown, model = 'gemini-2.5-flash') =>
      fetch(`${emu.url}/v1beta/models/${model}:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': emu.apiKey },
        body: JSON.stringify(body),
      });
    for (const role of ['system', 'assistant']) {
      const res = await post({ contents: [{ role, parts: [{ text: 'x' }] }] });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { status: string; message: string } };
      assert.equal(body.error.status, 'INVALID_ARGUMENT');
      assert.equal(body.error.message, 'Please use a valid role: user, model.');
    }
    assert.equal((await post({ contents: [] })).status, 400);
    const unknown = await post({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { max_tokens: 5 } });
    assert.equal(unknown.status, 400);
    const nf = await post({ contents: [{ parts: [{ text: 'x' }] }] }, 'does-not-exist');
    assert.equal(nf.status, 404);
    assert.equal(((await nf.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
  });

  it('scripts errors: 429 with RetryInfo, 503 overloaded, 500 internal', async () => {
    const err = async (contents: string) => {
      try {
        await ai.models.generateContent({ model: 'gemini-2.5-flash', contents });
      } catch (e) {
        return e as ApiError;
      }
      throw new Error('expected a failure');
    };
    const e429 = await err('[[error:429]]');
    assert.equal(e429.status, 429);
    assert.match(e429.message, /RESOURCE_EXHAUSTED/);
    assert.match(e429.message, /"retryDelay":"27s"/);
    const e503 = await err('[[error:503]]');
    assert.equal(e503.status, 503);
    assert.match(e503.message, /The model is overloaded/);
    assert.equal((await err('[[error:500]]')).status, 500);
  });

  it('google_search: the tool checked, the answer grounded in the documented shape, whole and streamed', async () => {
    const config = { tools: [{ googleSearch: {} }] };
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'news in Lyon', config });
    const g = r.candidates?.[0].groundingMetadata;
    assert.deepEqual(g?.webSearchQueries, ['news in Lyon']);
    assert.ok(g?.groundingChunks?.[0].web?.uri);
    assert.deepEqual(g?.groundingSupports?.[0].groundingChunkIndices, [0]);
    assert.ok(g?.searchEntryPoint?.renderedContent);
    const sentTools = emu.last().body.tools;
    assert.equal(sentTools.length, 1);

    let last: Awaited<ReturnType<typeof ai.models.generateContent>> | undefined;
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'news', config })) {
      last = chunk;
    }
    assert.deepEqual(last?.candidates?.[0].groundingMetadata?.webSearchQueries, ['news']);

    const raw = (tools: unknown) =>
      fetch(`${emu.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': emu.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }], tools }),
      });
    assert.equal((await raw([{ google_search: {} }])).status, 200, 'the snake_case spelling of proto JSON');
    const unknown = await raw([{ web_search: {} }]);
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /Unknown name "web_search" at 'tools\[0\]'/);
    const setting = await raw([{ google_search: { user_location: 'FR' } }]);
    assert.equal(setting.status, 400);
  });
});
