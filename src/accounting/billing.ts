/**
 * Reserve, then settle. Before a request goes upstream, its worst-case cost is held against the
 * key's remaining limit and (for prepaid accounts) the account's balance, atomically in the store;
 * afterwards the exact cost is charged and the hold dropped. A refusal is a 402 that shows the
 * arithmetic and the fix.
 */
import { randomUUID } from 'node:crypto';
import type { Pricing } from '../catalog/types.ts';
import { GatewayError } from '../spec/errors.ts';
import type { ApiKeyRecord, GenerationRecord } from '../store/types.ts';
import type { Store } from '../store/store.ts';
import { FEMTO_PER_NANO, formatScaled } from '../spec/money.ts';

export interface BillingSettings {
  /** Freeway's fee on top of the upstream cost, in basis points (5% = 500). */
  markupBp: number;
  /** How long a hold lives if its process dies before settling it and carries no owner. */
  reservationTtlMs: number;
}

/** Fee in nano-dollars for an upstream cost, rounded half up. */
export function feeFor(upstreamNanos: number, markupBp: number): number {
  if (markupBp === 0 || upstreamNanos === 0) return 0;
  return Number((BigInt(upstreamNanos) * BigInt(markupBp) + 5_000n) / 10_000n);
}

/** A price with the fee applied (what a key is charged per token), in femto-dollars. */
export function withFee(femto: bigint, markupBp: number): bigint {
  return markupBp === 0 ? femto : (femto * BigInt(10_000 + markupBp) + 5_000n) / 10_000n;
}

/**
 * Most a request can cost upstream, in nano-dollars (rounded up): every prompt token at the dearest
 * input rate, every allowed output token at the completion rate, each input image at the image rate.
 */
export function worstCaseNanos(p: Pricing, promptTokens: number, maxOutputTokens: number, images = 0): number {
  const input = p.cacheWrite !== undefined && p.cacheWrite > p.prompt ? p.cacheWrite : p.prompt;
  const output = p.reasoning !== undefined && p.reasoning > p.completion ? p.reasoning : p.completion;
  const femto = BigInt(promptTokens) * input + BigInt(maxOutputTokens) * output + (p.request ?? 0n) + BigInt(images) * (p.image ?? 0n);
  return Number((femto + FEMTO_PER_NANO - 1n) / FEMTO_PER_NANO);
}

/**
 * What a hold tells a refused client about the dearest candidate, fee included: the charge per
 * output token (femto-dollars) and the cost of everything else (prompt at the dearest input rate,
 * per-request and per-image prices), in nano-dollars rounded up.
 */
export function holdRates(
  p: Pricing,
  promptTokens: number,
  images: number,
  markupBp: number,
): Pick<HoldContext, 'outputFemtoPerToken' | 'fixedNanos'> {
  const input = p.cacheWrite !== undefined && p.cacheWrite > p.prompt ? p.cacheWrite : p.prompt;
  const fee = (femto: bigint) => withFee(femto, markupBp);
  const fixedFemto = BigInt(promptTokens) * fee(input) + fee(p.request ?? 0n) + BigInt(images) * fee(p.image ?? 0n);
  return { outputFemtoPerToken: fee(p.completion), fixedNanos: Number((fixedFemto + FEMTO_PER_NANO - 1n) / FEMTO_PER_NANO) };
}

const usd = (nanos: number): string => `$${formatScaled(BigInt(Math.max(0, nanos)), 9).replace(/^(\d+)$/, '$1.00')}`;

export interface HoldContext {
  model: string;
  promptTokens: number;
  maxOutputTokens: number;
  /** Charge per output token including the fee, femto-dollars; to say how many tokens are affordable. */
  outputFemtoPerToken: bigint;
  /** Cost of everything but output tokens (prompt, per-request), nano-dollars including the fee. */
  fixedNanos: number;
  /** Where the key's owner changes its limit. */
  keyHash: string;
}

export interface BillingHooks {
  /** After a credit lands (credit alerts re-check the account). */
  onCredit?: (accountId: string) => void;
}

export class Billing {
  readonly settings: BillingSettings;
  private readonly store: Store;
  private readonly hooks: BillingHooks;
  /** account id → prepaid, cached briefly: read on every request, changed almost never. */
  private readonly prepaid = new Map<string, { value: boolean; expires: number }>();
  /** Settlements not yet committed (the last bytes of their answers wait for them). */
  private readonly settling = new Set<Promise<void>>();
  /** The process lease that owns this process's holds (see leases.ts); unset, holds live until their TTL. */
  owner: string | undefined;

