/**
 * Credits: the account's balance, what is held for requests in flight, what is available; the
 * ledger (top-ups, refunds, adjustments, charges; paged, see credit-ledger.tsx) and charges by day; the operator's top-up and
 * adjustment form; credit alerts. An inference key sees its account's balance, its own limit and
 * its own alerts (GET /key), nothing of other keys.
 */
import { useState } from 'preact/hooks';
import type { PageContext, PageModule } from '../page.ts';
import { dateTime, int, money } from '../ui/format.ts';
import { presetRange } from '../ui/range.tsx';
import { ErrorBox, Loading } from '../ui/status.tsx';
import { DataTable } from '../ui/table.tsx';
import { useLoad } from '../ui/use-api.ts';
import { AccountAlerts, KeyAlerts } from './credit-alerts.tsx';
import { Ledger } from './credit-ledger.tsx';
import { UsageBar } from './keys.tsx';
import type { KeyRow } from './keys.tsx';

interface Credits {
  id: string;
  name: string;
  prepaid: boolean;
  balance: number;
  reserved: number;
  available: number;
  total_credits: number;
  total_usage: number;
}

function Balance({ c }: { c: Credits }) {
  return (
    <dl class="cards" aria-label="Balance">
      <div class="card" data-total="balance">
        <dt>Balance</dt>
        <dd>{money(c.balance)}</dd>
      </div>
      <div class="card" data-total="held">
        <dt>Held for requests in flight</dt>
        <dd>{money(c.reserved)}</dd>
      </div>
      <div class="card" data-total="available">
        <dt>Available</dt>
        <dd>{money(c.available)}</dd>
      </div>
      <div class="card" data-total="credited">
        <dt>Credited in all</dt>
        <dd>{money(c.total_credits)}</dd>
      </div>
      <div class="card" data-total="used">
        <dt>Used in all</dt>
        <dd>{money(c.total_usage)}</dd>
      </div>
    </dl>
  );
}

function AddCredits({ ctx, account, onDone }: { ctx: PageContext; account: string; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [kind, setKind] = useState<'topup' | 'refund' | 'adjustment'>('topup');
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="panel"
      aria-label="Add credits"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
          const body = { account, amount: Number(amount), kind, ...(note.trim() ? { note: note.trim() } : {}) };
          await ctx.api('/credits', { method: 'POST', body: JSON.stringify(body) });
          setAmount('');
          setNote('');
          onDone();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Top up or adjust ({account})</h2>
      <div class="form-grid">
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as typeof kind)}>
            <option value="topup">top-up</option>
            <option value="refund">refund</option>
            <option value="adjustment">adjustment (may be negative)</option>
          </select>
        </label>
        <label>
          Amount (USD)
          <input
            required
            type="number"
            step="any"
            min={kind === 'adjustment' ? undefined : '0'}
            value={amount}
            onInput={(e) => setAmount(e.currentTarget.value)}
          />
        </label>
        <label>
          Note
          <input value={note} maxLength={500} onInput={(e) => setNote(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Add
        </button>
      </div>
      {error !== undefined && <ErrorBox error={error} />}
    </form>
  );
}

function ManagementCredits({ ctx }: { ctx: PageContext }) {
  const q = ctx.accountId ? `account=${encodeURIComponent(ctx.accountId)}` : '';
  const credits = useLoad(() => ctx.api<{ data: Credits }>(`/credits?${q}`), [q]);
  const [version, setVersion] = useState(0);
  const month = presetRange('30d');
  const daily = useLoad(
    () =>
      ctx.api<{ data: Array<{ date: string; requests: number; usage: number }> }>(
        `/usage?group_by=day&from=${month.from}&to=${month.to}&${q}`,
      ),
    [q],
  );
  const reload = () => {
    credits.reload();
    setVersion((v) => v + 1);
  };
  const c = credits.data?.data;
  return (
    <section aria-labelledby="credits-h">
      <h1 id="credits-h">Credits{c ? ` · ${c.name}` : ''}</h1>
      {credits.error !== undefined && <ErrorBox error={credits.error} />}
      {credits.loading && !c && <Loading />}
      {c && <Balance c={c} />}
      {c && !c.prepaid && <p class="muted">This account is postpaid: it runs a tab, and its balance goes below zero as it spends.</p>}
      {ctx.key.isAdmin && c && <AddCredits ctx={ctx} account={c.id} onDone={reload} />}

      <h2>Ledger</h2>
      <Ledger ctx={ctx} query={q} version={version} />

      <h2>Charges by day (30 days)</h2>
      {daily.error !== undefined && <ErrorBox error={daily.error} />}
      {daily.data &&
        (daily.data.data.length === 0 ? (
          <p class="muted">No charges in the last 30 days.</p>
        ) : (
          <DataTable
            columns={[
              { key: 'date', header: 'Day', cell: (r) => r.date, sort: (r) => r.date },
              { key: 'requests', header: 'Requests', cell: (r) => int(r.requests), sort: (r) => r.requests, numeric: true },
              { key: 'usage', header: 'Charged', cell: (r) => money(r.usage), sort: (r) => r.usage, numeric: true },
            ]}
            rows={daily.data.data}
            rowKey={(r) => r.date}
            initialSort={{ key: 'date', desc: true }}
          />
        ))}

      <AccountAlerts ctx={ctx} prepaid={c?.prepaid ?? false} />
    </section>
  );
}

interface KeySelf extends KeyRow {
  alerts: Array<{
    id: string;
    scope: 'key' | 'account';
    threshold: { kind: 'usd' | 'percent'; value: number };
    fired: boolean;
    fired_at: string | null;
  }>;
  usage_daily: number;
  usage_weekly: number;
}

function InferenceCredits({ ctx }: { ctx: PageContext }) {
  const credits = useLoad(() => ctx.api<{ data: Credits }>('/credits'), []);
  const self = useLoad(() => ctx.api<{ data: KeySelf }>('/key'), []);
  const k = self.data?.data;
  return (
    <section aria-labelledby="credits-h">
      <h1 id="credits-h">Credits</h1>
      {credits.error !== undefined && <ErrorBox error={credits.error} />}
      {credits.data && <Balance c={credits.data.data} />}
      <h2>This key</h2>
      {self.error !== undefined && <ErrorBox error={self.error} />}
      {self.loading && !k && <Loading />}
      {k && (
        <div class="panel">
          <UsageBar k={k} />
          <p class="muted">
            Today {money(k.usage_daily)} · this week {money(k.usage_weekly)} · this month {money(k.usage_monthly)} · in all {money(k.usage)}
            {k.expires_at ? ` · expires ${dateTime(k.expires_at)}` : ''}
          </p>
        </div>
      )}
      {k && <KeyAlerts ctx={ctx} alerts={k.alerts} hasLimit={k.limit !== null} onChange={self.reload} />}
    </section>
  );
}

export const page: PageModule = {
  path: '/credits',
  title: 'Credits',
  forKinds: ['inference', 'management'],
  component: ({ ctx }) => (ctx.key.kind === 'inference' ? <InferenceCredits ctx={ctx} /> : <ManagementCredits ctx={ctx} />),
};
