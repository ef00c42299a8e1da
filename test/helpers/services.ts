/**
 * The one place tests learn where PostgreSQL and Redis are, and whether they are there.
 *
 * URLs: FREEWAY_TEST_PG_URL and FREEWAY_TEST_REDIS_URL, by default the local servers.
 * When a service does not answer, tests that need it skip at once with one line saying how to run
 * them — unless FREEWAY_TEST_REQUIRE_SERVICES=1 (set by .ci/run, which starts the services), in which
 * case an absent service fails the run instead of skipping it silently.
 *
 * Usage, at the top of a test file:
 *   const skip = await needs('postgres');            // false, or the reason to skip
 *   describe('...', { skip }, () => { ... });        // or test('...', { skip }, ...)
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';

export const PG_URL = process.env.FREEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.FREEWAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REQUIRE_SERVICES = process.env.FREEWAY_TEST_REQUIRE_SERVICES === '1';

export type Service = 'postgres' | 'redis';

const PROBE_MS = 1_500;

/** `base` with a fresh schema of its own, e.g. `...?schema=freeway_test_1a2b3c`; drop it with dropPgSchema. */
export function pgSchemaUrl(prefix = 'freeway_test'): { url: string; schema: string } {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const sep = PG_URL.includes('?') ? '&' : '?';
  return { url: `${PG_URL}${sep}schema=${schema}`, schema };
}

export async function dropPgSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: PROBE_MS });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function pgAnswers(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: PROBE_MS, query_timeout: PROBE_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** One PING over a raw socket: no client library that would keep reconnecting in the background. */
function redisAnswers(): Promise<string | null> {
  const u = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) });
    let buf = '';
    const done = (reason: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no answer within ${PROBE_MS} ms`), PROBE_MS);
    socket.on('error', (err) => done(err.message));
    socket.on('connect', () => {
      const auth = u.password ? `AUTH ${decodeURIComponent(u.password)}\r\n` : '';
      socket.write(`${auth}PING\r\n`);
    });
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('+PONG')) done(null);
      else if (buf.startsWith('-') && buf.includes('\r\n')) done(buf.trim());
    });
  });
}

const probes = new Map<Service, Promise<string | null>>();

/** Null when the service answers, else why not (probed once per process). */
export function serviceProblem(service: Service): Promise<string | null> {
  let p = probes.get(service);
  if (!p) {
    p = service === 'postgres' ? pgAnswers() : redisAnswers();
    probes.set(service, p);
  }
  return p;
}

/**
 * False when every named service answers; otherwise the skip reason (and one line on stderr) — or,
 * when FREEWAY_TEST_REQUIRE_SERVICES=1, a thrown error so the run fails instead of skipping.
 */
export async function needs(...services: Service[]): Promise<false | string> {
  for (const s of services) {
    const problem = await serviceProblem(s);
    if (problem === null) continue;
    const where = s === 'postgres' ? PG_URL : REDIS_URL;
    const variable = s === 'postgres' ? 'FREEWAY_TEST_PG_URL' : 'FREEWAY_TEST_REDIS_URL';
    if (REQUIRE_SERVICES) throw new Error(`${s} is required (FREEWAY_TEST_REQUIRE_SERVICES=1) but ${where} does not answer: ${problem}`);
    const reason = `${s} not reachable at ${where} (${problem}); start it or set ${variable} to run these tests`;
    process.stderr.write(`# skipped: ${reason}\n`);
    return reason;
  }
  return false;
}
