/**
 * FairQueue: the serving order is round-robin across keys and FIFO within one, and `position`
 * predicts it exactly, whatever pushes and removals came before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue } from '../../src/limits/fair-queue.ts';

describe('FairQueue', () => {
  it('serves keys round-robin, each key FIFO', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 5; i++) q.push('A', `A${i}`);
    q.push('B', 'B0');
    q.push('B', 'B1');
    q.push('C', 'C0');
    const out: string[] = [];
    for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
    assert.deepEqual(out, ['A0', 'B0', 'C0', 'A1', 'B1', 'A2', 'A3', 'A4']);
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
  });

  it('predicts each item’s place in the serving order, whatever came before', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let trial = 0; trial < 50; trial++) {
      const q = new FairQueue<{ id: number; key: string }>();
      const live: Array<{ id: number; key: string }> = [];
      for (let step = 0; step < 60; step++) {
        const op = rand(10);
        if (op < 6) {
          const item = { id: step, key: `k${rand(4)}` };
          q.push(item.key, item);
          live.push(item);
        } else if (op < 8 && live.length > 0) {
          const item = live.splice(rand(live.length), 1)[0];
          assert.equal(q.remove(item.key, item), true);
          assert.equal(q.remove(item.key, item), false);
        } else if (live.length > 0) {
          const item = q.shift()!;
          live.splice(live.indexOf(item), 1);
        }
        assert.equal(q.size, live.length);
        if (live.length > 0) assert.equal(q.position(q.peek()!.key, q.peek()!), 1);
      }
      // Serve everything: each item comes out at the place predicted for it.
      const predicted = new Map(live.map((it) => [it, q.position(it.key, it)]));
      let n = 0;
      for (let x = q.shift(); x !== undefined; x = q.shift()) assert.equal(predicted.get(x), ++n);
      assert.equal(n, live.length);
    }
  });

  it('drains everything', () => {
    const q = new FairQueue<number>();
    q.push('a', 1);
    q.push('b', 2);
    assert.deepEqual(q.drain().sort(), [1, 2]);
    assert.equal(q.size, 0);
    assert.equal(q.position('a', 1), 0);
  });
});
