/**
 * The PostgreSQL store's group commit (src/store/postgres/group-queue.ts), without a database:
 * which operations share a group, and what a failed group does to its operations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupQueue } from '../../src/store/postgres/group-queue.ts';

interface Op {
  id: number;
  now: Date;
}

const T0 = new Date('2026-03-01T12:00:00Z');
const op = (id: number, now = T0): Op => ({ id, now });

/** A queue whose groups are recorded; the first group stays in flight for 10 ms. */
function recorder(fail?: (group: Op[]) => Error | undefined) {
  const groups: number[][] = [];
  const queue = new GroupQueue<Op, number>(
    async (group) => {
      groups.push(group.map((o) => o.id));
      if (groups.length === 1) await new Promise<void>((r) => setTimeout(r, 10));
      const err = fail?.(group);
      if (err) throw err;
      return group.map((o) => o.id * 10);
    },
    (err) => (err as Error).message === 'outage',
  );
  return { queue, groups };
}

test('operations of one turn share a group; those arriving while it is in flight share the next', async () => {
  const { queue, groups } = recorder();
  const first = [1, 2, 3].map((i) => queue.add(op(i)));
  await new Promise((r) => setImmediate(r));
  // The first group is on its way: these wait for it, then go together.
  const second = [4, 5].map((i) => queue.add(op(i)));
  assert.deepEqual(await Promise.all([...first, ...second]), [10, 20, 30, 40, 50]);
  assert.deepEqual(groups, [
    [1, 2, 3],
    [4, 5],
  ]);
  await queue.drained();
});

test('a group holds one UTC day: an operation after midnight starts the next', async () => {
  const { queue, groups } = recorder();
  const late = new Date('2026-03-01T23:59:59.999Z');
  const next = new Date('2026-03-02T00:00:00.000Z');
  await Promise.all([queue.add(op(1, late)), queue.add(op(2, next)), queue.add(op(3, next))]);
  assert.deepEqual(groups, [[1], [2, 3]]);
});

test('a group that fails is run again one operation at a time: only the bad one fails', async () => {
  const { queue, groups } = recorder((g) => (g.some((o) => o.id === 2) ? new Error('bad operation') : undefined));
  const results = await Promise.allSettled([1, 2, 3].map((i) => queue.add(op(i))));
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [10, 'bad operation', 30],
  );
  assert.deepEqual(groups, [[1, 2, 3], [1], [2], [3]]);
});

test('a group that fails because the database is away fails every operation at once', async () => {
  const { queue, groups } = recorder(() => new Error('outage'));
  const results = await Promise.allSettled([1, 2, 3].map((i) => queue.add(op(i))));
  assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'outage'));
  assert.deepEqual(groups, [[1, 2, 3]]);
});

test('drained waits for every queued operation', async () => {
  const { queue } = recorder();
  let done = 0;
  for (let i = 1; i <= 5; i++) void queue.add(op(i)).then(() => done++);
  await queue.drained();
  assert.equal(done, 5);
  await queue.drained();
});
