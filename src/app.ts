/**
 * The services a request handler can reach, built once at start-up.
 */
import type { Catalog } from './catalog/catalog.ts';
import type { Settings } from './config/load.ts';
import type { CreditAlerts } from './accounting/alerts.ts';
import type { Billing } from './accounting/billing.ts';
import type { DeferredCharges } from './accounting/deferred-charges.ts';
import type { StreamCheckpoints } from './gateway/stream-checkpoints.ts';
import type { Health } from './router/types.ts';
import type { StickyStore } from './router/sticky-store.ts';
import type { Limits } from './limits/limits.ts';
import type { ContentLog } from './accounting/content-log.ts';
import type { GenerationLog } from './accounting/generation-log.ts';
import type { KeyCache } from './accounting/keys.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';
import type { RedisGuard } from './infra/redis.ts';
import type { Observer } from './ops/observer.ts';

export interface App {
  settings: Settings;
  store: Store;
  keys: KeyCache;
  generations: GenerationLog;
  /** Opt-in content logging (prompts and answers), with its retention sweep. */
  content: ContentLog;
  catalog: Catalog;
  log: Logger;
  /** Operations: access lines, metrics, traces (the gateway reports to it, see src/ops). */
  ops: Observer;
  billing: Billing;
  /** Charges of answers already sent that could not commit yet (the database was away), retried. */
  deferredCharges: DeferredCharges;
  /** What running streams have delivered, written on their holds (charged if this process dies). */
  checkpoints: StreamCheckpoints;
  health: Health;
  sticky: StickyStore;
  limits: Limits;
  /** Credit alerts: background checks and webhook deliveries. */
  alerts: CreditAlerts;
  /** The Redis outage guard, when REDIS_URL is set (health shows its state). */
  redis?: RedisGuard;
  /** sha256 of FREEWAY_ADMIN_KEY, when set. */
  adminKeyHash?: string;
}
