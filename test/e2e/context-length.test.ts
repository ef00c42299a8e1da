/**
 * A prompt longer than every endpoint's context is a 400 that says so, in each door's own words,
 * never a 404 "No endpoints found": on the OpenAI door OpenRouter's message with the counts in
 * metadata; on the Anthropic door Anthropic's "prompt is too long: N tokens > M maximum", which is
 * what Claude Code parses to compact the conversation and carry on. count_tokens still counts it:
 * counting is how a client learns it is too long.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
const contexts = new Map<string, number>();
before(async () => {
  stack = await startStack();
  const models = (await (await fetch(`${stack.baseURL}/models`)).json()) as { data: Array<{ id: string; context_length: number }> };
  for (const m of models.data) contexts.set(m.id, m.context_length);
});
after(() => stack.close());

/** Text of about 1.2× the model's context in tokens (Freeway estimates ~4 characters a token). */
function tooLongFor(model: string): string {
  const context = contexts.get(model);
  assert.ok(context && context > 0, `${model} has a context length`);
  return 'lorem ipsum '.repeat(Math.ceil((context * 4 * 1.2) / 12));
}

const post = (path: string, body: object, headers: Record<string, string> = {}) =>
  fetch(`${stack.gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

for (const stream of [false, true]) {
  test(`OpenAI door${stream ? ', streaming' : ''}: 400 context_length_exceeded with both counts`, async () => {
    const model = 'openai/gpt-4o-mini';
    const res = await post('/api/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: tooLongFor(model) }] });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { code: number; message: string; metadata: Record<string, unknown> } };
    assert.equal(error.code, 400);
    assert.equal(error.metadata.error_type, 'context_length_exceeded');
    assert.equal(error.metadata.max_context_tokens, contexts.get(model));
    assert.ok((error.metadata.prompt_tokens as number) > (contexts.get(model) ?? 0));
    assert.match(
      error.message,
      new RegExp(`maximum context length is ${contexts.get(model)} tokens\\. However, you requested about \\d+ tokens`),
    );
  });
}

for (const model of ['anthropic/claude-sonnet-4.5', 'openai/gpt-4o-mini']) {
  test(`Anthropic door, ${model}: Anthropic's "prompt is too long", as Claude Code parses it; count_tokens still counts`, async () => {
    const messages = [{ role: 'user', content: tooLongFor(model) }];
    const res = await post('/v1/messages', { model, max_tokens: 100, messages }, { 'anthropic-version': '2023-06-01' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    // Claude Code's own pattern for the counts it compacts by.
    const m = /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/.exec(body.error.message);
    assert.ok(m, body.error.message);
    assert.ok(Number(m[1]) > Number(m[2]));
    assert.equal(Number(m[2]), contexts.get(model));

    const count = await post('/v1/messages/count_tokens', { model, messages }, { 'anthropic-version': '2023-06-01' });
    assert.equal(count.status, 200);
    const { input_tokens } = (await count.json()) as { input_tokens: number };
    assert.ok(input_tokens > (contexts.get(model) ?? 0), `counted ${input_tokens}`);
  });
}

test("an upstream's own overflow (OpenAI's words, a translated request) reaches the Anthropic door as Anthropic says it", async () => {
  // [[error:400]]: the OpenAI emulator's context_length_exceeded (130000 tokens against 128000).
  const res = await post(
    '/v1/messages',
    { model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'hi [[error:400]]' }] },
    { 'anthropic-version': '2023-06-01' },
  );
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { type: string; message: string; metadata: Record<string, unknown> } };
  assert.equal(body.error.type, 'invalid_request_error');
  assert.equal(body.error.message, 'prompt is too long: 130000 tokens > 128000 maximum');
  assert.equal(body.error.metadata.error_type, 'context_length_exceeded');

  const chat = await post('/api/v1/chat/completions', {
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi [[error:400]]' }],
  });
  assert.equal(chat.status, 400);
  const { error } = (await chat.json()) as { error: { message: string; metadata: Record<string, unknown> } };
  assert.equal(error.metadata.error_type, 'context_length_exceeded');
  assert.match(error.message, /maximum context length is 128000 tokens/, "the provider's own words on the OpenAI door");
});

test('too long and asking too much output: the length decides (output alone would be fitted to the cap)', async () => {
  const model = 'openai/gpt-4o-mini';
  const res = await post('/api/v1/chat/completions', {
    model,
    max_tokens: 10_000_000,
    messages: [{ role: 'user', content: tooLongFor(model) }],
  });
  assert.equal(res.status, 400);
  const { error } = (await res.json()) as { error: { metadata: Record<string, unknown> } };
  assert.equal(error.metadata.error_type, 'context_length_exceeded');
});
