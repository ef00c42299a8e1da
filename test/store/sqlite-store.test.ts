/** The store conformance suite against SQLite: a fresh temporary database file, removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.ts';
import { storeSuite } from './store-suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'freeway-store-'));

storeSuite(
  'sqlite',
  () => openStore(join(dir, 'freeway.db')),
  async () => rmSync(dir, { recursive: true, force: true }),
  { ordered: true },
);
