/**
 * PostgreSQL round trips on the hot path (issue 14: at most one before the upstream call), end to
 * end through a gateway on the real PostgreSQL, with a TCP proxy of the test's own between them
 * that reads the wire protocol (test/helpers/pg-round-trip-proxy.ts): every flight the gateway's
 * pool sends — a query, or a batch of statements in one simple query (pg-batch.ts), up to the
 * server's ReadyForQuery — is one round trip. Counted: the flights that start between the gateway
 * receiving the chat request and the emulator receiving the upstream request.
 *
 * With the key in the gateway's cache (a second request within its 5 s), a request that holds
 * money (a key with a limit, or a prepaid account) makes one round trip — the hold, BEGIN to COMMIT
 * in one message — and one that cannot be refused for money (no limit, a postpaid account) none;
 * streamed or not. A first request (cold cache) also reads the key: two, which shows the proxy
 * counts what it should.
 *
 * Background work is kept out of the window, not filtered: the process lease is renewed and swept
 * every minute (processLeaseSeconds 300), streams are checkpointed every minute (checkpointSeconds
 * 60, longer than any stream here), and before each measured request the test waits until the
 * previous one's settlement and generation record are written and the wire is quiet. Every flight
 * in the window is listed in the assertion message with its SQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { describeFlight, startRoundTripProxy } from '../helpers/pg-round-trip-proxy.ts';
import type { Flight, RoundTripProxy } from '../helpers/pg-round-trip-proxy.ts';
import { dropPgSchema, needs, PG_URL, pgSchemaUrl } from '../helpers/services.ts';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const skip = await needs('postgres');

/** The statements this test expects to see on the hot path, by their text. */
const KEY_LOOKUP = /^SELECT k\.\*.* FROM api_keys k .*WHERE k\.hash = \$1$/;
const HOLD = /^BEGIN;.*INSERT INTO reservations .*COMMIT$/;

describe('PostgreSQL round trips before the upstream call', { skip }, () => {
  let proxy: RoundTripProxy;
  let stack: Stack;
  let schema: string;
  /** Flights begun before the gateway received the request / the emulator received it. */
  let windowStart: number | undefined;
  let windowEnd: number | undefined;

  before(async () => {
    const made = pgSchemaUrl('freeway_round_trips');
    schema = made.schema;
    const u = new URL(PG_URL);
    proxy = await startRoundTripProxy({ host: u.hostname, port: Number(u.port || 5432) });
    stack = await startStack({
      env: { DATABASE_URL: proxy.via(made.url) },
      yaml: 'billing: { processLeaseSeconds: 300, checkpointSeconds: 60 }\n',
    });
    stack.gw.server.prependListener('request', (req) => {
      if (req.url?.endsWith('/chat/completions')) windowStart = proxy.flights.length;
    });
    const push = stack.openai.requests.push.bind(stack.openai.requests);
    stack.openai.requests.push = (...items) => {
      if (items.some((r) => r.path.endsWith('/chat/completions'))) windowEnd = proxy.flights.length;
      return push(...items);
    };
  });
  after(async () => {
    await stack?.close();
    await proxy?.close();
    if (schema) await dropPgSchema(schema);
  });

  async function chat(key: string, stream: boolean): Promise<void> {
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODELS.openai, max_tokens: 5, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
  }

  /** The flights one request started before its upstream call, after the wire went quiet. */
  async function tripsBefore(key: string, stream: boolean): Promise<{ queries: Flight[]; connects: Flight[]; shown: string }> {
    await stack.gw.app.billing.settled();
    await stack.gw.app.generations.flush();
    await proxy.idle();
    windowStart = windowEnd = undefined;
    await chat(key, stream);
    assert.ok(windowStart !== undefined && windowEnd !== undefined, 'both ends of the window were seen');
    const flights = proxy.flights.slice(windowStart, windowEnd);
    const shown = flights.length ? flights.map(describeFlight).join('\n  ') : '(none)';
    return { queries: flights.filter((f) => f.kind === 'query'), connects: flights.filter((f) => f.kind === 'connect'), shown };
  }

  /** Asserts the request's round trips are exactly `expected`, in order (each an SQL pattern). */
  async function expectTrips(key: string, stream: boolean, expected: RegExp[]): Promise<void> {
    const { queries, connects, shown } = await tripsBefore(key, stream);
    const what = `${stream ? 'streamed' : 'non-streamed'} request; PostgreSQL flights before the upstream call:\n  ${shown}`;
    assert.equal(connects.length, 0, `the pool's connections are warm: ${what}`);
    assert.equal(queries.length, expected.length, what);
    queries.forEach((f, i) => {
      assert.equal(f.sql.length, 1, what);
      assert.match(f.sql[0], expected[i], what);
    });
  }

  test('a key with a limit: the hold alone with the key cached (≤ 1), the key read too on a cold cache', async () => {
    for (const stream of [false, true]) {
      const { key } = await createKey(stack.gw.app.store, { name: 'limited', kind: 'inference', limitNanos: 1e12 });
      // Cold: the key is read, then held against; both before the call. This is what the counter
      // must see for the ≤ 1 below to mean anything.
      await expectTrips(key, stream, [KEY_LOOKUP, HOLD]);
      // Warm (issue 14's case): one round trip, the hold's whole transaction in one message.
      await expectTrips(key, stream, [HOLD]);
      await expectTrips(key, !stream, [HOLD]);
    }
  });

  test('a key without a limit on a postpaid account: no round trip with the key cached', async () => {
    for (const stream of [false, true]) {
      const { key } = await createKey(stack.gw.app.store, { name: 'open', kind: 'inference' });
      // Nothing to hold: with the key cached (and the account's postpaid flag, also cached), nothing is read.
      await chat(key, stream);
      await expectTrips(key, stream, []);
    }
  });

  test('a key without a limit on a prepaid account: the hold alone with the key cached', async () => {
    const store = stack.gw.app.store;
    await store.createAccount({ id: 'prepaid-rt', name: 'Prepaid', prepaid: true, now: new Date() });
    await store.credit({ id: 'topup-rt', accountId: 'prepaid-rt', kind: 'topup', amountNanos: 1e12, now: new Date() });
    const { key } = await createKey(store, { name: 'prepaid', kind: 'inference', accountId: 'prepaid-rt' });
    await chat(key, false);
    await expectTrips(key, false, [HOLD]);
    await expectTrips(key, true, [HOLD]);
  });
});
