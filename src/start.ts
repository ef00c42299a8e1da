/**
 * Starts a gateway from settings: store, catalog, HTTP server. Used by the CLI, the tests and the
 * benchmark alike, so what is tested is what runs.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import type { App } from './app.ts';
import { CreditAlerts } from './accounting/alerts.ts';
import type { HostLookup } from './accounting/webhook-target.ts';
import { Billing } from './accounting/billing.ts';
import { DeferredCharges } from './accounting/deferred-charges.ts';
import { createHealth } from './router/health/index.ts';
import { StickyStore } from './router/sticky-store.ts';
import { createLimits } from './limits/limits.ts';
import { closeRedis, connectRedis, guardOf } from './infra/redis.ts';
import { ContentLog } from './accounting/content-log.ts';
import { GenerationLog } from './accounting/generation-log.ts';
import { ProcessLeases } from './accounting/leases.ts';
import { StreamCheckpoints } from './gateway/stream-checkpoints.ts';
import { createKey, DEFAULT_ACCOUNT, hashKey, KeyCache } from './accounting/keys.ts';
import { buildCatalog } from './catalog/build.ts';
import { Catalog } from './catalog/catalog.ts';
import { ModelDiscovery } from './catalog/discovery.ts';
import type { Settings } from './config/load.ts';
import { createHttpServer } from './http/server.ts';
import { ALL_ROUTES } from './http/routes.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import { openStore } from './store/open.ts';
import { fileDescriptorLimit, MIN_FILE_DESCRIPTORS } from './infra/fd-limit.ts';
import { isOutage } from './spec/errors.ts';
import { reportStoredAmountsTo } from './store/rows.ts';
import { createObserver, listenMetricsPort } from './ops/setup.ts';
import type { MetricSources } from './ops/metrics.ts';
import { sendMetrics } from './http/metrics-route.ts';
import { sendLive, sendReady } from './http/health.ts';
import { endpointKey } from './catalog/endpoint-key.ts';
import type { Store } from './store/store.ts';
import type { RateStore } from './limits/types.ts';

export interface Gateway {
  app: App;
  server: Server;
  url: string;
  /** An inference key created on first start (empty database, no admin key), shown once. */
  bootstrapKey?: string;
  /** The metrics port's own URL, when `metrics.port` is set. */
  metricsUrl?: string;
  /** Resolves when start-up model discovery has finished (tests wait on it). */
  discovery: Promise<void>;
  /** Asks the providers for their model lists again now (the schedule does it every catalog.refreshMinutes). */
  refreshCatalog(): Promise<void>;
  /** What each provider listed last time it answered. */
  listedModels(): ReadonlyMap<string, readonly string[]>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  log?: Logger;
  /** The DNS that credit-alert webhook hosts are resolved with (tests point names where they like). */
  lookupHost?: HostLookup;
  /** One of several workers (src/cluster): rate limits decided by the primary when there is no Redis. */
  sharedLimits?: RateStore;
  /** Bind the port with SO_REUSEPORT, beside the other workers' sockets (the kernel spreads connections). */
  reusePort?: boolean;
  /** Another process (the workers' primary) checkpoints the SQLite file's WAL: no checkpointer thread here. */
  checkpointsElsewhere?: boolean;
}

/**
 * Everything a first start writes before serving: the schema (openStore migrates), the default
 * account, and — on an empty database without an admin key — the one inference key shown once.
 * The primary of several workers runs it alone before forking, so exactly one key is created.
 */
export async function prepareStore(store: Store, settings: Settings): Promise<string | undefined> {
  // The default account runs a tab (postpaid), so a fresh install works before anyone buys credits.
  await store.createAccount({ id: DEFAULT_ACCOUNT, name: 'Default account', prepaid: false, now: new Date() });
  if (settings.adminKey || (await store.countKeys()) > 0) return undefined;
  return (await createKey(store, { name: 'first key', kind: 'inference' })).key;
}

