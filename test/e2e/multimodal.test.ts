/**
 * Image content parts reach each upstream in its own form.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const content: OpenAI.ChatCompletionContentPart[] = [
  { type: 'text', text: 'What is in this image?' },
  { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
];

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

test('OpenAI gets the image_url part unchanged', async () => {
  await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content }] });
  const part = stack.openai.last().body.messages[0].content[1];
  assert.deepEqual(part, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } });
});

test('Anthropic gets a base64 image block', async () => {
  await client.chat.completions.create({ model: MODELS.anthropic, messages: [{ role: 'user', content }] });
  const part = stack.anthropic.last().body.messages[0].content[1];
  assert.deepEqual(part, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } });
});

test('Gemini gets inlineData', async () => {
  await client.chat.completions.create({ model: MODELS.google, messages: [{ role: 'user', content }] });
  const parts = stack.gemini.last().body.contents[0].parts;
  assert.deepEqual(parts[1], { inlineData: { mimeType: 'image/png', data: PNG } });
});

test('a non-URL image is refused with the field named', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: MODELS.openai,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }],
    }),
    (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && /messages\[0\]\.content\[0\]\.image_url\.url/.test(e.message),
  );
});