  constructor(store: Store, settings: BillingSettings, hooks: BillingHooks = {}) {
    this.store = store;
    this.settings = settings;
    this.hooks = hooks;
  }

  /**
   * Whether a request by this key can be refused for money at all: only with a key limit or a
   * prepaid account. When it cannot, there is nothing to hold and the charge is simply recorded.
   */
  async needsHold(key: ApiKeyRecord): Promise<boolean> {
    if (key.limitNanos !== null) return true;
    const now = Date.now();
    const hit = this.prepaid.get(key.accountId);
    if (hit && hit.expires > now) return hit.value;
    const value = (await this.store.getAccount(key.accountId))?.prepaid ?? true;
    this.prepaid.set(key.accountId, { value, expires: now + 5_000 });
    return value;
  }

  /** Total (upstream + fee) for an upstream amount. */
  total(upstreamNanos: number): number {
    return upstreamNanos + feeFor(upstreamNanos, this.settings.markupBp);
  }

  /** Holds `amountNanos` (fee included) or throws the 402 that explains why it cannot. */
  async hold(key: ApiKeyRecord, id: string, amountNanos: number, ctx: HoldContext): Promise<void> {
    const now = new Date();
    const r = await this.store.reserve({
      id,
      accountId: key.accountId,
      keyHash: key.hash,
      amountNanos,
      now,
      expiresAt: new Date(now.getTime() + this.settings.reservationTtlMs),
      owner: this.owner,
    });
    if (r.ok) return;
    const spare = r.availableNanos - ctx.fixedNanos;
    const affordable =
      spare <= 0 || ctx.outputFemtoPerToken === 0n ? 0 : Number((BigInt(spare) * FEMTO_PER_NANO) / ctx.outputFemtoPerToken);
    const short = amountNanos - r.availableNanos;
    const where =
      r.reason === 'key_limit'
        ? `this key has ${usd(r.availableNanos)} left of its limit`
        : `the account has ${usd(r.availableNanos)} of credit available`;
    const fix =
      r.reason === 'key_limit'
        ? `raise the key's limit by ${usd(short)} (PATCH /api/v1/keys/${ctx.keyHash})`
        : `add ${usd(short)} of credits (freeway credits add)`;
    const tokens = affordable > 0 ? `set max_tokens ≤ ${affordable} or ` : '';
    throw new GatewayError(
      'payment_required',
      `This request needs up to ${usd(amountNanos)} (${ctx.promptTokens} prompt tokens and up to ${ctx.maxOutputTokens} output tokens of ${ctx.model}), ` +
        `but ${where}. To fix it, ${tokens}${fix}.`,
      {
        retryable: false,
        metadata: {
          reason: r.reason,
          required: amountNanos / 1e9,
          available: r.availableNanos / 1e9,
          required_nanos: amountNanos,
          available_nanos: r.availableNanos,
          max_affordable_tokens: affordable,
        },
      },
    );
  }

  /** Charges and drops the hold; `generation`, when given, is recorded in the same transaction. */
  async settle(
    key: ApiKeyRecord,
    id: string,
    upstreamNanos: number,
    feeNanos: number,
    note?: string,
    held = true,
    generation?: GenerationRecord,
  ): Promise<boolean> {
    return this.store.settle({
      reservationId: id,
      accountId: key.accountId,
      keyHash: key.hash,
      upstreamNanos,
      feeNanos,
      note,
      now: new Date(),
      held,
      generation,
    });
  }

  /** Counts a settlement in progress until it ends (it must not reject); see settled. */
  track(settlement: Promise<void>): void {
    this.settling.add(settlement);
    const done = () => this.settling.delete(settlement);
    void settlement.then(done, done);
  }

  /** Resolves once every settlement in progress has ended: shutdown waits for it, so no charge is lost. */
  async settled(): Promise<void> {
    while (this.settling.size > 0) await Promise.allSettled([...this.settling]);
  }

  async release(id: string): Promise<void> {
    await this.store.release(id);
  }

  /** Credits an account (top-up, refund, adjustment) under a fresh movement id. */
  async credit(accountId: string, kind: 'topup' | 'refund' | 'adjustment', amountNanos: number, note?: string): Promise<void> {
    if (await this.store.credit({ id: `${kind}-${randomUUID()}`, accountId, kind, amountNanos, note, now: new Date() }))
      this.hooks.onCredit?.(accountId);
  }
}
