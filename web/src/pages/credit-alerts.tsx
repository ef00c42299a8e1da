/**
 * Credit alerts: create (dollars or percent left, optionally a webhook), see which fired, delete.
 * An account's (GET/POST /alerts) for management keys; a key's own (POST /key/alerts) for itself.
 */
import { useState } from 'preact/hooks';
import type { PageContext } from '../page.ts';
import { dateTime, money, shortHash } from '../ui/format.ts';
import { ErrorBox } from '../ui/status.tsx';
import { DataTable } from '../ui/table.tsx';
import { useLoad } from '../ui/use-api.ts';

interface Alert {
  id: string;
  key_hash?: string | null;
  scope?: 'key' | 'account';
  threshold: { kind: 'usd' | 'percent'; value: number };
  webhook_url?: string | null;
  fired: boolean;
  fired_at: string | null;
}

const threshold = (a: Alert) => (a.threshold.kind === 'usd' ? `${money(a.threshold.value)} left` : `${a.threshold.value}% left`);

function AlertForm({ onCreate, withKey }: { onCreate: (body: Record<string, unknown>) => Promise<void>; withKey: boolean }) {
  const [kind, setKind] = useState<'usd' | 'percent'>('usd');
  const [value, setValue] = useState('');
  const [keyHash, setKeyHash] = useState('');
  const [hook, setHook] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  return (
    <form
      class="panel"
      aria-label="New alert"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        try {
          await onCreate({
            [kind === 'usd' ? 'threshold_usd' : 'threshold_percent']: Number(value),
            ...(withKey && keyHash.trim() ? { key_hash: keyHash.trim() } : {}),
            ...(hook.trim() ? { webhook_url: hook.trim() } : {}),
          });
          setValue('');
        } catch (err) {
          setError(err);
        }
      }}
    >
      <div class="form-grid">
        <label>
          Alert when
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as 'usd' | 'percent')}>
            <option value="usd">dollars left fall to</option>
            <option value="percent">percent left falls to</option>
          </select>
        </label>
        <label>
          Threshold
          <input required type="number" min="0" step="any" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        {withKey && (
          <label>
            Key hash (empty: the account)
            <input value={keyHash} onInput={(e) => setKeyHash(e.currentTarget.value)} />
          </label>
        )}
        <label>
          Webhook URL (optional)
          <input type="url" value={hook} onInput={(e) => setHook(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Create alert
        </button>
      </div>
      {error !== undefined && <ErrorBox error={error} />}
    </form>
  );
}

function AlertTable({ alerts, onDelete }: { alerts: Alert[]; onDelete?: (a: Alert) => void }) {
  return (
    <DataTable
      columns={[
        { key: 'threshold', header: 'Threshold', cell: threshold },
        {
          key: 'on',
          header: 'On',
          cell: (a) => (a.key_hash ? <span title={a.key_hash}>key {shortHash(a.key_hash)}</span> : (a.scope ?? 'account')),
        },
        { key: 'fired', header: 'Fired', cell: (a) => (a.fired ? <span class="error">fired {dateTime(a.fired_at)}</span> : 'not yet') },
        { key: 'hook', header: 'Webhook', cell: (a) => (a.webhook_url ? new URL(a.webhook_url).host : '') },
        {
          key: 'x',
          header: '',
          cell: (a) =>
            onDelete && (a.scope === undefined || a.scope === 'key') ? (
              <button type="button" class="danger" onClick={() => onDelete(a)}>
                Delete
              </button>
            ) : null,
        },
      ]}
      rows={alerts}
      rowKey={(a) => a.id}
    />
  );
}

export function AccountAlerts({ ctx, prepaid }: { ctx: PageContext; prepaid: boolean }) {
  const q = ctx.accountId ? `?account=${encodeURIComponent(ctx.accountId)}` : '';
  const list = useLoad(() => ctx.api<{ data: Alert[] }>(`/alerts${q}`), [q]);
  const [error, setError] = useState<unknown>(undefined);
  const alerts = list.data?.data ?? [];
  return (
    <>
      <h2>Alerts</h2>
      <p class="muted">
        {prepaid
          ? "Alert on the account's credit or on a key's limit."
          : "This account is postpaid: alert on a key's limit (give its hash)."}
      </p>
      <AlertForm
        withKey
        onCreate={async (body) => {
          await ctx.api('/alerts', {
            method: 'POST',
            body: JSON.stringify({ ...body, ...(ctx.accountId ? { account: ctx.accountId } : {}) }),
          });
          list.reload();
        }}
      />
      {list.error !== undefined && <ErrorBox error={list.error} />}
      {error !== undefined && <ErrorBox error={error} />}
      {list.data &&
        (alerts.length === 0 ? (
          <p class="muted">No alerts yet.</p>
        ) : (
          <AlertTable alerts={alerts} onDelete={(a) => ctx.api(`/alerts/${a.id}`, { method: 'DELETE' }).then(list.reload, setError)} />
        ))}
    </>
  );
}

export function KeyAlerts({
  ctx,
  alerts,
  hasLimit,
  onChange,
}: {
  ctx: PageContext;
  alerts: Alert[];
  hasLimit: boolean;
  onChange: () => void;
}) {
  const [error, setError] = useState<unknown>(undefined);
  return (
    <>
      <h2>Alerts</h2>
      {hasLimit ? (
        <AlertForm
          withKey={false}
          onCreate={async (body) => {
            await ctx.api('/key/alerts', { method: 'POST', body: JSON.stringify(body) });
            onChange();
          }}
        />
      ) : (
        <p class="muted">This key has no credit limit, so there is nothing for a key alert to watch.</p>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      {alerts.length === 0 ? (
        <p class="muted">No alerts watch this key.</p>
      ) : (
        <AlertTable alerts={alerts} onDelete={(a) => ctx.api(`/key/alerts/${a.id}`, { method: 'DELETE' }).then(onChange, setError)} />
      )}
    </>
  );
}
