/**
 * The store conformance suite against PostgreSQL (`FREEWAY_TEST_PG_URL`, default the local `test`
 * database), in a schema of its own that is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore } from '../../src/store/open.ts';
import { storeSuite } from './store-suite.ts';

const base = process.env.FREEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `freeway_test_${randomBytes(6).toString('hex')}`;

storeSuite(
  'postgres',
  () => openStore(`${base}?schema=${schema}`),
  async () => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  },
);
