/**
 * The Credits page's ledger: a page of movements at a time from GET /credits/ledger (newest first),
 * "Load more" following the API's next_cursor, and a kind filter the API applies.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PageContext } from '../page.ts';
import { dateTime, money, shortHash } from '../ui/format.ts';
import { Empty, ErrorBox, Loading } from '../ui/status.tsx';
import { DataTable } from '../ui/table.tsx';

type LedgerKind = 'topup' | 'charge' | 'refund' | 'adjustment';

interface LedgerRow {
  id: string;
  kind: LedgerKind;
  amount: number;
  upstream: number | null;
  fee: number | null;
  key_hash: string | null;
  note: string | null;
  created_at: string;
}

const PAGE = 100;

/** `query` is the account part of the API query; a change of `version` (a top-up) reloads from the newest. */
export function Ledger({ ctx, query, version }: { ctx: PageContext; query: string; version: number }) {
  const [kind, setKind] = useState<'' | LedgerKind>('');
  const [rows, setRows] = useState<LedgerRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(false);
  // Each first-page load starts a new run; an answer from an older run (other filter) is dropped.
  const run = useRef(0);

  const load = (cursor: string | null) => {
    const mine = cursor === null ? ++run.current : run.current;
    const p = new URLSearchParams(query);
    p.set('limit', String(PAGE));
    if (kind) p.set('kind', kind);
    if (cursor) p.set('cursor', cursor);
    setLoading(true);
    setError(undefined);
    ctx
      .api<{ data: LedgerRow[]; next_cursor: string | null }>(`/credits/ledger?${p}`)
      .then(
        (r) => {
          if (mine !== run.current) return;
          setRows((old) => (cursor && old ? [...old, ...r.data] : r.data));
          setNext(r.next_cursor);
        },
        (err: unknown) => mine === run.current && setError(err),
      )
      .finally(() => mine === run.current && setLoading(false));
  };
  useEffect(() => {
    setRows(null);
    setNext(null);
    load(null);
  }, [query, kind, version]);

  return (
    <>
      <div class="toolbar">
        <label>
          Ledger kind
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as '' | LedgerKind)}>
            <option value="">all</option>
            <option value="topup">top-ups</option>
            <option value="charge">charges</option>
            <option value="refund">refunds</option>
            <option value="adjustment">adjustments</option>
          </select>
        </label>
      </div>
      {error !== undefined && <ErrorBox error={error} />}
      {rows === null && error === undefined && <Loading />}
      {rows &&
        (rows.length === 0 ? (
          <Empty title={kind ? 'No movements of this kind.' : 'No movements yet.'}>
            <p>{ctx.key.isAdmin ? 'Top up the account above.' : 'The operator tops this account up; its requests are charged here.'}</p>
          </Empty>
        ) : (
          <DataTable
            caption={`${rows.length} movements, newest first${next ? ' (more to load)' : ''}`}
            columns={[
              { key: 'at', header: 'When', cell: (r) => dateTime(r.created_at), sort: (r) => r.created_at },
              { key: 'kind', header: 'Kind', cell: (r) => r.kind, sort: (r) => r.kind },
              { key: 'amount', header: 'Amount', cell: (r) => money(r.amount), sort: (r) => r.amount, numeric: true },
              { key: 'fee', header: 'Of which fee', cell: (r) => (r.fee === null ? '' : money(r.fee)), numeric: true },
              { key: 'key', header: 'Key', cell: (r) => (r.key_hash ? <span title={r.key_hash}>{shortHash(r.key_hash)}</span> : '') },
              { key: 'note', header: 'Note / id', cell: (r) => r.note ?? r.id },
            ]}
            rows={rows}
            rowKey={(r) => r.id}
          />
        ))}
      {next && (
        <button type="button" disabled={loading} onClick={() => load(next)}>
          Load more movements
        </button>
      )}
    </>
  );
}
