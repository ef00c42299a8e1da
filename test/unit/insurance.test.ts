/**
 * Zero-completion insurance asks whether the client received anything, not whether there were
 * completion tokens: an embedding has none, and is charged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generated, isInsured } from '../../src/gateway/tracker.ts';

test('insured: an error, an error finish, or nothing produced', () => {
  assert.equal(isInsured({ produced: true, finishReason: 'stop', error: 'boom' }), true);
  assert.equal(isInsured({ produced: true, finishReason: 'error' }), true);
  assert.equal(isInsured({ produced: false, finishReason: null }), true);
});

test('charged: anything produced (an embedding with vectors has no completion tokens and no finish)', () => {
  assert.equal(isInsured({ produced: true, finishReason: null }), false);
  assert.equal(isInsured({ produced: true, finishReason: 'stop' }), false);
});

test('a client that cancels pays for what was produced, even nothing yet', () => {
  assert.equal(isInsured({ produced: false, finishReason: null, cancelled: true }), false);
});

test('a generation produced something when it has output tokens or ran to a finish', () => {
  assert.equal(generated({ outputTokens: 0 }, null), false);
  assert.equal(generated({ outputTokens: 3 }, null), true);
  assert.equal(generated({ outputTokens: 0 }, 'stop'), true);
});
