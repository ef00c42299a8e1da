/**
 * GET /health (and /): whether this gateway can serve, and the state of what it depends on.
 *
 * - `store`: the database. A PostgreSQL store is asked (`SELECT 1`, bounded); SQLite is a file.
 * - `redis` (when configured): the outage guard's state. While Redis is down, `limits` says that
 *   rate limits and endpoint capacity hold per process (`per-process`), or that inference is
 *   refused (`refused`, with `redis.onOutage: fail-closed`).
 *
 * Under `freeway serve --workers N` the worker that answers reports itself (`worker`): the store
 * is the same file for all, and health of upstreams is tracked per worker.
 *
 * `status` is `ok`, `degraded` (serving, with per-process limits) or `down` (inference would fail:
 * the database is unreachable, or Redis is and the operator chose fail-closed); `down` answers 503
 * so a load balancer can take this replica out.
 *
 * GET /health/live and /health/ready are the probes of an orchestrator (see below).
 */
import cluster from 'node:cluster';
import type { App } from '../app.ts';
import type { DependencyState } from '../infra/outage.ts';
import { sendJson } from './respond.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import type { ServerResponse } from 'node:http';

/** A store that cannot go away (a SQLite file) has been up since this process started. */
const STARTED = new Date().toISOString();

/** Longest /health waits for the database. */
const STORE_PING_MS = 1_000;

export async function sendHealth(app: App, res: ServerResponse): Promise<void> {
  const storeState: DependencyState = app.store.ping ? await app.store.ping(STORE_PING_MS) : { status: 'up', since: STARTED };
  const redis = app.redis?.state();
  const redisDown = redis?.status === 'down';
  const failClosed = redisDown && redis?.onOutage === 'fail-closed';
  const status = storeState.status === 'down' || failClosed ? 'down' : redisDown ? 'degraded' : 'ok';
  sendJson(res, status === 'down' ? 503 : 200, {
    status,
    name: 'freeway',
    models: app.catalog.size,
    store: { kind: app.store.kind, ...storeState },
    // Under `serve --workers N` each worker answers for itself: which one did (health is per worker).
    ...(cluster.worker ? { worker: { id: cluster.worker.id, pid: process.pid } } : {}),
    ...(redis
      ? {
          redis: {
            status: redis.status,
            since: redis.since,
            ...(redis.reason ? { reason: redis.reason } : {}),
            on_outage: redis.onOutage,
            limits: !redisDown ? 'shared' : failClosed ? 'refused' : 'per-process',
          },
        }
      : {}),
  });
}

/** GET /health/live: the process runs and answers HTTP (nothing it depends on is asked). */
export function sendLive(res: ServerResponse): void {
  sendJson(res, 200, { status: 'live' });
}

/** Longest /health/ready waits for Redis. */
const REDIS_PING_MS = 1_000;

async function pingRedis(app: App): Promise<{ status: 'up' | 'down'; reason?: string } | undefined> {
  const redis = app.redis;
  if (!redis) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.run((c) => c.ping()),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_PING_MS} ms`)), REDIS_PING_MS))),
    ]);
    return { status: 'up' };
  } catch (err) {
    return { status: 'down', reason: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Endpoints in the catalog, and how many of them have a circuit that lets requests through. */
function liveEndpoints(app: App): { endpoints: number; live: number; providers: string[] } {
  let endpoints = 0;
  let live = 0;
  const providers = new Set<string>();
  for (const m of app.catalog.all()) {
    for (const e of m.endpoints) {
      endpoints++;
      if (app.health.circuit(endpointKey(e)) === 'open') continue;
      live++;
      providers.add(e.provider.id);
    }
  }
  return { endpoints, live, providers: [...providers].sort() };
}

/**
 * GET /health/ready: whether this replica should be sent traffic: the store answers, Redis answers
 * (when configured), and at least one endpoint's circuit is not open. 503 with the reasons when not.
 */
export async function sendReady(app: App, res: ServerResponse): Promise<void> {
  const [store, redis] = await Promise.all([
    app.store.ping ? app.store.ping(STORE_PING_MS) : Promise.resolve<DependencyState>({ status: 'up', since: STARTED }),
    pingRedis(app),
  ]);
  const endpoints = liveEndpoints(app);
  const reasons: string[] = [];
  if (store.status === 'down') reasons.push(`the ${app.store.kind} store does not answer${store.reason ? ` (${store.reason})` : ''}`);
  if (redis?.status === 'down') reasons.push(`Redis does not answer${redis.reason ? ` (${redis.reason})` : ''}`);
  if (endpoints.endpoints === 0) {
    reasons.push('no model is served: no provider is configured (set a provider API key such as OPENAI_API_KEY)');
  } else if (endpoints.live === 0) reasons.push(`every endpoint's circuit is open (${endpoints.endpoints} endpoints failed repeatedly)`);
  sendJson(res, reasons.length > 0 ? 503 : 200, {
    status: reasons.length > 0 ? 'not_ready' : 'ready',
    ...(reasons.length > 0 ? { reasons } : {}),
    checks: {
      store: { kind: app.store.kind, status: store.status, ...(store.reason ? { reason: store.reason } : {}) },
      ...(redis ? { redis } : {}),
      endpoints: { total: endpoints.endpoints, live: endpoints.live, providers: endpoints.providers },
    },
  });
}
