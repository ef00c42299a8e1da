/**
 * Freeway on PostgreSQL + Redis in a bench: the test services (FREEWAY_TEST_PG_URL and
 * FREEWAY_TEST_REDIS_URL, by default the local servers), each Freeway in a PostgreSQL schema of its
 * own (`?schema=` on DATABASE_URL), every schema dropped when the bench is done with them. Used by
 * the cost phase (bench/cost.ts) and the workers phase (bench/workers.ts).
 *
 * Redis has no such separation: every Freeway's keys start with the same `freeway:` prefix (fixed in
 * src/infra/redis.ts, no setting). A key's rate counts are under its key hash
 * (`freeway:limits:rate:{key:<hash>}:…`), and each bench Freeway creates its own key, so two setups
 * sharing one Redis never share counts. Per-endpoint state (health, `freeway:health:{openai:…}`, and
 * endpoint places when an endpoint has limits) is shared by every Freeway on the same endpoint, as
 * across machines; the bench sets no endpoint limits.
 */

export const PG_URL = process.env.FREEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.FREEWAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let made = 0;

/** The schemas of one bench run's Freeways on PostgreSQL + Redis; `dropAll` when they have stopped. */
export class PgSchemas {
  private readonly names: string[] = [];

  /** DATABASE_URL (a new schema of its own) and REDIS_URL for one more Freeway. */
  env(): { DATABASE_URL: string; REDIS_URL: string } {
    const schema = `freeway_bench_${process.pid}_${Date.now().toString(36)}_${made++}`;
    this.names.push(schema);
    return { DATABASE_URL: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`, REDIS_URL };
  }

  /** Drops every schema handed out (whatever happened to its Freeway); a failure is reported, not thrown. */
  async dropAll(): Promise<void> {
    const names = this.names.splice(0);
    if (names.length === 0) return;
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: PG_URL });
    const failed = (what: string, err: unknown) => process.stderr.write(`[bench] could not drop ${what}: ${String(err)}\n`);
    try {
      await client.connect();
      for (const schema of names)
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((err) => failed(`schema ${schema}`, err));
    } catch (err) {
      failed(`schemas ${names.join(', ')}`, err);
    } finally {
      await client.end().catch(() => {});
    }
  }
}
