/**
 * Operator commands that work on the database directly (the same one `freeway serve` uses):
 *   freeway keys create NAME [--account A] [--limit USD] [--reset daily|weekly|monthly] [--expires ISO] [--rpm N] [--tpm N] [--management]
 *   freeway keys list [--account A] [--all]
 *   freeway keys disable HASH | enable HASH | delete HASH
 *   freeway accounts create ID [--name N] [--postpaid] | list
 *   freeway credits add USD [--account A] [--note TEXT] | show [--account A]
 *   freeway usage [--account A] [--by day,model,provider,key] [--from DATE] [--to DATE] [--key HASH]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createKey, DEFAULT_ACCOUNT } from '../accounting/keys.ts';
import { MAX_AMOUNT_NANOS, MAX_PER_MINUTE, parseUsd } from '../spec/money-bounds.ts';
import { formatScaled } from '../spec/money.ts';
import { ConfigError, loadSettings } from '../config/load.ts';
import { openStore } from '../store/open.ts';
import type { LimitReset, UsageDimension } from '../store/types.ts';
import type { Store } from '../store/store.ts';

const usd = (nanos: number) => `$${formatScaled(BigInt(nanos), 9)}`;

function table(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(width[i]))
      .join('  ')
      .trimEnd();
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}

/** An amount in USD within the bounds every amount has (see spec/money-bounds.ts). */
function money(v: string | undefined, what: string, o: { nonZero?: boolean } = {}): number {
  if (v === undefined || !/^\d+(\.\d+)?$/.test(v)) throw new ConfigError(`${what} must be an amount in USD, like 10 or 2.50`);
  try {
    return parseUsd(v, what, { minNanos: 0, maxNanos: MAX_AMOUNT_NANOS, text: true, ...o });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function count(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PER_MINUTE)
    throw new ConfigError(`${what} must be a whole number from 1 to ${MAX_PER_MINUTE}`);
  return n;
}

async function withStore<T>(config: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const settings = await loadSettings({ configPath: config });
  const store = await openStore(settings.databaseUrl, settings.database);
  try {
    await store.createAccount({ id: DEFAULT_ACCOUNT, name: 'Default account', prepaid: false, now: new Date() });
    return await fn(store);
  } finally {
    await store.close();
  }
}

const COMMON = {
  config: { type: 'string' },
  account: { type: 'string' },
} as const;

export async function keysCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      ...COMMON,
      limit: { type: 'string' },
      reset: { type: 'string' },
      expires: { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      management: { type: 'boolean' },
      all: { type: 'boolean' },
    },
  });
  await withStore(values.config, async (store) => {
    const accountId = values.account ?? DEFAULT_ACCOUNT;
    switch (sub) {
      case 'create': {
        const name = positionals[0];
        if (!name) throw new ConfigError('usage: freeway keys create NAME [--limit USD] [--reset daily|weekly|monthly] [--account A]');
        if (!(await store.getAccount(accountId)))
          throw new ConfigError(`no account ${accountId} (create it with: freeway accounts create ${accountId})`);
        if (values.reset !== undefined && !['daily', 'weekly', 'monthly'].includes(values.reset))
          throw new ConfigError('--reset must be daily, weekly or monthly');
        const expires = values.expires === undefined ? null : new Date(values.expires);
        if (expires && Number.isNaN(expires.getTime())) throw new ConfigError('--expires must be a date');
        const { key, record } = await createKey(store, {
          name,
          kind: values.management ? 'management' : 'inference',
          accountId,
          limitNanos: values.limit === undefined ? null : money(values.limit, '--limit'),
          limitReset: (values.reset as LimitReset | undefined) ?? null,
          expiresAt: expires?.toISOString() ?? null,
          requestsPerMinute: values.rpm === undefined ? null : count(values.rpm, '--rpm'),
          tokensPerMinute: values.tpm === undefined ? null : count(values.tpm, '--tpm'),
        });
        out(`Created ${record.kind} key "${name}" (hash ${record.hash}) for account ${accountId}. Store it now; it is not shown again:`);
        out(key);
        return;
      }
      case 'list': {
        const keys = await store.listKeys({ accountId, limit: 1000 });
        out(
          table(
            keys
              .filter((k) => values.all || !k.disabled)
              .map((k) => ({
                hash: k.hash.slice(0, 16),
                name: k.name,
                label: k.label,
                kind: k.kind,
                limit: k.limitNanos === null ? '-' : `${usd(k.limitNanos)}${k.limitReset ? `/${k.limitReset}` : ''}`,
                used: usd(k.usageTotalNanos),
                status: k.disabled ? 'disabled' : k.expiresAt && Date.parse(k.expiresAt) < Date.now() ? 'expired' : 'active',
              })),
          ),
        );
        return;
      }
      case 'disable':
      case 'enable':
      case 'delete': {
        const prefix = positionals[0];
        if (!prefix) throw new ConfigError(`usage: freeway keys ${sub} HASH`);
        const matches = (await store.listKeys({ limit: 100_000 })).filter((k) => k.hash.startsWith(prefix));
        if (matches.length !== 1)
          throw new ConfigError(
            matches.length === 0
              ? `no key whose hash starts with ${prefix}`
              : `${prefix} matches ${matches.length} keys; give more of the hash`,
          );
        const k = matches[0];
        if (sub === 'delete') await store.deleteKey(k.hash);
        else await store.updateKey(k.hash, { disabled: sub === 'disable' }, new Date());
        out(`${sub === 'delete' ? 'Deleted' : sub === 'disable' ? 'Disabled' : 'Enabled'} key "${k.name}" (${k.hash.slice(0, 16)}).`);
        return;
      }
      default:
        throw new ConfigError('usage: freeway keys create|list|disable|enable|delete');
    }
  });
}

