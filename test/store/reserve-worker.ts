/**
 * Child process for the PostgreSQL multi-process test.
 * - `reserve-worker.ts migrate <url>`: prints `ready`, waits for a line on stdin, migrates, exits.
 * - `reserve-worker.ts reserve <url> <account> <key> <count> <amount>`: migrates (a no-op by then),
 *   prints `ready`, waits for a line on stdin, fires <count> concurrent reserves and prints the ids
 *   of those that succeeded as one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';

const [mode, url, accountId, keyHash, count, amount] = process.argv.slice(2);
const store = new PostgresStore(url);
try {
  if (mode === 'migrate') {
    // Started together, so that the migrations race.
    process.stdout.write('ready\n');
    await once(process.stdin, 'data');
  }
  await store.migrate();
  if (mode === 'reserve') {
    process.stdout.write('ready\n');
    await once(process.stdin, 'data');
    const now = new Date();
    const results = await Promise.all(
      Array.from({ length: Number(count) }, async () => {
        const id = `mp-${randomUUID()}`;
        const r = await store.reserve({
          id,
          accountId,
          keyHash,
          amountNanos: Number(amount),
          now,
          expiresAt: new Date(now.getTime() + 3_600_000),
        });
        return r.ok ? id : undefined;
      }),
    );
    process.stdout.write(JSON.stringify(results.filter((id) => id !== undefined)) + '\n');
  }
} finally {
  await store.close();
  process.stdin.destroy();
}
