/**
 * Claude Code meets a conversation too long for its model: Freeway's 400 speaks Anthropic's words
 * ("prompt is too long: N tokens > M maximum"), so Claude Code knows it for what it is (its own
 * "Prompt is too long", the state it compacts from) rather than an unknown API failure. The model
 * here is given a 2,000-token context, which Claude Code's own system prompt and tools exceed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { claudeSession, findClaudeBinary } from '../helpers/claude-code.ts';
import type { ClaudeSession } from '../helpers/claude-code.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const found = findClaudeBinary();
const skip = 'skip' in found ? found.skip : false;

const YAML = `
models:
  test/tiny-context:
    name: "Test: a 2,000-token context"
    contextLength: 2000
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        supportsTools: true
        pricing: { prompt: "0.0000001", completion: "0.0000001" }
`;

let stack: Stack;
let cc: ClaudeSession;
before(async () => {
  if (skip) return;
  stack = await startStack({ yaml: YAML });
  cc = await claudeSession((found as { path: string }).path, { url: stack.gw.url, key: stack.key });
});
after(async () => {
  await cc?.close();
  await stack?.close();
});

test('a prompt past the context: Claude Code reports "Prompt is too long", and no upstream was called', { skip }, async () => {
  const from = stack.openai.requests.length;
  const r = await cc.run(['-p', 'Hello [[notool]] [[say:never seen]]', '--model', 'test/tiny-context']);
  assert.equal(r.json.is_error, true, JSON.stringify(r.json));
  assert.match(String(r.json.result), /prompt is too long/i, JSON.stringify(r.json));
  assert.equal(stack.openai.requests.length - from, 0, 'refused before any upstream call');
  assert.deepEqual(cc.outbound, []);
});
