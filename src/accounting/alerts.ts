/**
 * Credit alerts. An alert watches what is left — a prepaid account's balance, or a key's remaining
 * limit — against a threshold (a dollar amount, or a percent of the credits ever added / of the
 * limit). When what is left falls to the threshold the alert fires once: a log line, a flag on
 * `GET /key`, and a signed webhook POST retried with backoff (an alert's own webhook reaches public
 * addresses only: webhook-target.ts, webhook-delivery.ts). It re-arms when what is left rises
 * above the threshold again (a top-up, a raised limit, a new limit period), so each crossing fires
 * exactly once, even across processes (the store's compare-and-set decides who fires).
 *
 * What is left counts settled spend only: the worst-case holds of requests in flight are not
 * counted, so a burst of concurrent requests does not fire (and re-arm) an alert on money that is
 * never spent.
 *
 * Checks run in the background after every charge, credit and limit change, never blocking or
 * failing the request that caused them; checks of one account queue up behind each other.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Settings } from '../config/load.ts';
import type { Logger } from '../log.ts';
import type { Account, AlertRecord, ApiKeyRecord } from '../store/types.ts';
import type { Store } from '../store/store.ts';
import { nanosToUsd } from '../spec/money.ts';
import { periodStart } from './periods.ts';
import { postPinned } from './webhook-delivery.ts';
import { parseWebhookUrl, WebhookRefused, WebhookTargets, WebhookUnresolved } from './webhook-target.ts';
import type { HostLookup } from './webhook-target.ts';

export type AlertSettings = Settings['alerts'];

/** What is left, and what a percent threshold is a percent of (null: nothing to measure against). */
export interface Remaining {
  nanos: number;
  baseNanos: number | null;
}

/** A key's limit left in the current period (a period that has rolled over starts afresh); undefined without a limit. */
export function keyRemaining(k: ApiKeyRecord, now = new Date()): Remaining | undefined {
  if (k.limitNanos === null) return undefined;
  const rolled = k.limitReset !== null && (k.periodStart === null || k.periodStart < periodStart(k.limitReset, now).toISOString());
  return { nanos: k.limitNanos - (rolled ? 0 : k.usageNanos), baseNanos: k.limitNanos };
}

/** An account's balance, out of every top-up it ever had. */
export function accountRemaining(a: Account): Remaining {
  return { nanos: a.balanceNanos, baseNanos: a.purchasedNanos };
}

/** Whether what is left is at or below the threshold; undefined for a percent of nothing. */
export function isBelow(a: Pick<AlertRecord, 'thresholdKind' | 'thresholdValue'>, r: Remaining): boolean | undefined {
  if (a.thresholdKind === 'usd') return r.nanos <= a.thresholdValue;
  if (r.baseNanos === null || r.baseNanos <= 0) return undefined;
  return BigInt(r.nanos) * 10_000n <= BigInt(a.thresholdValue) * BigInt(r.baseNanos);
}

/** The threshold as the API shows it: `{kind: 'usd', value: 1.5}` or `{kind: 'percent', value: 25}`. */
export function thresholdView(a: Pick<AlertRecord, 'thresholdKind' | 'thresholdValue'>): {
  kind: AlertRecord['thresholdKind'];
  value: number;
} {
  return { kind: a.thresholdKind, value: a.thresholdKind === 'usd' ? nanosToUsd(a.thresholdValue) : a.thresholdValue / 100 };
}

const describeThreshold = (a: AlertRecord): string =>
  a.thresholdKind === 'usd'
    ? `$${nanosToUsd(a.thresholdValue)}`
    : `${a.thresholdValue / 100}% ${a.keyHash ? 'of its limit' : 'of its credits'}`;

