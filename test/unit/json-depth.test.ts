/** How deep client JSON nests, measured without recursion (any depth) and exactly at the bound. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nestedDeeperThan } from '../../src/spec/validate.ts';

test('nestedDeeperThan: exact at the bound, arrays and objects alike, any depth without a stack overflow', () => {
  const nest = (levels: number, wrap: (v: unknown) => unknown): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = wrap(v);
    return v;
  };
  for (const wrap of [(v: unknown) => [v], (v: unknown) => ({ k: v })]) {
    assert.equal(nestedDeeperThan(nest(3, wrap), 3), false, 'three levels are not more than three');
    assert.equal(nestedDeeperThan(nest(4, wrap), 3), true);
    assert.equal(nestedDeeperThan(nest(100_000, wrap), 256), true);
  }
  // Depth is per path, not a count of containers: wide is not deep.
  assert.equal(nestedDeeperThan({ a: [{ b: 1 }], c: [{ d: [1] }], e: Array.from({ length: 1000 }, () => ({ f: [] })) }, 4), false);
  assert.equal(nestedDeeperThan({ a: { b: { c: { d: { e: 1 } } } } }, 4), true);
  assert.equal(nestedDeeperThan('text', 0), false);
  assert.equal(nestedDeeperThan(null, 0), false);
});
