/**
 * The generation log: GET /generations with its filters, newest first, a page at a time through
 * next_cursor ("Load more"); a row opens its detail beside the table.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PageContext } from '../../page.ts';
import { errorText, ms, usd, when } from '../models/format.ts';
import { GenerationDetail } from './generation-detail.tsx';
import { statusOf } from './types.ts';
import type { Generation } from './types.ts';

interface Filters {
  key: string;
  model: string;
  provider: string;
  status: string;
  app: string;
  user: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { key: '', model: '', provider: '', status: '', app: '', user: '', from: '', to: '' };
const PAGE = 50;

/** GET /generations' query: the filters that are set, the viewed account for the admin, and the cursor. */
export function generationQuery(f: Filters, ctx: PageContext, cursor: string | null): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (!v.trim()) continue;
    // A datetime-local value is the viewer's local time; the API takes an instant.
    p.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v.trim());
  }
  if (ctx.key.isAdmin && ctx.accountId) p.set('account', ctx.accountId);
  p.set('limit', String(PAGE));
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

export function GenerationList({ ctx }: { ctx: PageContext }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [f, setF] = useState<Filters>(EMPTY);
  const [rows, setRows] = useState<Generation[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Generation | null>(null);
  const [loading, setLoading] = useState(false);

  const load = (filters: Filters, cursor: string | null) => {
    setLoading(true);
    setError(null);
    return ctx
      .api<{ data: Generation[]; next_cursor: string | null }>(`/generations?${generationQuery(filters, ctx, cursor)}`)
      .then(
        (r) => {
          setRows((old) => (cursor && old ? [...old, ...r.data] : r.data));
          setNext(r.next_cursor);
        },
        (err) => setError(errorText(err)),
      )
      .finally(() => setLoading(false));
  };
  useEffect(() => {
    setOpen(null);
    void load(f, null);
  }, [f, ctx.accountId]);

  const field = (name: keyof Filters, label: string, type: 'text' | 'datetime-local' = 'text', placeholder = '') => {
    const props = {
      name,
      value: draft[name],
      onInput: (e: Event) => setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value }),
    };
    return (
      // biome-ignore lint/a11y/noLabelWithoutControl: the label wraps its input (one of two kinds, chosen below)
      <label>
        {label}
        {type === 'text' ? <input type="text" placeholder={placeholder} {...props} /> : <input type="datetime-local" {...props} />}
      </label>
    );
  };
  const filtered = Object.values(f).some((v) => v !== '');
  return (
    <section class="fw-gens">
      <form
        class="fw-filters"
        aria-label="Filter generations"
        onSubmit={(e) => {
          e.preventDefault();
          setF({ ...draft });
        }}
      >
        {field('model', 'Model', 'text', 'openai/gpt-4o-mini')}
        {field('provider', 'Provider', 'text', 'openai')}
        <label>
          Status
          <select
            name="status"
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            <option value="success">success</option>
            <option value="error">error</option>
            <option value="cancelled">cancelled</option>
          </select>
        </label>
        {ctx.key.kind === 'management' && field('key', 'Key hash')}
        {field('app', 'App')}
        {field('user', 'User')}
        {field('from', 'From', 'datetime-local')}
        {field('to', 'To', 'datetime-local')}
        <button type="submit">Apply</button>
        <button type="button" disabled={loading} onClick={() => void load(f, null)}>
          Refresh
        </button>
        {filtered && (
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setF(EMPTY);
            }}
          >
            Clear
          </button>
        )}
      </form>
      {error && (
        <p class="fw-error" role="alert">
          {error}
        </p>
      )}
      {rows &&
        rows.length === 0 &&
        (filtered ? (
          <p class="fw-empty">No generation matches these filters.</p>
        ) : (
          <div class="fw-empty">
            <p>No requests yet. Make one with your inference key, and it shows here as soon as its answer ends:</p>
            <pre class="fw-code">
              <code>{`curl ${location.origin}/api/v1/chat/completions \\
  -H "Authorization: Bearer $FREEWAY_API_KEY" -H "Content-Type: application/json" \\
  -d '{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}'`}</code>
            </pre>
          </div>
        ))}
      <div class={open ? 'fw-split fw-split-open' : 'fw-split'}>
        {rows && rows.length > 0 && (
          <div class="fw-scroll">
            <table class="fw-table fw-gen-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Model</th>
                  <th scope="col" class="fw-hide-phone">
                    Provider
                  </th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Cost</th>
                  <th scope="col" class="fw-hide-phone">
                    Latency
                  </th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((g) => (
                  <tr data-id={g.id} aria-selected={open?.id === g.id} class={open?.id === g.id ? 'fw-selected' : ''}>
                    <td>
                      <button type="button" class="fw-link" onClick={() => setOpen(g)}>
                        {when(g.created_at)}
                      </button>
                    </td>
                    <td>
                      {g.model}
                      {g.app_title && <div class="fw-sub">{g.app_title}</div>}
                    </td>
                    <td class="fw-hide-phone">
                      {g.provider_name}
                      {g.provider_responses.length > 1 && <span class="fw-sub"> +{g.provider_responses.length - 1}</span>}
                    </td>
                    <td class="fw-num">
                      {g.tokens_prompt} → {g.tokens_completion}
                    </td>
                    <td class="fw-num">{usd(g.total_cost)}</td>
                    <td class="fw-num fw-hide-phone">{ms(g.latency)}</td>
                    <td>
                      <span class={`fw-status fw-status-${statusOf(g)}`}>{statusOf(g)}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {next && (
              <button type="button" class="fw-more" disabled={loading} onClick={() => void load(f, next)}>
                Load more
              </button>
            )}
          </div>
        )}
        {open && <GenerationDetail ctx={ctx} row={open} onClose={() => setOpen(null)} />}
      </div>
      {!rows && !error && <p class="fw-empty">Loading…</p>}
    </section>
  );
}
