/**
 * PostgreSQL across processes: processes migrating one fresh schema at once apply each
 * migration exactly once, and two processes reserving against one key at once never overspend it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { dropPgSchema, needs, PG_URL, pgSchemaUrl } from '../helpers/services.ts';

const skip = await needs('postgres');
const { url, schema } = pgSchemaUrl();
const worker = fileURLToPath(new URL('./reserve-worker.ts', import.meta.url));

interface Child {
  ready: Promise<void>;
  go: () => void;
  done: Promise<string>;
}

function startWorker(args: string[]): Child {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker exited ${code}: ${err}`))));
  });
  // A worker that dies before it is ready must not leave the test waiting for ever.
  done.then(onReady, onReady);
  return { ready, go: () => child.stdin.write('go\n'), done };
}

async function sql<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('postgres store across processes', { skip }, () => {
  let store: PostgresStore;

  before(async () => {
    // Four processes migrate the empty schema at the same moment.
    const migrators = Array.from({ length: 4 }, () => startWorker(['migrate', url]));
    await Promise.all(migrators.map((m) => m.ready));
    for (const m of migrators) m.go();
    // Wait for all of them, even when one fails, so none is still at work when the schema is dropped.
    const results = await Promise.allSettled(migrators.map((m) => m.done));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    store = new PostgresStore(url);
    await store.migrate();
  });

  after(async () => {
    await store?.close();
    await dropPgSchema(schema);
  });

  it('applied each migration exactly once', async () => {
    const rows = await sql<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((r) => Number(r.version)),
      MIGRATIONS.map((m) => m.version),
    );
  });

  it('2 processes × 100 concurrent reserves of 10 against a key limit of 200: exactly 20 succeed', async () => {
    const now = new Date();
    const accountId = 'mp-account';
    await store.createAccount({ id: accountId, name: 'multi-process', prepaid: true, now });
    assert.equal(await store.credit({ id: 'mp-topup', accountId, kind: 'topup', amountNanos: 1000, now }), true);
    const keyHash = 'mp-key';
    await store.createKey({
      hash: keyHash,
      name: 'mp',
      label: 'sk-fw-v1-mp...',
      kind: 'inference',
      accountId,
      limitNanos: 200,
      limitReset: null,
      usageNanos: 0,
      usageTotalNanos: 0,
      periodStart: null,
      reservedNanos: 0,
      disabled: false,
      expiresAt: null,
      requestsPerMinute: null,
      tokensPerMinute: null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });

    const workers = [0, 1].map(() => startWorker(['reserve', url, accountId, keyHash, '100', '10']));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.go();
    const outputs = await Promise.all(workers.map((w) => w.done));
    const perWorker = outputs.map((out) => JSON.parse(out.split('\n')[1]) as string[]);
    const ids = perWorker.flat();
    assert.equal(ids.length, 20, `succeeded per process: ${perWorker.map((p) => p.length).join(' + ')}`);
    assert.equal(new Set(ids).size, 20);

    let key = (await store.findKey(keyHash))!;
    let account = (await store.getAccount(accountId))!;
    assert.equal(key.reservedNanos, 200);
    assert.equal(account.reservedNanos, 200);
    assert.equal(await store.openReservations(accountId), 20);
    assert.deepEqual(await store.reserve({ id: 'mp-extra', accountId, keyHash, amountNanos: 1, now, expiresAt: now }), {
      ok: false,
      reason: 'key_limit',
      availableNanos: 0,
    });

    const charged = await Promise.all(
      ids.map((id) => store.settle({ reservationId: id, accountId, keyHash, upstreamNanos: 8, feeNanos: 2, now })),
    );
    assert.equal(charged.filter(Boolean).length, 20);
    key = (await store.findKey(keyHash))!;
    account = (await store.getAccount(accountId))!;
    assert.equal(account.balanceNanos, 800);
    assert.equal(await store.ledgerSum(accountId), 800);
    assert.equal(account.reservedNanos, 0);
    assert.equal(key.reservedNanos, 0);
    assert.equal(key.usageNanos, 200);
    assert.equal(await store.openReservations(accountId), 0);
  });
});
