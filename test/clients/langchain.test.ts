/**
 * LangChain (`@langchain/openai`, `@langchain/anthropic` and their peer `@langchain/core`, devDependencies)
 * in-process against Freeway, unchanged but for where it points:
 * - `ChatOpenAI` with `configuration: { baseURL: <freeway>/api/v1 }` on a GPT, a Claude and a Gemini
 *   model: invoke (content, response_metadata, usage_metadata), stream (chunks concatenate to the
 *   answer, usage on the stream), `bindTools` round trips whole and streamed, `withStructuredOutput`
 *   (a `json_schema` response_format), and a bad key, an unknown model and a connection lost mid-stream
 *   as LangChain's errors with the status and Freeway's message.
 * - `ChatAnthropic` with `anthropicApiUrl: <freeway>` (the SDK appends `/v1/messages`) on a Claude and a
 *   Gemini model: invoke, stream, and a tool round trip with extended thinking whose blocks (text and
 *   signature) reach LangChain's content and go back verified, from a whole and from a streamed step;
 *   a bad key.
 * LangChain and its SDKs call the global fetch: a guard on it refuses and records every host but loopback,
 * and keeps the bodies LangChain sent to Freeway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatAnthropic } from '@langchain/anthropic';
import { HumanMessage } from '@langchain/core/messages';
import type { AIMessage, AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { guardFetch } from '../helpers/loopback-fetch.ts';

// LangSmith tracing stays off whatever the environment says (it would post runs to its cloud).
process.env.LANGSMITH_TRACING = 'false';
process.env.LANGCHAIN_TRACING_V2 = 'false';

/** The usage object of Freeway's OpenAI-format answers, as LangChain keeps it in response_metadata. */
type Usage = { prompt_tokens: number; completion_tokens: number; cost: number };
/** What LangChain's errors carry (its SDK error, with LangChain's code added). */
type LangChainError = { status?: number; lc_error_code?: string; message: string; error?: { error?: { type?: string } } };
/** A block of ChatAnthropic's message content. */
type Block = { type: string; thinking?: string; signature?: string };

let stack: Stack;
const { sent, outbound } = guardFetch(() => stack?.gw.url);

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const weather = tool(async ({ city }) => JSON.stringify({ city, temp: 21 }), {
  name: 'weather',
  description: 'Weather in a city',
  schema: z.object({ city: z.string() }),
});

async function collect(stream: AsyncIterable<AIMessageChunk>): Promise<{ full: AIMessageChunk; chunks: AIMessageChunk[] }> {
  const chunks: AIMessageChunk[] = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.length > 0);
  return { full: chunks.reduce((a, b) => a.concat(b)), chunks };
}

/** The second step of a tool loop: `first` called the weather tool, its answer goes back as a ToolMessage. */
async function answerTool(llm: { invoke(m: BaseMessage[]): Promise<AIMessage> }, prompt: string, first: AIMessage): Promise<AIMessage> {
  assert.equal(first.tool_calls?.length, 1, JSON.stringify(first.content));
  const call = first.tool_calls[0];
  assert.equal(call.name, 'weather');
  assert.deepEqual(call.args, { city: 'Paris' });
  assert.ok(call.id);
  const result = await weather.invoke(call);
  assert.equal(result.tool_call_id, call.id);
  const second = await llm.invoke([new HumanMessage(prompt), first, result]);
  assert.equal(second.tool_calls?.length ?? 0, 0);
  assert.match(second.text, /"temp":21/, 'the emulators quote the tool result');
  return second;
}

/** A GPT, a Claude and a Gemini model, by the provider-prefixed ids OpenRouter clients use. */
const MODELS = ['openai/gpt-5-mini', 'anthropic/claude-sonnet-4-5', 'google/gemini-2.5-flash'];

const chatOpenAI = (model: string, fields: Record<string, unknown> = {}) =>
  new ChatOpenAI({ model, apiKey: stack.key, configuration: { baseURL: stack.baseURL }, maxRetries: 0, ...fields });