export async function startGateway(settings: Settings, opts: GatewayOptions = {}): Promise<Gateway> {
  // V8's Maglev compiler frees each finished compile job on the worker thread that compiled it,
  // into that thread's own glibc arena, where the freed memory stays resident (~15 MB at peak under
  // load); freed on this thread it is reused. What is compiled, and when, is unchanged. Set here,
  // not on the command line, so every way of starting Freeway gets it and a Node too old to know
  // the flag still reaches bin/freeway.js's version message.
  setFlagsFromString('--no-maglev-destroy-on-background');
  const log = opts.log ?? createLogger();
  // A stored amount that cannot be read exactly (see rows.ts) is an error for the operator to fix.
  reportStoredAmountsTo((m) => log.error(m));
  const store = await openStore(settings.databaseUrl, {
    ...settings.database,
    log,
    sqliteCheckpoints: opts.checkpointsElsewhere ? 'elsewhere' : 'thread',
  });
  // Several processes share health and rate limits through Redis; one process keeps them in memory.
  const redis = settings.redisUrl ? connectRedis(settings.redisUrl, { ...settings.redis, log }) : undefined;
  // Redis down at start-up is an outage like any other (logged, shown, probed), not a failed start.
  if (redis) await guardOf(redis).connected();
  const bootstrapKey = await prepareStore(store, settings);
  // This process's lease on its holds; holds left by processes that died are settled now, and
  // within seconds of any later death (see leases.ts).
  const leaseMs = settings.billing.processLeaseMs;
  const leases = new ProcessLeases(store, { leaseMs, sweepMs: Math.max(200, Math.round(leaseMs / 5)) }, log);
  await leases.start();
  const built = buildCatalog({ settings, discovered: new Map() });
  for (const note of built.notes) log.warn(note);
  const alerts = new CreditAlerts(store, settings.alerts, log, { lookupHost: opts.lookupHost });
  if (settings.alerts.webhookUrl && !settings.alerts.secret)
    log.warn('alerts.webhookUrl is set but no secret (alerts.secret or FREEWAY_WEBHOOK_SECRET): webhooks go unsigned');
  const app: App = {
    settings,
    store,
    keys: new KeyCache(store),
    generations: new GenerationLog(store, {
      // Kept and retried every second; a database outage is logged once by the store itself.
      onError: (err) => {
        if (!isOutage(err)) log.error(`could not record generations: ${String(err)}`);
      },
    }),
    content: new ContentLog(store, {
      retentionMs: settings.contentLog.retentionMs,
      onError: (what, err) => {
        if (!isOutage(err)) log.error(`${what}: ${String(err)}`);
      },
    }),
    catalog: new Catalog(built.models, { aliases: built.aliases, pinned: built.pinned }),
    log,
    billing: new Billing(store, settings.billing, { onCredit: (accountId) => alerts.check(accountId) }),
    deferredCharges: new DeferredCharges({
      retryMs: 1_000,
      giveUpMs: settings.billing.reservationTtlMs,
      onGiveUp: (id, err) =>
        log.error(`gave up charging generation ${id} after retrying: ${String(err)} (its hold is settled by the sweep)`),
      onError: (id, err) => log.error(`could not settle generation ${id}, retrying: ${String(err)}`),
    }),
    checkpoints: new StreamCheckpoints(store, {
      everyMs: settings.billing.checkpointMs,
      ttlMs: settings.billing.reservationTtlMs,
      onError: (err) => log.error(`could not checkpoint streams: ${String(err)}`),
    }),
    alerts,
    health: createHealth({
      redis,
      failureThreshold: settings.routing.circuitBreaker.failureThreshold,
      cooldownMs: settings.routing.circuitBreaker.cooldownMs,
    }),
    sticky: new StickyStore(settings.routing.stickyMs),
    limits: createLimits({
      redis,
      shared: opts.sharedLimits,
      queue: settings.limits.queue,
      keepAliveMs: settings.keepAliveMs,
      // Outages are the guard's (one ERROR line, then per-process limits); this is any other Redis fault.
      onStoreError: (err) => log.warn(`rate limits: Redis refused a decision, admitting: ${String(err)}`),
    }),
    redis: redis ? guardOf(redis) : undefined,
    adminKeyHash: settings.adminKey ? hashKey(settings.adminKey) : undefined,
    // Set just below: its metrics read the app (at scrape time only).
    ops: undefined as unknown as App['ops'],
  };
  app.ops = createObserver(settings, log, metricSources(app));
  app.billing.owner = leases.owner;
  app.checkpoints.owner = leases.owner;
  app.content.start();
  const server = createHttpServer(app, ALL_ROUTES);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Thousands of streams may connect at once; node's default backlog (511) would make the rest
    // retry their connection after a second or more. The kernel caps it (net.core.somaxconn).
    server.listen({ port: settings.port, host: settings.host, backlog: 4096, reusePort: opts.reusePort }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const fds = fileDescriptorLimit();
  if (fds !== undefined && fds < MIN_FILE_DESCRIPTORS) {
    log.warn(
      `only ${fds} open files allowed (ulimit -n): each stream holds two (client and upstream), so about ${Math.floor(fds / 2)} can run at once; ` +
        `raise the hard limit (ulimit -Hn, systemd LimitNOFILE=) to serve more — Node raises the soft limit to it by itself`,
    );
  }
  const discoverer = new ModelDiscovery(app, log);
  const discovery = discoverer.refresh();
  discoverer.start(settings.catalogRefreshMs);
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const metricsPort = await listenMetricsPort(settings, async (path, req, res) => {
    if (path === '/metrics') await sendMetrics(app, req, res, 'private');
    else if (path === '/health/live') sendLive(res);
    else if (path === '/health/ready') await sendReady(app, res);
    else return false;
    return true;
  });
  log.event?.(
    'info',
    {
      url: `http://${host}:${addr.port}`,
      store: store.kind,
      redis: redis ? 'configured' : undefined,
      providers: settings.providers.map((p) => p.id).join(',') || undefined,
      models: app.catalog.size,
      metrics: !settings.metrics.enabled
        ? 'off'
        : metricsPort
          ? `${metricsPort.url}/metrics`
          : `public port, ${settings.metrics.token ? 'token' : 'admin key'}`,
      tracing: settings.tracing.endpoint ?? 'off',
    },
    'freeway started',
  );
  return {
    app,
    server,
    url: `http://${host}:${addr.port}`,
    bootstrapKey,
    metricsUrl: metricsPort?.url,
    discovery,
    refreshCatalog: () => discoverer.refresh(),
    listedModels: () => discoverer.listed(),
    async close() {
      const stopping = performance.now();
      await discoverer.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (metricsPort) {
        metricsPort.server.close();
        metricsPort.server.closeAllConnections();
      }
      const deferred = app.deferredCharges.size;
      // Charges of answers already sent are committed before the store goes.
      await app.billing.settled();
      // A last try for charges the database refused while it was away.
      await app.deferredCharges.retryAll();
      app.deferredCharges.close();
      if (app.deferredCharges.size > 0)
        log.error(`${app.deferredCharges.size} charges could not be written before shutdown; their holds are settled by the sweep`);
      await app.health.close();
      await app.limits.close();
      await app.generations.flush();
      await app.content.close();
      await alerts.close();
      // Every hold of this process is settled by now: give up the lease, so no one sweeps after us.
      await leases.stop();
      await store.close();
      if (redis) await closeRedis(redis);
      await app.ops.tracer?.flush();
      log.event?.(
        'info',
        {
          ms: Math.round(performance.now() - stopping),
          deferred_charges_retried: deferred,
          charges_left_to_sweep: app.deferredCharges.size,
          flushed: app.ops.tracer ? 'settlements, generation records, spans, log' : 'settlements, generation records, log',
          spans_dropped: app.ops.tracer?.dropped || undefined,
        },
        'freeway stopped',
      );
      await log.flush?.();
    },
  };
}

/** What /metrics reads from the gateway at scrape time. */
function metricSources(app: App): MetricSources {
  // An endpoint may serve several catalog entries: each is listed once.
  const endpoints = function* () {
    const seen = new Set<string>();
    for (const m of app.catalog.all()) {
      for (const e of m.endpoints) {
        const key = endpointKey(e);
        if (seen.has(key)) continue;
        seen.add(key);
        yield { key, provider: e.provider.id };
      }
    }
  };
  return {
    endpoints,
    circuit: (key) => app.health.circuit(key),
    uptime: (key) => app.health.stats(key).uptime5m,
    queued: () => {
      let n = 0;
      for (const e of endpoints()) n += app.limits.queueLength(e.key);
      return n;
    },
    openHolds: () => app.store.openReservations(),
    storeUp: async () => (app.store.ping ? (await app.store.ping(1_000)).status === 'up' : true),
    redisUp: () => (app.redis ? app.redis.state().status === 'up' : undefined),
  };
}
