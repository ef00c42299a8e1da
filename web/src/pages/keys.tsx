/**
 * Keys (management keys and the admin): list the account's keys with their usage against the
 * limit, create one (its secret shown once, with a copy button), disable/enable, edit the limit,
 * reset period, expiry and rpm/tpm, delete. All through /keys.
 */
import { useState } from 'preact/hooks';
import type { PageContext, PageModule } from '../page.ts';
import { dateTime, int, money } from '../ui/format.ts';
import { Empty, ErrorBox, Loading } from '../ui/status.tsx';
import { DataTable } from '../ui/table.tsx';
import type { Column } from '../ui/table.tsx';
import { useLoad } from '../ui/use-api.ts';
import { KeyForm } from './key-form.tsx';
import type { KeyFields } from './key-form.tsx';

export interface KeyRow {
  hash: string;
  name: string;
  label: string;
  kind: 'inference' | 'management';
  disabled: boolean;
  limit: number | null;
  limit_remaining: number | null;
  limit_reset: 'daily' | 'weekly' | 'monthly' | null;
  usage: number;
  usage_monthly: number;
  expires_at: string | null;
  created_at: string;
  rate_limit: { requests_per_minute: number | null; tokens_per_minute: number | null };
}

const PAGE = 100;

export function UsageBar({ k }: { k: KeyRow }) {
  if (k.limit === null) return <span class="muted">{money(k.usage)} · no limit</span>;
  const used = Math.max(0, k.limit - (k.limit_remaining ?? 0));
  const pct = k.limit > 0 ? Math.min(100, (used / k.limit) * 100) : 100;
  return (
    <div class="usage-cell">
      {/* biome-ignore lint/a11y/useSemanticElements: a styled bar; <meter> cannot be styled alike across browsers, the role and values say the same */}
      <div
        class={`bar${pct >= 100 ? ' over' : ''}`}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={k.limit}
        aria-valuenow={used}
        aria-label={`${k.name}: ${money(used)} of ${money(k.limit)} used`}
      >
        <span style={{ width: `${pct}%` }} />
      </div>
      <span class="small">
        {money(used)} / {money(k.limit)}
        {k.limit_reset ? ` ${k.limit_reset}` : ''}
      </span>
    </div>
  );
}

function status(k: KeyRow): string {
  if (k.disabled) return 'disabled';
  if (k.expires_at !== null && Date.parse(k.expires_at) <= Date.now()) return 'expired';
  return 'active';
}

