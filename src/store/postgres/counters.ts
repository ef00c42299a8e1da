/** Rate-limit counters on PostgreSQL: fixed windows per key, checked and counted in one transaction. */
import type { CounterResult, CounterWindow } from '../types.ts';
import { lockOrder } from './connection.ts';
import type { Queries } from './connection.ts';

export class Counters {
  private readonly db: Queries;

  constructor(db: Queries) {
    this.db = db;
  }

  async hitCounters(key: string, windows: readonly CounterWindow[]): Promise<CounterResult> {
    if (windows.length === 0) return { ok: true, counts: [] };
    return this.db.tx(async (cl): Promise<CounterResult> => {
      const names = lockOrder(windows.map((w) => w.name));
      // Make sure every row exists (a fresh row at count 0 counts the same as no row), then lock
      // them all in name order, so concurrent hits on one key queue up instead of racing.
      for (const name of names) {
        await this.db.q(
          'INSERT INTO counters (counter_key, name, window_start, count) VALUES ($1, $2, 0, 0) ON CONFLICT (counter_key, name) DO NOTHING',
          [key, name],
          cl,
        );
      }
      const current = new Map<string, { windowStart: number; count: number }>();
      for (const name of names) {
        const row = (
          await this.db.q('SELECT window_start, count FROM counters WHERE counter_key = $1 AND name = $2 FOR UPDATE', [key, name], cl)
        ).rows[0];
        current.set(name, { windowStart: Number(row.window_start), count: Number(row.count) });
      }
      const counts: number[] = [];
      for (const w of windows) {
        const row = current.get(w.name)!;
        const count = row.windowStart >= w.startMs ? row.count : 0;
        if (count >= w.limit) return { ok: false, window: w.name, count };
        counts.push(count + 1);
      }
      for (const [i, w] of windows.entries()) {
        await this.db.q(
          'UPDATE counters SET window_start = $1, count = $2 WHERE counter_key = $3 AND name = $4',
          [w.startMs, counts[i], key, w.name],
          cl,
        );
      }
      return { ok: true, counts };
    });
  }
}
