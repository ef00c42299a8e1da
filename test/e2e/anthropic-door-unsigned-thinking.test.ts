/**
 * A conversation that holds thinking blocks without a signature (an answer cut inside its thinking and
 * carried on by another endpoint leaves one with the client): Anthropic refuses such a request, so the
 * Messages door leaves the blocks out and says so; when the tool call being answered lost its leading
 * thinking block, thinking is turned off for the request (Anthropic would refuse it otherwise).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

// any: wire bodies read field by field.
type Json = any;

async function post(body: Json): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack.gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': stack.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const cut = { type: 'thinking', thinking: 'Let me think about this and', signature: '' };
const tool = { name: 'read', description: 'Reads a file', input_schema: { type: 'object', properties: { path: { type: 'string' } } } };

describe('unsigned thinking blocks on the Messages door', () => {
  test('an earlier turn: the block is left out of what Anthropic gets, the answer says so', async () => {
    const r = await post({
      model: MODELS.anthropic,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: [cut, { type: 'text', text: 'Hello! How can I help?' }] },
        { role: 'user', content: 'tell me more' },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const sent = stack.anthropic.last().body;
    assert.deepEqual(sent.messages[1].content, [{ type: 'text', text: 'Hello! How can I help?' }]);
    assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 1024 }, 'thinking stays on: the last turn is not a tool loop');
    assert.match(String(r.body.warnings), /1 thinking block without a signature .* left out/);
  });

  test('the tool call being answered lost its thinking: thinking is off for this request, and said', async () => {
    const r = await post({
      model: MODELS.anthropic,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [tool],
      messages: [
        { role: 'user', content: 'read a.txt' },
        { role: 'assistant', content: [cut, { type: 'tool_use', id: 'toolu_01', name: 'read', input: { path: 'a.txt' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'contents' }] },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const sent = stack.anthropic.last().body;
    assert.equal(sent.thinking, undefined);
    assert.equal(sent.messages[1].content[0].type, 'tool_use');
    assert.match(String(r.body.warnings), /thinking turned off for this request/);
  });

  test('signed thinking is left as it is, with no warning', async () => {
    const first = await post({
      model: MODELS.anthropic,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const r = await post({
      model: MODELS.anthropic,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: first.body.content },
        { role: 'user', content: 'more' },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(stack.anthropic.last().body.messages[1].content, first.body.content);
    assert.equal(r.body.warnings, undefined);
  });
});
