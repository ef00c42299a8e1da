/**
 * Model discovery: each provider that lists its models is asked for the list at start-up and again
 * on a schedule, and the catalog is rebuilt from what they list (./build.ts), without a restart.
 * A listing that fails keeps the provider's last good list (and, before any, the price data's).
 */
import type { App } from '../app.ts';
import type { Logger } from '../log.ts';
import { ADAPTERS } from '../providers/registry.ts';
import { buildCatalog } from './build.ts';

export class ModelDiscovery {
  private readonly lastGood = new Map<string, string[]>();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private readonly app: App;
  private readonly log: Logger;

  constructor(app: App, log: Logger) {
    this.app = app;
    this.log = log;
  }

  /** What each provider listed last time it answered. */
  listed(): ReadonlyMap<string, readonly string[]> {
    return this.lastGood;
  }

  /** Asks every listing provider once and rebuilds the catalog; concurrent calls share one run. */
  refresh(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.refresh(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async run(): Promise<void> {
    const { settings } = this.app;
    let changed = false;
    await Promise.all(
      settings.providers
        .filter((p) => settings.discover.has(p.id))
        .map(async (p) => {
          const list = ADAPTERS[p.protocol].listModels;
          if (!list) return;
          try {
            const ids = await list(p, AbortSignal.timeout(5_000));
            const before = this.lastGood.get(p.id);
            if (!before || before.join('\n') !== ids.join('\n')) changed = true;
            this.lastGood.set(p.id, ids);
          } catch (err) {
            const kept = this.lastGood.has(p.id) ? 'keeping its last good list' : 'using the price data until it answers';
            this.log.warn(`could not list models of ${p.id} (${kept}): ${(err as Error).message}`);
          }
        }),
    );
    if (!changed) return;
    const { models, aliases, pinned } = buildCatalog({ settings, discovered: this.lastGood });
    this.app.catalog.replace(models, { aliases, pinned });
  }
}
