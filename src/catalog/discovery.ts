/**
 * Model discovery: each provider that lists its models is asked for the list at start-up and again
 * on a schedule, and the catalog is rebuilt from what they list (./build.ts), without a restart.
 * A listing that fails keeps the provider's last good list (and, before any, the price data's).
 */
import type { Settings } from '../config/load.ts';
import type { Logger } from '../log.ts';
import { ADAPTERS } from '../providers/registry.ts';
import { buildCatalog } from './build.ts';
import type { Catalog } from './catalog.ts';

/** What discovery reads and rebuilds: the gateway's settings and its live catalog. */
export interface DiscoveryTarget {
  readonly settings: Settings;
  readonly catalog: Catalog;
}

export class ModelDiscovery {
  private readonly lastGood = new Map<string, string[]>();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private readonly app: DiscoveryTarget;
  private readonly log: Logger;

  constructor(app: DiscoveryTarget, log: Logger) {
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
    const { listed, failed } = await listModels(settings);
    for (const [id, ids] of listed) {
      const before = this.lastGood.get(id);
      if (!before || before.join('\n') !== ids.join('\n')) changed = true;
      this.lastGood.set(id, ids);
    }
    for (const [id, message] of failed) {
      const kept = this.lastGood.has(id) ? 'keeping its last good list' : 'using the price data until it answers';
      this.log.warn(`could not list models of ${id} (${kept}): ${message}`);
    }
    if (!changed) return;
    const { models, aliases, pinned } = buildCatalog({ settings, discovered: this.lastGood });
    this.app.catalog.replace(models, { aliases, pinned });
  }
}

/** Asks every live provider that lists its models (and is not told not to) for the list, once. */
export async function listModels(settings: Settings): Promise<{ listed: Map<string, string[]>; failed: Map<string, string> }> {
  const listed = new Map<string, string[]>();
  const failed = new Map<string, string>();
  await Promise.all(
    settings.providers
      .filter((p) => settings.discover.has(p.id))
      .map(async (p) => {
        const list = ADAPTERS[p.protocol].listModels;
        if (!list) return;
        try {
          listed.set(p.id, await list(p, AbortSignal.timeout(5_000)));
        } catch (err) {
          failed.set(p.id, (err as Error).message);
        }
      }),
  );
  return { listed, failed };
}
