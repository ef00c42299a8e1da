/**
 * Amounts that would break the ledger, against both stores: a credit past the bound is refused
 * whole with a 400 naming it; the schema itself refuses a money value that is not a whole number
 * of nano-dollars within ±(2^53 − 1), whoever writes it; and a value stored before it did (or by
 * hand) is read as the nearest amount within the bound, so reads and listings never fail.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AmountError, MAX_AMOUNT_NANOS, MAX_STORED_NANOS } from '../../src/spec/money-bounds.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { openStore } from '../../src/store/open.ts';
import { reportStoredAmountsTo } from '../../src/store/rows.ts';
import type { Store } from '../../src/store/store.ts';
import { dropPgSchema, needs, pgSchemaUrl, PG_URL } from '../helpers/services.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Raw SQL on the store's database, from a connection of its own. */
interface RawSql {
  /** Runs one statement; rejects when the database refuses it. */
  exec(sql: string): Promise<void>;
  /** Runs one statement with the money constraints out of the way (to plant a value they would refuse). */
  plant(table: string, column: string, sql: string): Promise<void>;
  close(): Promise<void>;
}

const NOW = new Date('2026-01-01T00:00:00.000Z');
const uid = (p: string) => `${p}-${randomUUID()}`;

function suite(
  name: string,
  o: { skip?: string | false; open: () => Promise<{ store: Store; raw: RawSql; cleanup: () => Promise<void> }> },
) {
  describe(`amount bounds: ${name}`, { skip: o.skip }, () => {
    let store: Store;
    let raw: RawSql;
    let cleanup: () => Promise<void>;
    const reports: string[] = [];
    before(async () => {
      ({ store, raw, cleanup } = await o.open());
      reportStoredAmountsTo((m) => reports.push(m));
    });
    after(async () => {
      await raw?.close();
      await store?.close();
      await cleanup?.();
    });

    const account = async (prepaid = true) => {
      const id = uid('acct');
      await store.createAccount({ id, name: id, prepaid, now: NOW });
      return id;
    };

    it('top-ups of $1,000,000 until the balance would pass 2^53 − 1 nanos: the one that would is a 400 naming the bound, and nothing of it lands', async () => {
      const id = await account();
      for (let i = 0; i < 9; i++)
        assert.equal(await store.credit({ id: uid('t'), accountId: id, kind: 'topup', amountNanos: MAX_AMOUNT_NANOS, now: NOW }), true);
      const tenth = uid('t');
      await assert.rejects(
        store.credit({ id: tenth, accountId: id, kind: 'topup', amountNanos: MAX_AMOUNT_NANOS, now: NOW }),
        (e: unknown) =>
          e instanceof AmountError &&
          e.status === 400 &&
          /beyond \$9,007,199\.254740991/.test(e.message) &&
          e.metadata.bound_nanos === MAX_STORED_NANOS,
      );
      const a = (await store.getAccount(id))!;
      assert.equal(a.balanceNanos, 9 * MAX_AMOUNT_NANOS);
      assert.equal(await store.ledgerSum(id), a.balanceNanos, 'the refused credit left no ledger row');
      assert.equal(
        (await store.ledger(id, 100)).some((e) => e.id === tenth),
        false,
      );
      // What still fits is accepted, exactly.
      const room = MAX_STORED_NANOS - 9 * MAX_AMOUNT_NANOS;
      assert.equal(await store.credit({ id: uid('t'), accountId: id, kind: 'adjustment', amountNanos: room, now: NOW }), true);
      assert.equal((await store.getAccount(id))!.balanceNanos, MAX_STORED_NANOS);
      assert.equal(await store.ledgerSum(id), MAX_STORED_NANOS);
    });

    it('a single credit past $1,000,000, or not a whole number of nanos, is refused before anything is written', async () => {
      const id = await account();
      for (const amountNanos of [1e18, 1e19, MAX_AMOUNT_NANOS + 1, -MAX_AMOUNT_NANOS - 1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(
          store.credit({ id: uid('t'), accountId: id, kind: 'adjustment', amountNanos, now: NOW }),
          AmountError,
          String(amountNanos),
        );
      }
      assert.equal((await store.getAccount(id))!.balanceNanos, 0);
      assert.equal(await store.ledgerSum(id), 0);
    });

    it('the schema refuses money that is not a whole number of nanos within the bound, by direct SQL', async () => {
      const id = await account();
      const bad = [
        `UPDATE accounts SET balance_nanos = 9007199254740992 WHERE id = '${id}'`,
        `UPDATE accounts SET balance_nanos = -9007199254740992 WHERE id = '${id}'`,
        `UPDATE accounts SET reserved_nanos = -1 WHERE id = '${id}'`,
        `UPDATE accounts SET purchased_nanos = 1000000000000000000 WHERE id = '${id}'`,
        `INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, created_at) VALUES ('${uid('l')}', '${id}', NULL, 'topup', 9007199254740992, 'x')`,
        `INSERT INTO reservations (id, account_id, key_hash, amount_nanos, expires_at, created_at) VALUES ('${uid('r')}', '${id}', 'k', -5, 'x', 'x')`,
      ];
      if (name === 'sqlite') {
        // SQLite columns take any type; the checks look at the stored type too.
        bad.push(
          `UPDATE accounts SET balance_nanos = 1.5 WHERE id = '${id}'`,
          `UPDATE accounts SET balance_nanos = 1e19 WHERE id = '${id}'`,
          `UPDATE accounts SET balance_nanos = 'lots' WHERE id = '${id}'`,
          `UPDATE accounts SET balance_nanos = 9e999 WHERE id = '${id}'`,
        );
      } else {
        bad.push(`UPDATE accounts SET balance_nanos = 9223372036854775807 WHERE id = '${id}'`);
      }
      for (const sql of bad) await assert.rejects(raw.exec(sql), /constraint|CHECK/i, sql);
      assert.equal((await store.getAccount(id))!.balanceNanos, 0);
      // Whole nanos within the bound pass, at the bound included.
      await raw.exec(`UPDATE accounts SET balance_nanos = ${MAX_STORED_NANOS} WHERE id = '${id}'`);
      assert.equal((await store.getAccount(id))!.balanceNanos, MAX_STORED_NANOS);
      await raw.exec(`UPDATE accounts SET balance_nanos = 0 WHERE id = '${id}'`);
    });

    it('key limits and per-key rates: the schema refuses 1e19, 1e300 and rates past 2^31 − 1', async () => {
      const id = await account();
      const hash = uid('key');
      await store.createKey({
        hash,
        name: 'k',
        label: 'sk-fw-...',
        kind: 'inference',
        accountId: id,
        limitNanos: 5,
        limitReset: null,
        usageNanos: 0,
        usageTotalNanos: 0,
        periodStart: null,
        reservedNanos: 0,
        disabled: false,
        expiresAt: null,
        createdAt: NOW.toISOString(),
        updatedAt: NOW.toISOString(),
        requestsPerMinute: null,
        tokensPerMinute: null,
      });
      const attempts = [
        `UPDATE api_keys SET limit_nanos = 10000000000000000000 WHERE hash = '${hash}'`,
        `UPDATE api_keys SET usage_total_nanos = -1 WHERE hash = '${hash}'`,
      ];
      if (name === 'sqlite')
        attempts.push(
          `UPDATE api_keys SET limit_nanos = 1e300 WHERE hash = '${hash}'`,
          `UPDATE api_keys SET tokens_per_minute = 3000000000 WHERE hash = '${hash}'`,
        );
      for (const sql of attempts) await assert.rejects(raw.exec(sql), /constraint|CHECK|out of range/i, sql);
      assert.equal((await store.findKey(hash))!.limitNanos, 5);
      await raw.exec(`UPDATE api_keys SET limit_nanos = NULL WHERE hash = '${hash}'`);
      assert.equal((await store.findKey(hash))!.limitNanos, null, 'NULL is no limit');
    });

    it('a value stored before the schema refused it is read within the bound and reported, and the accounts still list', async () => {
      const id = await account();
      const other = await account();
      await raw.plant('accounts', 'balance_nanos', `UPDATE accounts SET balance_nanos = 1000000000000000000 WHERE id = '${id}'`);
      reports.length = 0;
      const listed = await store.listAccounts();
      const a = listed.find((x) => x.id === id)!;
      assert.equal(a.balanceNanos, MAX_STORED_NANOS, 'read as the nearest amount within the bound');
      assert.ok(
        listed.some((x) => x.id === other),
        'the other accounts list as usual',
      );
      assert.equal((await store.getAccount(id))!.balanceNanos, MAX_STORED_NANOS);
      assert.ok(
        reports.some((m) => m.includes(`accounts.balance_nanos of account ${id}`) && m.includes('1000000000000000000')),
        reports.join('\n'),
      );
      // Until the row is corrected.
      await raw.exec(`UPDATE accounts SET balance_nanos = 0 WHERE id = '${id}'`);
      assert.equal((await store.getAccount(id))!.balanceNanos, 0);
    });
  });
}

suite('sqlite', {
  open: async () => {
    const path = join(tempDir('freeway-bounds-'), 'freeway.db');
    const store = await openStore(path);
    const db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 10000');
    return {
      store,
      cleanup: async () => {},
      raw: {
        exec: async (sql) => void db.exec(sql),
        plant: async (_t, _c, sql) => {
          db.exec('PRAGMA ignore_check_constraints = ON');
          try {
            db.exec(sql);
          } finally {
            db.exec('PRAGMA ignore_check_constraints = OFF');
          }
        },
        close: async () => db.close(),
      },
    };
  },
});

const pgSkip = await needs('postgres');
suite('postgres', {
  skip: pgSkip,
  open: async () => {
    const { url, schema } = pgSchemaUrl('freeway_bounds');
    const store = await openStore(url);
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await client.connect();
    return {
      store,
      cleanup: () => dropPgSchema(schema),
      raw: {
        exec: async (sql) => void (await client.query(sql)),
        // The constraint is dropped for the write and put back NOT VALID (it checks new writes, not
        // that row): what a database upgraded around an old bad value looks like.
        plant: async (table, column, sql) => {
          const name = `${table}_${column}_bounds`;
          const def = (
            await client.query(
              `SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conname = $1 AND connamespace = $2::regnamespace`,
              [name, schema],
            )
          ).rows[0] as { d: string };
          await client.query(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`);
          await client.query(sql);
          await client.query(`ALTER TABLE ${table} ADD CONSTRAINT ${name} ${def.d} NOT VALID`);
        },
        close: () => client.end(),
      },
    };
  },
});

describe('amount bounds: upgrading a PostgreSQL database', { skip: pgSkip }, () => {
  it('values past 2^53 − 1 nanos from before the bounds are brought to the bound, then the schema bounds them', async () => {
    const { url, schema } = pgSchemaUrl('freeway_bounds_up');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`SET search_path TO "${schema}"`);
      await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      for (const m of MIGRATIONS.filter((x) => x.bounded === undefined && x.version < 7)) {
        for (const sql of m.sql) await client.query(sql);
        await client.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [m.version, m.name, 'x']);
      }
      // Nine $1e9 top-ups fit a BIGINT; they broke every exact read.
      await client.query(
        `INSERT INTO accounts (id, name, prepaid, balance_nanos, purchased_nanos, created_at) VALUES ('rich', 'Rich', 1, 9000000000000000000, 9000000000000000000, 'x')`,
      );
      await client.query(
        `INSERT INTO api_keys (hash, name, label, kind, limit_nanos, disabled, created_at, account_id) VALUES ('k', 'k', 'l', 'inference', -5, 0, 'x', 'rich')`,
      );
      const store = await openStore(url);
      try {
        assert.equal((await store.getAccount('rich'))!.balanceNanos, MAX_STORED_NANOS);
        assert.equal((await store.findKey('k'))!.limitNanos, 0, 'a negative limit is brought to zero');
        await assert.rejects(client.query(`UPDATE accounts SET balance_nanos = 9007199254740992`), /accounts_balance_nanos_bounds/);
      } finally {
        await store.close();
      }
    } finally {
      await client.end();
      await dropPgSchema(schema);
    }
  });
});
