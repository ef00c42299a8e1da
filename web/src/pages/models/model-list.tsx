/**
 * The catalog: search, filters and sort are GET /models' own query parameters (so the count and
 * the page are the server's), paged with offset/limit.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PageContext } from '../../page.ts';
import { errorText, listedPrice, tokens } from './format.ts';

export interface ModelRow {
  id: string;
  name: string;
  context_length: number | null;
  architecture: { input_modalities: string[]; output_modalities: string[]; tokenizer?: string | null };
  pricing: { prompt: string; completion: string };
}

interface Provider {
  slug: string;
  name: string;
  model_count: number;
}

export interface Filters {
  q: string;
  input: string;
  output: string;
  context: string;
  maxPrice: string;
  provider: string;
  free: boolean;
  sort: string;
}

const EMPTY: Filters = { q: '', input: '', output: 'text', context: '', maxPrice: '', provider: '', free: false, sort: '' };
const PAGE = 50;

const SORTS: Array<[string, string]> = [
  ['', 'Model id'],
  ['pricing-low-to-high', 'Price: low to high'],
  ['pricing-high-to-low', 'Price: high to low'],
  ['context-high-to-low', 'Context: largest'],
  ['newest', 'Newest'],
  ['throughput-high-to-low', 'Throughput: fastest'],
  ['latency-low-to-high', 'Latency: lowest'],
];

/** The query string for GET /models: only the filters that are set. */
export function modelQuery(f: Filters, offset: number): string {
  const p = new URLSearchParams();
  if (f.q.trim()) p.set('q', f.q.trim());
  if (f.input) p.set('input_modalities', f.input);
  if (f.output) p.set('output_modalities', f.output);
  if (f.context) p.set('context', f.context);
  if (f.free) {
    p.set('max_price', '0');
    p.set('max_output_price', '0');
  } else if (f.maxPrice) p.set('max_price', f.maxPrice);
  if (f.provider) p.set('providers', f.provider);
  if (f.sort) p.set('sort', f.sort);
  p.set('offset', String(offset));
  p.set('limit', String(PAGE));
  return p.toString();
}

