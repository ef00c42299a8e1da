/**
 * GET /metrics, Prometheus' text format. On the public port it answers only a bearer of the
 * metrics token or of the admin key (404 to anyone else, as if it were not there); on the metrics
 * port of its own (`metrics.port`), which the operator keeps off the public network, anyone.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.ts';
import { hashKey } from '../accounting/keys.ts';
import { GatewayError } from '../spec/errors.ts';
import { bearerToken } from './auth.ts';
import { endBody } from './respond.ts';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function allowed(app: App, req: IncomingMessage): boolean {
  const token = bearerToken(req);
  if (!token) return false;
  const { token: metricsToken } = app.settings.metrics;
  if (metricsToken && same(token, metricsToken)) return true;
  return app.adminKeyHash !== undefined && same(hashKey(token), app.adminKeyHash);
}

export async function sendMetrics(app: App, req: IncomingMessage, res: ServerResponse, where: 'public' | 'private'): Promise<void> {
  const metrics = app.ops.metrics;
  if (!metrics || (where === 'public' && !allowed(app, req))) {
    throw new GatewayError('not_found', `No route for ${req.method} /metrics`, { retryable: false });
  }
  const { contentType, body } = await metrics.text();
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  endBody(res, body);
}
