/** Rate-limit counters on SQLite: fixed windows per key, checked and counted under the write lock. */
import type { Row } from '../rows.ts';
import type { CounterResult, CounterWindow } from '../types.ts';
import type { Connection } from './connection.ts';

export class Counters {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async hitCounters(key: string, windows: readonly CounterWindow[]): Promise<CounterResult> {
    return this.db.tx((): CounterResult => {
      const counts: number[] = [];
      for (const w of windows) {
        const row = this.db.q('SELECT window_start, count FROM counters WHERE counter_key = ? AND name = ?').get(key, w.name) as
          | Row
          | undefined;
        const count = row && Number(row.window_start) >= w.startMs ? Number(row.count) : 0;
        if (count >= w.limit) return { ok: false, window: w.name, count };
        counts.push(count + 1);
      }
      windows.forEach((w, i) => {
        this.db
          .q(
            `INSERT INTO counters (counter_key, name, window_start, count) VALUES (?, ?, ?, ?)
           ON CONFLICT (counter_key, name) DO UPDATE SET window_start = excluded.window_start, count = excluded.count`,
          )
          .run(key, w.name, w.startMs, counts[i]);
      });
      return { ok: true, counts };
    });
  }
}
