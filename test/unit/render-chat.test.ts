/**
 * Rendering a whole answer passed on from an OpenAI-compatible upstream: Freeway's fields replace
 * the upstream's, everything else stays, and `reasoning.exclude` still leaves the reasoning out.
 * And where a stream's closing chunks put the usage, and how the door reads the request's ask.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChatCompletion } from '../../src/doors/openai/render-chat.ts';
import { ChatChunkRenderer } from '../../src/doors/openai/render-chat-stream.ts';
import { parseChatRequest } from '../../src/doors/openai/parse-chat-request.ts';
import { NO_CHARGE } from '../../src/accounting/charge.ts';
import { emptyUsage } from '../../src/spec/response.ts';
import { convertOpenAIResponse } from '../../src/providers/openai-compatible/convert-response.ts';
import { assertOpenRouterShape, sseData } from '../helpers/openrouter-schemas.ts';

// As OpenRouter (an OpenAI-compatible upstream) answers: reasoning with its details, logprobs.
const UPSTREAM = {
  id: 'gen-upstream-1',
  object: 'chat.completion',
  created: 1,
  model: 'upstream-model',
  system_fingerprint: 'fp_x',
  choices: [
    {
      index: 0,
      logprobs: { content: [{ token: 'Hi', logprob: -0.1 }] },
      finish_reason: 'stop',
      message: {
        role: 'assistant',
        content: 'Hi',
        reasoning: 'thinking',
        reasoning_details: [{ type: 'reasoning.text', text: 'thinking', signature: 'sig', format: 'anthropic-claude-v1', index: 0 }],
      },
    },
  ],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

const meta = { id: 'gen-freeway-1', created: 42, model: 'openrouter/some-model', providerName: 'OpenRouter' };

test('the upstream body is passed on with Freeway id, model, provider, finish reason and usage', () => {
  const result = convertOpenAIResponse(structuredClone(UPSTREAM), 'OpenRouter', {});
  assert.ok(result.openAIBody, 'an answer already in OpenRouter shape is passed on');
  const out = renderChatCompletion({ ...meta, excludeReasoning: false }, result, NO_CHARGE) as Record<string, any>;
  assert.equal(out.id, 'gen-freeway-1');
  assert.equal(out.created, 42);
  assert.equal(out.model, 'openrouter/some-model');
  assert.equal(out.provider, 'OpenRouter');
  assert.equal(out.system_fingerprint, 'fp_x');
  assert.deepEqual(out.choices[0].logprobs, UPSTREAM.choices[0].logprobs);
  assert.equal(out.choices[0].native_finish_reason, 'stop');
  assert.deepEqual(out.choices[0].message.reasoning_details, UPSTREAM.choices[0].message.reasoning_details);
  assert.equal(out.usage.prompt_tokens, 3);
  assert.equal(out.usage.cost, 0);
});

test('reasoning.exclude removes the reasoning from a passed-on body', () => {
  const result = convertOpenAIResponse(structuredClone(UPSTREAM), 'OpenRouter', {});
  const out = renderChatCompletion({ ...meta, excludeReasoning: true }, result, NO_CHARGE) as Record<string, any>;
  assert.equal(out.choices[0].message.reasoning, null);
  assert.equal(out.choices[0].message.reasoning_details, undefined);
  assert.equal(out.choices[0].message.content, 'Hi');
});

test('an answer that needs normalising is not passed on', () => {
  const deepseek = structuredClone(UPSTREAM) as Record<string, any>;
  deepseek.choices[0].message = { role: 'assistant', content: 'Hi', reasoning_content: 'thinking' };
  assert.equal(convertOpenAIResponse(deepseek, 'DeepSeek', { reasoningField: 'reasoning_content' }).openAIBody, undefined);
  const twoChoices = structuredClone(UPSTREAM) as Record<string, any>;
  twoChoices.choices.push({ ...twoChoices.choices[0], index: 1 });
  assert.equal(convertOpenAIResponse(twoChoices, 'OpenRouter', {}).openAIBody, undefined);
});

test("OpenRouter's schema holds for a passed-on answer and chunk whatever the upstream's fingerprint", () => {
  // A whole answer must carry system_fingerprint (null when unknown); a chunk must not carry null.
  const { system_fingerprint: _fp, ...bare } = structuredClone(UPSTREAM);
  // Logprobs as OpenAI sends them in full (the fixture above abbreviates them).
  bare.choices[0].logprobs.content[0] = Object.assign(bare.choices[0].logprobs.content[0], { bytes: [72, 105], top_logprobs: [] });
  const result = convertOpenAIResponse(bare, 'OpenRouter', {});
  const out = renderChatCompletion({ ...meta, excludeReasoning: false }, result, NO_CHARGE);
  assert.equal(out.system_fingerprint, null);
  assertOpenRouterShape('chat.completions', out);
  const renderer = new ChatChunkRenderer({ ...meta, excludeReasoning: false });
  const upstreamChunk = {
    id: 'x',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    system_fingerprint: null,
    choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
  };
  const frames = [renderer.chunk(upstreamChunk, [{ type: 'text', text: 'Hi' }]), renderer.event({ type: 'text', text: '!' })].join('');
  for (const chunk of sseData(frames)) {
    assert.ok(!('system_fingerprint' in (chunk as object)));
    assertOpenRouterShape('chat.completions.chunk', chunk);
  }
});

test('the closing chunks: usage with the finish reason by default, on a chunk of its own (choices []) with include_usage', () => {
  const stop = { unified: 'stop', raw: 'stop' } as const;
  const usage = { ...emptyUsage(), inputTokens: 3, outputTokens: 2 };
  const close = (includeUsage: boolean) => {
    const renderer = new ChatChunkRenderer({ ...meta, excludeReasoning: false, includeUsage, warnings: ['door'] });
    const text = renderer.final(stop, usage, NO_CHARGE, { serviceTier: 'default' });
    assert.match(text, /\n\ndata: \[DONE\]\n\n$/);
    return sseData(text) as Record<string, any>[];
  };
  const [together, ...none] = close(false);
  assert.deepEqual(none, []);
  assert.equal(together.choices[0].finish_reason, 'stop');
  assert.equal(together.usage.completion_tokens, 2);
  assert.deepEqual(together.warnings, ['door']);
  const [finish, apart, ...more] = close(true);
  assert.deepEqual(more, []);
  assert.equal(finish.choices[0].finish_reason, 'stop');
  assert.equal(finish.usage, undefined);
  assert.deepEqual(finish.warnings, ['door'], 'warnings ride on the first frame out');
  assert.deepEqual(apart.choices, []);
  assert.deepEqual(apart.usage, together.usage);
  assert.equal(apart.warnings, undefined);
  assert.equal(apart.service_tier, 'default');
  assert.equal(apart.id, finish.id);
  for (const chunk of [together, finish, apart]) assertOpenRouterShape('chat.completions.chunk', chunk);
});

test('stream_options.include_usage is read strictly, its other keys ignored', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true };
  const ask = (stream_options: unknown) => parseChatRequest({ ...base, stream_options }).request.includeUsage;
  assert.equal(ask({ include_usage: true, include_obfuscation: false }), true);
  assert.equal(ask({ include_usage: false }), undefined);
  assert.equal(ask({}), undefined);
  assert.equal(ask(null), undefined);
  assert.equal(parseChatRequest(base).request.includeUsage, undefined);
  assert.throws(() => ask({ include_usage: 'yes' }), /stream_options\.include_usage/);
  assert.throws(() => ask('usage'), /stream_options/);
});

test("an upstream's reasoning.text with text null (OpenRouter's shape) is read as empty thinking, its signature kept", () => {
  const result = convertOpenAIResponse(
    {
      id: 'gen-1',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: {
            role: 'assistant',
            content: 'ok',
            reasoning_details: [{ type: 'reasoning.text', text: null, signature: 'sig-1', format: 'anthropic-claude-v1', index: 0 }],
          },
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    },
    'OpenRouter',
    {},
  );
  assert.deepEqual(result.reasoning, [{ type: 'reasoning.text', text: '', signature: 'sig-1', format: 'anthropic-claude-v1', index: 0 }]);
});