export async function accountsCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { config: COMMON.config, name: { type: 'string' }, postpaid: { type: 'boolean' } },
  });
  await withStore(values.config, async (store) => {
    if (sub === 'create') {
      const id = positionals[0];
      if (!id || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id))
        throw new ConfigError('usage: freeway accounts create ID (a lowercase slug) [--name N] [--postpaid]');
      if (await store.getAccount(id)) throw new ConfigError(`account ${id} already exists`);
      await store.createAccount({ id, name: values.name ?? id, prepaid: !values.postpaid, now: new Date() });
      out(`Created ${values.postpaid ? 'postpaid' : 'prepaid'} account ${id}.`);
    } else if (sub === 'list') {
      const all = await store.listAccounts();
      out(
        table(
          all.map((a) => ({
            id: a.id,
            name: a.name,
            mode: a.prepaid ? 'prepaid' : 'postpaid',
            balance: usd(a.balanceNanos),
            reserved: usd(a.reservedNanos),
          })),
        ),
      );
    } else throw new ConfigError('usage: freeway accounts create|list');
  });
}

export async function creditsCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { ...COMMON, note: { type: 'string' } } });
  await withStore(values.config, async (store) => {
    const accountId = values.account ?? DEFAULT_ACCOUNT;
    const account = await store.getAccount(accountId);
    if (!account) throw new ConfigError(`no account ${accountId}`);
    if (sub === 'add') {
      const amount = money(positionals[0], 'the amount', { nonZero: true });
      await store.credit({
        id: `topup-${randomUUID()}`,
        accountId,
        kind: 'topup',
        amountNanos: amount,
        note: values.note ?? 'freeway credits add',
        now: new Date(),
      });
    } else if (sub !== 'show') throw new ConfigError('usage: freeway credits add USD | show');
    const a = (await store.getAccount(accountId))!;
    const totals = await store.ledgerTotals(accountId);
    out(
      `Account ${a.id} (${a.prepaid ? 'prepaid' : 'postpaid'}): balance ${usd(a.balanceNanos)}, held ${usd(a.reservedNanos)}, ` +
        `available ${usd(a.balanceNanos - a.reservedNanos)}; credits ${usd(totals.credits)}, usage ${usd(totals.charges)}.`,
    );
  });
}

export async function usageCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON, by: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, key: { type: 'string' } },
  });
  const groupBy = (values.by ?? 'day,model').split(',').filter(Boolean);
  for (const g of groupBy) {
    if (!['day', 'model', 'provider', 'key', 'app', 'user'].includes(g)) {
      throw new ConfigError(`--by takes day, model, provider, key, app or user (got ${g})`);
    }
  }
  await withStore(values.config, async (store) => {
    const rows = await store.usage({
      accountId: values.account ?? DEFAULT_ACCOUNT,
      keyHash: values.key,
      from: values.from ? new Date(values.from).toISOString() : undefined,
      to: values.to ? new Date(values.to).toISOString() : undefined,
      groupBy: groupBy as UsageDimension[],
    });
    out(
      table(
        rows.map((r) => ({
          ...(r.day !== undefined ? { day: r.day } : {}),
          ...(r.model !== undefined ? { model: r.model } : {}),
          ...(r.provider !== undefined ? { provider: r.provider } : {}),
          ...(r.keyHash !== undefined ? { key: r.keyHash.slice(0, 16) } : {}),
          ...(r.app !== undefined ? { app: r.app ?? '-' } : {}),
          ...(r.user !== undefined ? { user: r.user ?? '-' } : {}),
          requests: r.requests,
          prompt: r.tokensPrompt,
          completion: r.tokensCompletion,
          cached: r.tokensCached,
          reasoning: r.tokensReasoning,
          cost: usd(r.costNanos),
        })),
      ),
    );
  });
}