/** `sha256=<hex>`: HMAC-SHA256 of the raw body, the value of `x-freeway-signature`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Where a webhook goes, for logs: the origin only (paths and queries often carry tokens). */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function reason(err: unknown): string {
  const e = err as { name?: string; code?: unknown; message?: string; cause?: { name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timed out';
  if (err instanceof WebhookUnresolved) return err.message;
  return typeof e?.code === 'string' ? e.code : (e?.message ?? String(err));
}

/** Where an alert's webhook goes: its own URL (checked), or the operator's configured one (trusted). */
interface Hook {
  url: string;
  trusted: boolean;
}

const NONE_TTL_MS = 5_000;

export class CreditAlerts {
  private readonly store: Store;
  private readonly settings: AlertSettings;
  private readonly log: Logger;
  private readonly closing = new AbortController();
  /** Per account: the check running now, and whether another was asked for meanwhile. */
  private readonly checks = new Map<string, { again: boolean; done: Promise<void> }>();
  /**
   * Accounts found to have no alerts, until when that is trusted: most accounts have none, and
   * then a charge costs no query. An alert created by another process counts within NONE_TTL_MS.
   */
  private readonly none = new Map<string, number>();
  /** Webhook deliveries in progress, retries included. */
  private readonly deliveries = new Set<Promise<void>>();
  private readonly targets: WebhookTargets;

  constructor(store: Store, settings: AlertSettings, log: Logger, opts: { lookupHost?: HostLookup } = {}) {
    this.store = store;
    this.settings = settings;
    this.log = log;
    this.targets = new WebhookTargets(settings.allowInternalHosts, opts.lookupHost);
  }

  /**
   * Checks a webhook URL given through the API, as delivery will: its syntax, and every address its
   * host resolves to (public, or allowed by the operator). Throws WebhookRefused or WebhookUnresolved.
   */
  async checkWebhook(raw: string): Promise<void> {
    const url = parseWebhookUrl(raw);
    const deadline = AbortSignal.timeout(this.settings.timeoutMs);
    try {
      await this.targets.resolve(url, { trusted: false, signal: deadline });
    } catch (err) {
      if (!deadline.aborted) throw err;
      throw new WebhookUnresolved(`${url.hostname} could not be resolved within ${this.settings.timeoutMs} ms`);
    }
  }

  /**
   * Re-evaluates the alerts of an account and of its keys, in the background; never throws. Asked
   * again while a check of the account runs, it runs once more afterwards (however often asked).
   */
  check(accountId: string): void {
    if (this.closing.signal.aborted) return;
    // Most accounts have no alerts: then a charge schedules nothing at all.
    const none = this.none.get(accountId);
    if (none !== undefined && none > Date.now()) return;
    const running = this.checks.get(accountId);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: true, done: Promise.resolve() };
    this.checks.set(accountId, state);
    state.done = (async () => {
      // After the current I/O turn: the response that caused the check goes out first (SQLite
      // queries are synchronous), and a burst of charges folds into one check.
      await new Promise((resolve) => setImmediate(resolve));
      while (state.again && !this.closing.signal.aborted) {
        state.again = false;
        try {
          await this.evaluate(accountId);
        } catch (err) {
          this.log.error(`credit alerts of account ${accountId} could not be checked: ${String(err)}`);
        }
      }
      this.checks.delete(accountId);
    })();
  }

  /** An alert of the account was created: check it from the next charge on. */
  created(accountId: string): void {
    this.none.delete(accountId);
  }

  private async evaluate(accountId: string): Promise<void> {
    const until = this.none.get(accountId);
    if (until !== undefined && until > Date.now()) return;
    const alerts = await this.store.listAlerts(accountId);
    if (alerts.length === 0) {
      this.none.set(accountId, Date.now() + NONE_TTL_MS);
      return;
    }
    this.none.delete(accountId);
    const now = new Date();
    let account: Account | undefined | null = null;
    const keys = new Map<string, ApiKeyRecord | undefined>();
    for (const a of alerts) {
      let left: Remaining | undefined;
      if (a.keyHash === null) {
        if (account === null) account = await this.store.getAccount(accountId);
        left = account ? accountRemaining(account) : undefined;
      } else {
        if (!keys.has(a.keyHash)) keys.set(a.keyHash, await this.store.findKey(a.keyHash));
        const k = keys.get(a.keyHash);
        left = k ? keyRemaining(k, now) : undefined;
      }
      if (!left) continue;
      const below = isBelow(a, left);
      if (below === true && a.firedAt === null) {
        const firedAt = now.toISOString();
        if (await this.store.markAlert(a.id, firedAt, false)) this.fire({ ...a, firedAt }, left);
      } else if (below === false && a.firedAt !== null) {
        if (await this.store.markAlert(a.id, null, true))
          this.log.info(`credit alert ${a.id} re-armed: ${this.subject(a)} has $${nanosToUsd(left.nanos)} left`);
      }
    }
  }

  private subject(a: AlertRecord): string {
    return a.keyHash ? `key ${a.keyHash} of account ${a.accountId}` : `account ${a.accountId}`;
  }

  private fire(a: AlertRecord & { firedAt: string }, left: Remaining): void {
    this.log.warn(
      `credit alert ${a.id}: ${this.subject(a)} has $${nanosToUsd(left.nanos)} left, at or below its threshold of ${describeThreshold(a)}`,
    );
    const hook: Hook | undefined = a.webhookUrl
      ? { url: a.webhookUrl, trusted: false }
      : this.settings.webhookUrl
        ? { url: this.settings.webhookUrl, trusted: true }
        : undefined;
    if (!hook || this.closing.signal.aborted) return;
    const body = JSON.stringify({
      type: 'credit_alert',
      alert_id: a.id,
      account: a.accountId,
      key_hash: a.keyHash,
      threshold: thresholdView(a),
      remaining_usd: nanosToUsd(left.nanos),
      fired_at: a.firedAt,
    });
    const delivery = this.deliver(a.id, hook, body);
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  /**
   * POSTs until a 2xx, with exponential backoff between attempts; gives up after `maxAttempts`. A
   * target that may not be reached (a private address, perhaps only since the alert was created)
   * is a permanent failure: logged once, never retried.
   */
  private async deliver(alertId: string, hook: Hook, body: string): Promise<void> {
    const { maxAttempts, retryBaseMs } = this.settings;
    const closing = this.closing.signal;
    for (let attempt = 1; ; attempt++) {
      let why: string;
      try {
        const status = await this.post(hook, body);
        if (status >= 200 && status < 300) return;
        // A webhook that redirects is misconfigured: say so rather than follow it somewhere else.
        why = status >= 300 && status < 400 ? `HTTP ${status}, a redirect (not followed)` : `HTTP ${status}`;
      } catch (err) {
        if (closing.aborted) return;
        if (err instanceof WebhookRefused) {
          const resolved = err.address ? ` (it resolved to ${err.address})` : '';
          this.log.warn(`credit alert ${alertId}: webhook ${origin(hook.url)} refused${resolved}: ${err.message}; not delivered`);
          return;
        }
        why = reason(err);
      }
      if (attempt >= maxAttempts) {
        this.log.error(`credit alert ${alertId}: webhook ${origin(hook.url)} failed ${attempt} times (last: ${why}); giving up`);
        return;
      }
      const delay = retryBaseMs * 2 ** (attempt - 1);
      this.log.warn(
        `credit alert ${alertId}: webhook ${origin(hook.url)} failed (attempt ${attempt} of ${maxAttempts}: ${why}); retrying in ${delay} ms`,
      );
      try {
        // Unreferenced: a pending retry never keeps the process alive.
        await sleep(delay, undefined, { signal: closing, ref: false });
      } catch {
        return;
      }
    }
  }

  /** One attempt: resolve and check the target again (DNS may have changed), then POST to what was checked. */
  private async post(hook: Hook, body: string): Promise<number> {
    const { secret, timeoutMs, maxResponseBytes } = this.settings;
    const url = hook.trusted ? new URL(hook.url) : parseWebhookUrl(hook.url);
    // One deadline for the whole attempt: lookup, connect, send and answer.
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeoutMs)]);
    const addresses = await this.targets.resolve(url, { trusted: hook.trusted, signal });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'freeway-alerts',
      'x-freeway-timestamp': String(Math.floor(Date.now() / 1000)),
      ...(secret ? { 'x-freeway-signature': signBody(secret, body) } : {}),
    };
    return await postPinned({ url, addresses, headers, body, signal, maxResponseBytes });
  }

  /** Resolves when no check and no webhook delivery (retries included) is in progress. */
  async idle(): Promise<void> {
    while (this.checks.size > 0 || this.deliveries.size > 0) {
      await Promise.allSettled([...[...this.checks.values()].map((c) => c.done), ...this.deliveries]);
    }
  }

  /** Stops: no new checks, pending retries cancelled, requests in flight aborted; waits for running checks. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.idle();
  }
}

/** Re-checks the alerts that a change to this key's account or limit may have crossed (background, never throws). */
export function checkAlerts(app: { alerts: CreditAlerts }, key: Pick<ApiKeyRecord, 'accountId'>): void {
  app.alerts.check(key.accountId);
}
