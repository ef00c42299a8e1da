/**
 * An upstream whose connection drops while its answer streams is named for what happened, whichever
 * provider it is: it "closed the connection mid-stream" (it was reached; part of the answer is
 * already with the client), never "Could not reach", which means no answer started.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const providers = [
  { model: 'openai/gpt-4o-mini', name: 'OpenAI' },
  { model: 'anthropic/claude-sonnet-4-5', name: 'Anthropic' },
  { model: 'google/gemini-2.5-flash', name: 'Google' },
];

for (const { model, name } of providers) {
  test(`${model}: a connection lost mid-answer ends the stream with "${name} closed the connection mid-stream"`, async () => {
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'a long answer please [[long]] [[die:6]]' }] }),
    });
    assert.equal(res.status, 200);
    const chunks = (await res.text())
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)));
    assert.ok(
      chunks.some((c) => c.choices[0]?.delta?.content),
      'content streamed before the drop',
    );
    const last = chunks.at(-1);
    assert.equal(last.choices[0].finish_reason, 'error');
    assert.equal(last.error.code, 502);
    assert.match(last.error.message, new RegExp(`^${name}\\b.* closed the connection mid-stream`));
    assert.doesNotMatch(last.error.message, /Could not reach/);
  });
}
