import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime } from '../../src/spec/iso-time.ts';

test('isoTime writes exactly what toISOString writes', () => {
  const base = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
  const times: number[] = [];
  // Across second, minute, day and year boundaries, every millisecond width, two seconds interleaved.
  for (let i = 0; i < 3_000; i += 7) times.push(base + i, base + 86_400_000 + i);
  times.push(0, -1, -999, -1_000, -1_001, Date.UTC(1969, 11, 31, 23, 59, 59, 5), Date.UTC(9999, 11, 31, 23, 59, 59, 999));
  times.push(Date.UTC(10_000, 0, 1), Date.UTC(-1, 0, 1), 8.64e15, -8.64e15);
  for (const t of times) assert.equal(isoTime(new Date(t)), new Date(t).toISOString(), `at ${t}`);
});

test('isoTime rejects an invalid date as toISOString does', () => {
  assert.throws(() => isoTime(new Date(Number.NaN)), RangeError);
});
