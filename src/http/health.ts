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
 */
import cluster from 'node:cluster';
import type { App } from '../app.ts';
import type { DependencyState } from '../infra/outage.ts';
import { sendJson } from './respond.ts';
import type { ServerResponse } from 'node:http';

/** A store that cannot go away (a SQLite file) has been up since this process started. */
const STARTED = new Date().toISOString();

/** Longest /health waits for the database. */
const STORE_PING_MS = 1_000;

export async function sendHealth(app: App, res: ServerResponse): Promise<void> {
  const storeState: DependencyState = app.store.ping
    ? await app.store.ping(STORE_PING_MS)
    : { status: 'up', since: STARTED };
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
