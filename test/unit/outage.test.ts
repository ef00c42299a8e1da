/**
 * One dependency's outage state (src/infra/outage.ts): one ERROR line when it starts, one INFO line when
 * it ends, and an operation that was already in flight when it began cannot end it (it would flap).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Outage } from '../../src/infra/outage.ts';
import type { Logger } from '../../src/log.ts';

function recorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

const messages = { down: (r: string) => `down: ${r}`, up: () => 'up again' };

test('an operation begun before the outage does not end it; one begun after does, once', async () => {
  const { log, lines } = recorder();
  const o = new Outage(messages, log);
  const inFlight = Date.now() - 5;
  assert.equal(o.markDown(new Error('ECONNREFUSED')), true);
  assert.equal(o.markUp(inFlight), false, 'a success that started before the outage says nothing about now');
  assert.equal(o.isDown, true);
  assert.equal(o.markDown(new Error('ECONNREFUSED')), false, 'still the same outage: no second ERROR line');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(o.markUp(Date.now()), true);
  assert.equal(o.markUp(Date.now()), false);
  assert.deepEqual(lines, ['error down: ECONNREFUSED', 'info up again']);
});

test('without a start time (a probe) the outage ends at once', () => {
  const o = new Outage(messages);
  o.markDown(new Error('x'));
  assert.equal(o.markUp(), true);
  assert.equal(o.isDown, false);
});