/** The filters a /models?… address carries (the page keeps them there, so Back and a shared link restore them). */
export function filtersFrom(search: string): { filters: Filters; offset: number } {
  const p = new URLSearchParams(search);
  const free = p.get('max_price') === '0' && p.get('max_output_price') === '0';
  const offset = Number(p.get('offset'));
  return {
    filters: {
      q: p.get('q') ?? '',
      input: p.get('input_modalities') ?? '',
      output: p.get('output_modalities') ?? EMPTY.output,
      context: p.get('context') ?? '',
      maxPrice: free ? '' : (p.get('max_price') ?? ''),
      provider: p.get('providers') ?? '',
      free,
      sort: p.get('sort') ?? '',
    },
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

export function ModelList({ ctx }: { ctx: PageContext }) {
  const [initial] = useState(() => filtersFrom(location.search));
  const [f, setF] = useState<Filters>(initial.filters);
  const [q, setQ] = useState(initial.filters.q);
  const [offset, setOffset] = useState(initial.offset);
  const [data, setData] = useState<{ rows: ModelRow[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [providers, setProviders] = useState<Provider[]>([]);

  useEffect(() => {
    ctx.api<{ data: Provider[] }>('/providers').then(
      (r) => setProviders(r.data),
      () => setProviders([]),
    );
  }, []);
  // Typing waits a moment before asking the server, so each keystroke is not a request.
  useEffect(() => {
    const t = setTimeout(() => {
      setF((old) => {
        if (old.q === q) return old;
        setOffset(0);
        return { ...old, q };
      });
    }, 250);
    return () => clearTimeout(t);
  }, [q]);
  useEffect(() => {
    let live = true;
    setError(null);
    const shown = new URLSearchParams(modelQuery(f, offset));
    shown.delete('limit');
    if (offset === 0) shown.delete('offset');
    if (f.output === EMPTY.output) shown.delete('output_modalities');
    const address = `/models${shown.size > 0 ? `?${shown}` : ''}`;
    if (location.pathname + location.search !== address) history.replaceState(history.state, '', address);
    ctx.api<{ data: ModelRow[]; total_count: number }>(`/models?${modelQuery(f, offset)}`).then(
      (r) => live && setData({ rows: r.data, total: r.total_count }),
      (err) => live && setError(errorText(err)),
    );
    return () => void (live = false);
  }, [f, offset]);

  const set = (patch: Partial<Filters>) => {
    setF({ ...f, ...patch });
    setOffset(0);
  };
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;

  return (
    <section class="fw-models">
      {/* biome-ignore lint/a11y/useSemanticElements: the <search> element is too new for every screen reader; the role says the same */}
      <form class="fw-filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label class="fw-grow">
          Search
          <input type="search" name="q" placeholder="claude sonnet, gpt-4o…" value={q} onInput={(e) => setQ(value(e))} />
        </label>
        <label>
          Input
          <select name="input" value={f.input} onChange={(e) => set({ input: value(e) })}>
            <option value="">any</option>
            {['text', 'image', 'file', 'audio', 'video'].map((m) => (
              <option value={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Output
          <select name="output" value={f.output} onChange={(e) => set({ output: value(e) })}>
            {['text', 'image', 'embeddings', 'audio', 'all'].map((m) => (
              <option value={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Context at least
          <select name="context" value={f.context} onChange={(e) => set({ context: value(e) })}>
            <option value="">any</option>
            {[16_000, 64_000, 128_000, 200_000, 1_000_000].map((n) => (
              <option value={String(n)}>{tokens(n)}</option>
            ))}
          </select>
        </label>
        <label>
          Max input price ($/M)
          <input
            name="max_price"
            type="number"
            min="0"
            step="any"
            inputMode="decimal"
            value={f.maxPrice}
            disabled={f.free}
            onChange={(e) => set({ maxPrice: value(e) })}
          />
        </label>
        <label>
          Provider
          <select name="provider" value={f.provider} onChange={(e) => set({ provider: value(e) })}>
            <option value="">any</option>
            {providers.map((p) => (
              <option value={p.slug}>
                {p.name} ({p.model_count})
              </option>
            ))}
          </select>
        </label>
        <label class="fw-check">
          <input
            name="free"
            type="checkbox"
            checked={f.free}
            onChange={(e) => set({ free: (e.currentTarget as HTMLInputElement).checked })}
          />
          Free only
        </label>
        <label>
          Sort
          <select name="sort" value={f.sort} onChange={(e) => set({ sort: value(e) })}>
            {SORTS.map(([v, t]) => (
              <option value={v}>{t}</option>
            ))}
          </select>
        </label>
      </form>
      {error && (
        <p class="fw-error" role="alert">
          {error}
        </p>
      )}
      {data && (
        <>
          <p class="fw-count" aria-live="polite">
            {data.total} model{data.total === 1 ? '' : 's'}
            {data.total > PAGE && ` · showing ${offset + 1}–${offset + data.rows.length}`}
          </p>
          {data.rows.length === 0 ? (
            <p class="fw-empty">No model matches these filters. Clear the search or widen a filter.</p>
          ) : (
            <div class="fw-scroll">
              <table class="fw-table">
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Context</th>
                    <th scope="col">Input $/M</th>
                    <th scope="col">Output $/M</th>
                    <th scope="col" class="fw-hide-phone">
                      Modalities
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.rows.map((m) => (
                    <tr data-model={m.id}>
                      <td>
                        <a
                          href={`/models/${m.id}`}
                          onClick={(e) => {
                            e.preventDefault();
                            ctx.navigate(`/models/${m.id}`);
                          }}
                        >
                          {m.name}
                        </a>
                        <div class="fw-sub">
                          <code>{m.id}</code>
                        </div>
                      </td>
                      <td class="fw-num">{tokens(m.context_length)}</td>
                      <td class="fw-num">{listedPrice(m, m.pricing.prompt)}</td>
                      <td class="fw-num">{listedPrice(m, m.pricing.completion)}</td>
                      <td class="fw-hide-phone">
                        {m.architecture.input_modalities.join(', ')} → {m.architecture.output_modalities.join(', ')}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {data.total > PAGE && (
            <nav class="fw-pager" aria-label="Pages">
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                Previous
              </button>
              <button type="button" disabled={offset + PAGE >= data.total} onClick={() => setOffset(offset + PAGE)}>
                Next
              </button>
            </nav>
          )}
        </>
      )}
      {!data && !error && <p class="fw-empty">Loading models…</p>}
    </section>
  );
}