function Keys({ ctx }: { ctx: PageContext }) {
  const account = ctx.accountId ? `&account=${encodeURIComponent(ctx.accountId)}` : '';
  const [pages, setPages] = useState(1);
  const list = useLoad(async () => {
    const all: KeyRow[] = [];
    for (let i = 0; i < pages; i++) {
      const r = await ctx.api<{ data: KeyRow[] }>(`/keys?include_disabled=true&offset=${i * PAGE}${account}`);
      all.push(...r.data);
      if (r.data.length < PAGE) return { keys: all, more: false };
    }
    return { keys: all, more: true };
  }, [account, pages]);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  const act = async (f: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await f();
      list.reload();
    } catch (e) {
      setError(e);
    }
  };

  const create = async (fields: Partial<KeyFields>) => {
    setError(undefined);
    try {
      const r = await ctx.api<{ key: string; data: KeyRow }>('/keys', {
        method: 'POST',
        body: JSON.stringify({ ...fields, ...(ctx.accountId ? { account: ctx.accountId } : {}) }),
      });
      setSecret({ name: r.data.name, key: r.key });
      setCreating(false);
      list.reload();
    } catch (e) {
      setError(e);
    }
  };

  const columns: Column<KeyRow>[] = [
    { key: 'name', header: 'Name', cell: (k) => <span title={k.hash}>{k.name}</span>, sort: (k) => k.name.toLowerCase() },
    { key: 'kind', header: 'Kind', cell: (k) => k.kind, sort: (k) => k.kind },
    {
      key: 'status',
      header: 'Status',
      cell: (k) => <span class={status(k) === 'active' ? 'ok' : 'error'}>{status(k)}</span>,
      sort: status,
    },
    { key: 'usage', header: 'Usage / limit', cell: (k) => <UsageBar k={k} />, sort: (k) => k.usage },
    {
      key: 'rate',
      header: 'rpm / tpm',
      cell: (k) =>
        `${k.rate_limit.requests_per_minute === null ? '—' : int(k.rate_limit.requests_per_minute)} / ${
          k.rate_limit.tokens_per_minute === null ? '—' : int(k.rate_limit.tokens_per_minute)
        }`,
      numeric: true,
    },
    { key: 'expires', header: 'Expires', cell: (k) => dateTime(k.expires_at), sort: (k) => k.expires_at ?? '9' },
    { key: 'created', header: 'Created', cell: (k) => dateTime(k.created_at), sort: (k) => k.created_at },
    {
      key: 'actions',
      header: 'Actions',
      cell: (k) =>
        confirming === k.hash ? (
          <div class="row-actions">
            <button
              type="button"
              class="danger"
              onClick={() => act(() => ctx.api(`/keys/${k.hash}`, { method: 'DELETE' })).then(() => setConfirming(null))}
            >
              Delete {k.name} for good
            </button>
            <button type="button" onClick={() => setConfirming(null)}>
              Keep
            </button>
          </div>
        ) : (
          <div class="row-actions">
            <button type="button" aria-label={`Edit ${k.name}`} onClick={() => setEditing(editing === k.hash ? null : k.hash)}>
              Edit
            </button>
            <button
              type="button"
              aria-label={`${k.disabled ? 'Enable' : 'Disable'} ${k.name}`}
              onClick={() => act(() => ctx.api(`/keys/${k.hash}`, { method: 'PATCH', body: JSON.stringify({ disabled: !k.disabled }) }))}
            >
              {k.disabled ? 'Enable' : 'Disable'}
            </button>
            <button type="button" class="danger" aria-label={`Delete ${k.name}`} onClick={() => setConfirming(k.hash)}>
              Delete
            </button>
          </div>
        ),
    },
  ];

  const keys = list.data?.keys ?? [];
  const edited = keys.find((k) => k.hash === editing);
  return (
    <section aria-labelledby="keys-h">
      <h1 id="keys-h">Keys</h1>
      <div class="toolbar">
        <button
          type="button"
          class="primary"
          onClick={() => {
            setCreating(!creating);
            setSecret(null);
          }}
          aria-expanded={creating}
        >
          Create a key
        </button>
      </div>
      {error !== undefined && <ErrorBox error={error} />}
      {secret && (
        <div class="panel" role="status">
          <p>
            <strong>Key “{secret.name}” created.</strong> Copy it now: Freeway keeps only its hash and cannot show it again.
          </p>
          <div class="secret">
            <code data-secret>{secret.key}</code>
            <CopyButton text={secret.key} />
            <button type="button" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {creating && <KeyForm title="New key" submitLabel="Create key" withKind onSubmit={create} onCancel={() => setCreating(false)} />}
      {edited && (
        <KeyForm
          title={`Edit ${edited.name}`}
          submitLabel="Save"
          initial={edited}
          onSubmit={(fields) =>
            act(() => ctx.api(`/keys/${edited.hash}`, { method: 'PATCH', body: JSON.stringify(fields) })).then(() => setEditing(null))
          }
          onCancel={() => setEditing(null)}
        />
      )}
      {list.error !== undefined && <ErrorBox error={list.error} />}
      {list.loading && !list.data && <Loading />}
      {list.data &&
        (keys.length === 0 ? (
          <Empty title="No keys in this account yet.">
            <p>Create an inference key to call models with, or a management key for this account's tools.</p>
          </Empty>
        ) : (
          <DataTable columns={columns} rows={keys} rowKey={(k) => k.hash} initialSort={{ key: 'created', desc: true }} />
        ))}
      {list.data?.more && (
        <button type="button" onClick={() => setPages(pages + 1)}>
          Load more keys
        </button>
      )}
    </section>
  );
}

export function CopyButton({ text }: { text: string }) {
  const [done, setDone] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setDone('Copied');
          } catch {
            setDone('Copy refused by the browser: select the key and copy it');
          }
        }}
      >
        Copy
      </button>
      <span role="status" class="muted">
        {done}
      </span>
    </>
  );
}

export const page: PageModule = {
  path: '/keys',
  title: 'Keys',
  forKinds: ['management'],
  component: Keys,
};