for (const model of MODELS) {
  describe(`ChatOpenAI → ${model}`, () => {
    test('invoke: content, response metadata and token usage', async () => {
      const r = await chatOpenAI(model).invoke('Hi. [[say:plain answer]]');
      assert.equal(r.content, 'plain answer');
      assert.equal(r.response_metadata.model_name, model);
      assert.equal(r.response_metadata.finish_reason, 'stop');
      const u = r.usage_metadata;
      assert.ok(u && u.input_tokens > 0 && u.output_tokens > 0, JSON.stringify(u));
      assert.equal(u.total_tokens, u.input_tokens + u.output_tokens);
      assert.deepEqual(r.response_metadata.tokenUsage, {
        promptTokens: u.input_tokens,
        completionTokens: u.output_tokens,
        totalTokens: u.total_tokens,
      });
      assert.ok((r.response_metadata.usage as Usage).cost > 0, 'OpenRouter-style cost reaches response_metadata');
    });

    test('stream: chunks concatenate to the answer, usage on the stream', async () => {
      const { full, chunks } = await collect(await chatOpenAI(model, { streamUsage: true }).stream('Hi [[long]]'));
      assert.equal(sent.at(-1)?.body.stream_options?.include_usage, true);
      assert.ok(chunks.length > 3, 'streamed in pieces');
      assert.equal(full.content, Array.from({ length: 200 }, (_, i) => `word${i}`).join(' '));
      assert.equal(full.response_metadata.finish_reason, 'stop');
      const u = full.usage_metadata;
      assert.ok(u && u.input_tokens > 0 && u.output_tokens > 0, JSON.stringify(u));
      assert.equal(u.total_tokens, u.input_tokens + u.output_tokens);
      // LangChain merges `usage` from every chunk that has it, choice chunks included: asked for with
      // include_usage, Freeway sends it once, apart (OpenAI's shape), so the merge counts it once.
      const usage = full.response_metadata.usage as Usage | undefined;
      assert.equal(usage?.prompt_tokens, u.input_tokens);
      assert.equal(usage?.completion_tokens, u.output_tokens);
    });

    test('bindTools: a tool call with its args, answered by a ToolMessage (whole, then streamed)', async () => {
      const llm = chatOpenAI(model).bindTools([weather]);
      const prompt = 'What is the weather in Paris?';
      await answerTool(llm, prompt, await llm.invoke([new HumanMessage(prompt)]));
      assert.equal(sent.at(-1)?.body.messages.at(-1).role, 'tool');
      const { full } = await collect(await llm.stream([new HumanMessage(prompt)]));
      assert.equal(full.response_metadata.finish_reason, 'tool_calls');
      await answerTool(llm, prompt, full);
    });

    test('withStructuredOutput: a zod schema as a json_schema response_format, parsed', async () => {
      const schema = z.object({ city: z.string(), temp: z.number() });
      const r = await chatOpenAI(model).withStructuredOutput(schema, { name: 'city_temp' }).invoke('A city and its temperature.');
      const format = sent.at(-1)?.body.response_format;
      assert.equal(format?.type, 'json_schema');
      assert.equal(format.json_schema.name, 'city_temp');
      // The emulators fill a schema's strings with the city they know and its numbers with 42.
      assert.deepEqual(r, { city: 'Paris', temp: 42 });
    });
  });
}

describe('ChatOpenAI: failures are LangChain errors with the status and Freeway’s message', () => {
  test('a bad key', async () => {
    await assert.rejects(chatOpenAI('openai/gpt-5-mini', { apiKey: 'sk-or-v1-not-a-key' }).invoke('hi'), (err: LangChainError) => {
      assert.equal(err.status, 401);
      assert.equal(err.lc_error_code, 'MODEL_AUTHENTICATION');
      assert.match(err.message, /^401 Invalid API key/);
      return true;
    });
  });

  test('an unknown model', async () => {
    await assert.rejects(chatOpenAI('nope/unknown-model').invoke('hi'), (err: LangChainError) => {
      assert.equal(err.status, 404);
      assert.equal(err.lc_error_code, 'MODEL_NOT_FOUND');
      assert.match(err.message, /^404 nope\/unknown-model is not a valid model ID/);
      return true;
    });
  });

  test('a connection lost mid-answer is an error from the stream, not a shorter answer', async () => {
    for (const model of MODELS) {
      let text = '';
      await assert.rejects(async () => {
        for await (const c of await chatOpenAI(model).stream('hi [[long]] [[die:4]]')) text += c.text;
      }, /closed the connection|ECONNRESET/);
      assert.ok(text.length > 0 && !text.includes('word199'), `${model}: the text so far, then the error`);
    }
  });
});

