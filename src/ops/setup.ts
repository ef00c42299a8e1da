/**
 * Builds operations for a gateway from its settings: the observer with its metrics and tracer,
 * and the metrics port of its own when one is configured. start.ts calls this once.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../config/load.ts';
import type { Logger } from '../log.ts';
import { Metrics } from './metrics.ts';
import type { MetricSources } from './metrics.ts';
import { Observer } from './observer.ts';
import { OtlpTracer } from './otlp.ts';
import { setTraceHeader } from '../providers/http-client.ts';
import { upstreamTraceparent } from './request-facts.ts';

export function createObserver(settings: Settings, log: Logger, sources: MetricSources): Observer {
  const metrics = settings.metrics.enabled ? new Metrics(sources) : undefined;
  const t = settings.tracing;
  const tracer = t.endpoint ? new OtlpTracer({ endpoint: t.endpoint, serviceName: t.serviceName, headers: t.headers, log }) : undefined;
  // Only a traced request has a trace to continue: for the others (any gateway's) this adds nothing.
  setTraceHeader(upstreamTraceparent);
  return new Observer({ log, metrics, tracer });
}

/**
 * The metrics port: /metrics and the health probes, nothing else, no token (it is meant for a
 * network only Prometheus and the orchestrator reach). `answer` serves a path; undefined is a 404.
 */
export async function listenMetricsPort(
  settings: Settings,
  answer: (path: string, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<boolean>,
): Promise<{ server: Server; url: string } | undefined> {
  const { port, host } = settings.metrics;
  if (port === undefined || !settings.metrics.enabled) return undefined;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    answer(path, req, res)
      .then((served) => {
        if (served) return;
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` };
}
