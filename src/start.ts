/**
 * Starts a gateway from settings: store, catalog, HTTP server. Used by the CLI, the tests and the
 * benchmark alike, so what is tested is what runs.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { App } from './app.ts';
import { CreditAlerts } from './accounting/alerts.ts';
import { Billing } from './accounting/billing.ts';
import { createHealth } from './router/health/index.ts';
import { StickyStore } from './router/sticky-store.ts';
import { createLimits } from './limits/limits.ts';
import { connectRedis } from './infra/redis.ts';
import { GenerationLog } from './accounting/generation-log.ts';
import { createKey, DEFAULT_ACCOUNT, hashKey, KeyCache } from './accounting/keys.ts';
import { buildCatalog } from './catalog/build.ts';
import { Catalog } from './catalog/catalog.ts';
import type { Settings } from './config/load.ts';
import { createHttpServer } from './http/server.ts';
import { ALL_ROUTES } from './http/routes.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import { ADAPTERS } from './providers/registry.ts';
import { openStore } from './store/open.ts';
import { reportStoredAmountsTo } from './store/rows.ts';

export interface Gateway {
  app: App;
  server: Server;
  url: string;
  /** An inference key created on first start (empty database, no admin key), shown once. */
  bootstrapKey?: string;
  /** Resolves when start-up model discovery has finished (tests wait on it). */
  discovery: Promise<void>;
  close(): Promise<void>;
}

async function discoverModels(app: App, log: Logger): Promise<void> {
  const discovered = new Map<string, string[]>();
  await Promise.all(
    app.settings.providers
      .filter((p) => app.settings.discover.has(p.id))
      .map(async (p) => {
        const list = ADAPTERS[p.protocol].listModels;
        if (!list) return;
        try {
          discovered.set(p.id, await list(p, AbortSignal.timeout(5_000)));
        } catch (err) {
          log.warn(`could not list models of ${p.id}: ${(err as Error).message}`);
        }
      }),
  );
  if (discovered.size === 0) return;
  const { models } = buildCatalog({ settings: app.settings, discovered });
  app.catalog.replace(models);
}

export async function startGateway(settings: Settings, opts: { log?: Logger } = {}): Promise<Gateway> {
  const log = opts.log ?? createLogger();
  // A stored amount that cannot be read exactly (see rows.ts) is an error for the operator to fix.
  reportStoredAmountsTo((m) => log.error(m));
  const store = await openStore(settings.databaseUrl);
  // Several processes share health and rate limits through Redis; one process keeps them in memory.
  const redis = settings.redisUrl ? connectRedis(settings.redisUrl) : undefined;
  // The default account runs a tab (postpaid), so a fresh install works before anyone buys credits.
  await store.createAccount({ id: DEFAULT_ACCOUNT, name: 'Default account', prepaid: false, now: new Date() });
  // Holds left by a process that died mid-request are released once they expire: now, and every minute.
  const released = await store.releaseExpired(new Date());
  if (released > 0) log.info(`released ${released} expired credit holds`);
  const sweep = setInterval(() => {
    store.releaseExpired(new Date()).catch((err: unknown) => log.error(`reservation sweep failed: ${String(err)}`));
  }, 60_000);
  sweep.unref();
  let bootstrapKey: string | undefined;
  if (!settings.adminKey && (await store.countKeys()) === 0) {
    bootstrapKey = (await createKey(store, { name: 'first key', kind: 'inference' })).key;
  }
  const built = buildCatalog({ settings, discovered: new Map() });
  for (const note of built.notes) log.warn(note);
  const alerts = new CreditAlerts(store, settings.alerts, log);
  if (settings.alerts.webhookUrl && !settings.alerts.secret) log.warn('alerts.webhookUrl is set but no secret (alerts.secret or FREEWAY_WEBHOOK_SECRET): webhooks go unsigned');
  const app: App = {
    settings,
    store,
    keys: new KeyCache(store),
    generations: new GenerationLog(store, { onError: (err) => log.error(`could not record generations: ${String(err)}`) }),
    catalog: new Catalog(built.models),
    log,
    billing: new Billing(store, settings.billing, { onCredit: (accountId) => alerts.check(accountId) }),
    alerts,
    health: createHealth({
      redis,
      failureThreshold: settings.routing.circuitBreaker.failureThreshold,
      cooldownMs: settings.routing.circuitBreaker.cooldownMs,
      onError: (err) => log.warn(`health tracking fell back to this process's memory: ${err.message}`),
    }),
    sticky: new StickyStore(settings.routing.stickyMs),
    limits: createLimits({
      redis,
      queue: settings.limits.queue,
      keepAliveMs: settings.keepAliveMs,
      onStoreError: (err) => log.warn(`rate limits could not reach Redis, admitting: ${String(err)}`),
    }),
    adminKeyHash: settings.adminKey ? hashKey(settings.adminKey) : undefined,
  };
  const server = createHttpServer(app, ALL_ROUTES);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    app,
    server,
    url: `http://${host}:${addr.port}`,
    bootstrapKey,
    discovery: discoverModels(app, log),
    async close() {
      clearInterval(sweep);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // Charges of answers already sent are committed before the store goes.
      await app.billing.settled();
      await app.health.close();
      await app.limits.close();
      await app.generations.flush();
      await alerts.close();
      await store.close();
      await redis?.quit();
    },
  };
}