const chatAnthropic = (model: string, fields: Record<string, unknown> = {}) =>
  new ChatAnthropic({ model, apiKey: stack.key, anthropicApiUrl: stack.gw.url, maxRetries: 0, ...fields });

for (const model of ['anthropic/claude-sonnet-4-5', 'google/gemini-2.5-flash']) {
  describe(`ChatAnthropic → ${model}`, () => {
    test('invoke', async () => {
      const r = await chatAnthropic(model).invoke('Hi. [[say:plain answer]]');
      assert.equal(sent.at(-1)?.path, '/v1/messages');
      assert.equal(r.text, 'plain answer');
      assert.equal(r.response_metadata.model, model);
      assert.equal(r.response_metadata.stop_reason, 'end_turn');
      const u = r.usage_metadata;
      assert.ok(u && u.input_tokens > 0 && u.output_tokens > 0, JSON.stringify(u));
    });

    test('stream', async () => {
      const { full, chunks } = await collect(await chatAnthropic(model).stream('Hi [[long]]'));
      assert.ok(chunks.length > 3, 'streamed in pieces');
      assert.equal(full.text, Array.from({ length: 200 }, (_, i) => `word${i}`).join(' '));
      const u = full.usage_metadata;
      assert.ok(u && u.input_tokens > 0 && u.output_tokens > 0, JSON.stringify(u));
    });

    test('a tool round trip with extended thinking, from a whole and from a streamed step', async () => {
      const llm = chatAnthropic(model, { thinking: { type: 'enabled', budget_tokens: 1024 }, maxTokens: 2048 }).bindTools([weather]);
      const prompt = 'What is the weather in Paris?';
      const assertThinking = (m: AIMessage) => {
        const thinking = (m.content as Block[]).find((b) => b.type === 'thinking');
        assert.match(thinking?.thinking ?? '', /Paris/, JSON.stringify(m.content));
        assert.ok(thinking?.signature, 'the signature');
      };
      const first = await llm.invoke([new HumanMessage(prompt)]);
      assert.equal(sent.at(-1)?.body.thinking?.type, 'enabled');
      assertThinking(first);
      // The thinking goes back as it came (on Claude an altered signature is a 400).
      const second = await answerTool(llm, prompt, first);
      assert.deepEqual(sent.at(-1)?.body.messages[1].content[0], (first.content as Block[])[0]);
      assert.ok((second.content as Block[]).some((b) => b.type === 'thinking'));

      const { full } = await collect(await llm.stream([new HumanMessage(prompt)]));
      assertThinking(full);
      await answerTool(llm, prompt, full);
      const back = sent.at(-1)?.body.messages[1].content.find((b: Block) => b.type === 'thinking');
      assert.equal(back.signature, (full.content as Block[]).find((b) => b.type === 'thinking')?.signature);
    });
  });
}

test('ChatAnthropic: a bad key is a LangChain error with the status and Freeway’s message', async () => {
  await assert.rejects(
    chatAnthropic('anthropic/claude-sonnet-4-5', { apiKey: 'sk-or-v1-not-a-key' }).invoke('hi'),
    (err: LangChainError) => {
      assert.equal(err.status, 401);
      assert.equal(err.lc_error_code, 'MODEL_AUTHENTICATION');
      assert.match(err.message, /Invalid API key/);
      assert.equal(err.error?.error?.type, 'authentication_error', 'Anthropic’s error envelope, parsed');
      return true;
    },
  );
});

test('nothing LangChain did left loopback', () => {
  assert.ok(sent.length > 20, 'the guard saw the requests');
  assert.deepEqual(outbound, []);
});
