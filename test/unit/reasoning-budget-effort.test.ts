/**
 * A thinking budget sent to a model that takes only an effort (OpenAI's `reasoning_effort`): OpenRouter's
 * rule is that the budget determines the effort by its share of the output cap (high ≈ 80%, medium ≈ 50%,
 * low ≈ 20%). Anthropic-style clients (OpenClaw's Anthropic provider, Claude Code) send only budgets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toOpenAIChatBody } from '../../src/providers/openai-compatible/convert-request.ts';
import type { ChatRequest, ReasoningRequest } from '../../src/spec/request.ts';
import { effortForBudget } from '../../src/spec/reasoning-budget.ts';

function effortSent(reasoning: ReasoningRequest, maxTokens?: number): unknown {
  const req: ChatRequest = {
    model: 'openai/gpt-5-mini',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    stream: false,
    reasoning,
    ...(maxTokens !== undefined ? { maxTokens } : {}),
  };
  const warnings: string[] = [];
  const body = toOpenAIChatBody(req, 'gpt-5-mini', {}, warnings);
  if (reasoning.maxTokens !== undefined) assert.ok(warnings.some((w) => w.includes('reasoning.max_tokens was mapped')));
  return body.reasoning_effort;
}

test('a budget alone is the effort its share of the output cap stands for', () => {
  assert.equal(effortSent({ maxTokens: 2048 }, 8192), 'low', '25%: OpenClaw’s Anthropic provider at thinking "low"');
  assert.equal(effortSent({ maxTokens: 1024 }, 32_000), 'low', 'below low’s share is still low (minimal is not every model’s)');
  assert.equal(effortSent({ maxTokens: 4000 }, 8000), 'medium');
  assert.equal(effortSent({ maxTokens: 5000 }, 8000), 'medium');
  assert.equal(effortSent({ maxTokens: 6000 }, 8000), 'high');
  assert.equal(effortSent({ maxTokens: 32_000 }, 16_000), 'high', 'more than the cap is high (xhigh is not every model’s)');
});

test('without an output cap, or with an effort or only `enabled`, the budget decides nothing', () => {
  assert.equal(effortSent({ maxTokens: 2048 }), 'medium', 'no cap: no share, OpenAI’s default');
  assert.equal(effortSent({ enabled: true }, 8192), 'medium');
  assert.equal(effortSent({ effort: 'high' }, 8192), 'high');
  assert.equal(effortForBudget(100, 0), 'medium');
});
