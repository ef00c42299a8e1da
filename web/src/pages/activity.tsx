/**
 * Activity: spend, tokens and requests over time, stacked by model, provider, key or app, from
 * GET /usage (an inference key's own, a management key's account). Totals, a table by group,
 * CSV export of every bucket and group.
 */
import { useMemo, useState } from 'preact/hooks';
import type { PageContext, PageModule } from '../page.ts';
import { StackedBars } from '../ui/chart.tsx';
import { download, toCsv } from '../ui/csv.ts';
import { compact, int, money, moneyShort, shortHash, sumUsd, toNanos } from '../ui/format.ts';
import { buckets, presetRange, RangePicker } from '../ui/range.tsx';
import type { Range } from '../ui/range.tsx';
import { Empty, ErrorBox, Loading } from '../ui/status.tsx';
import { DataTable } from '../ui/table.tsx';
import type { Column } from '../ui/table.tsx';
import { useLoad } from '../ui/use-api.ts';

type Dim = 'model' | 'provider' | 'key' | 'app';
type Metric = 'usage' | 'requests' | 'prompt_tokens' | 'completion_tokens' | 'cached_tokens' | 'reasoning_tokens';

interface UsageRow {
  date?: string;
  hour?: string;
  model?: string;
  provider?: string;
  key_hash?: string;
  app?: string | null;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  usage: number;
}

const METRICS: Array<{ id: Metric; label: string }> = [
  { id: 'usage', label: 'Spend' },
  { id: 'requests', label: 'Requests' },
  { id: 'prompt_tokens', label: 'Prompt tokens' },
  { id: 'completion_tokens', label: 'Completion tokens' },
  { id: 'cached_tokens', label: 'Cached tokens' },
  { id: 'reasoning_tokens', label: 'Reasoning tokens' },
];

const DIMS: Array<{ id: Dim; label: string }> = [
  { id: 'model', label: 'Model' },
  { id: 'provider', label: 'Provider' },
  { id: 'key', label: 'Key' },
  { id: 'app', label: 'App' },
];

/** Groups beyond this many are drawn as one "other" band (the table still lists them all). */
const MAX_BANDS = 8;

interface Group {
  id: string;
  label: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** Spend in nano-dollars: summed exactly. */
  nanos: number;
}

function groupId(r: UsageRow, dim: Dim): string {
  const v = dim === 'key' ? r.key_hash : r[dim];
  return v ?? '';
}

function Activity({ ctx }: { ctx: PageContext }) {
  const [range, setRange] = useState<Range>(() => presetRange('7d'));
  const [dim, setDim] = useState<Dim>('model');
  const [metric, setMetric] = useState<Metric>('usage');
  const inference = ctx.key.kind === 'inference';
  const dims = inference ? DIMS.filter((d) => d.id !== 'key') : DIMS;
  const account = ctx.accountId ? `&account=${encodeURIComponent(ctx.accountId)}` : '';

  const usage = useLoad(
    () =>
      ctx.api<{ data: UsageRow[] }>(
        `/usage?group_by=${range.bucket === 'hour' ? 'hour' : 'day'},${dim}&from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}${account}`,
      ),
    [range.from, range.to, range.bucket, dim, account],
  );
  // Key names for the key dimension (a management key lists its account's keys).
  const keyNames = useLoad(async () => {
    if (inference || dim !== 'key') return new Map<string, string>();
    const r = await ctx.api<{ data: Array<{ hash: string; name: string }> }>(`/keys?include_disabled=true${account}`);
    return new Map(r.data.map((k) => [k.hash, k.name]));
  }, [dim, account]);

  const view = useMemo(() => {
    const rows = usage.data?.data ?? [];
    const names = keyNames.data ?? new Map<string, string>();
    const label = (id: string) =>
      dim === 'key' ? (names.get(id) ?? shortHash(id)) : id === '' ? (dim === 'app' ? '(no app)' : '(unknown)') : id;
    const groups = new Map<string, Group>();
    for (const r of rows) {
      const id = groupId(r, dim);
      const g = groups.get(id) ?? {
        id,
        label: label(id),
        requests: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cached_tokens: 0,
        reasoning_tokens: 0,
        nanos: 0,
      };
      g.requests += r.requests;
      g.prompt_tokens += r.prompt_tokens;
      g.completion_tokens += r.completion_tokens;
      g.cached_tokens += r.cached_tokens;
      g.reasoning_tokens += r.reasoning_tokens;
      g.nanos += toNanos(r.usage);
      groups.set(id, g);
    }
    const value = (g: Group | UsageRow) => (metric === 'usage' ? ('nanos' in g ? g.nanos / 1e9 : g.usage) : g[metric]);
    const sorted = [...groups.values()].sort((a, b) => value(b) - value(a) || b.requests - a.requests);
    const shown = sorted.slice(0, MAX_BANDS);
    const rest = new Set(sorted.slice(MAX_BANDS).map((g) => g.id));
    const xs = buckets(range);
    const index = new Map(xs.map((b, i) => [b, i]));
    const bands = [
      ...shown.map((g) => ({ id: g.id, label: g.label })),
      ...(rest.size ? [{ id: '\u0000other', label: `${rest.size} more` }] : []),
    ];
    const bandIndex = new Map(bands.map((b, i) => [b.id, i]));
    const series = bands.map((b) => ({ label: b.label, values: xs.map(() => 0) }));
    for (const r of rows) {
      const i = index.get((range.bucket === 'hour' ? r.hour : r.date) ?? '');
      const id = groupId(r, dim);
      const s = bandIndex.get(rest.has(id) ? '\u0000other' : id);
      if (i === undefined || s === undefined) continue;
      series[s].values[i] += metric === 'usage' ? toNanos(r.usage) : r[metric];
    }
    if (metric === 'usage') for (const s of series) s.values = s.values.map((n) => n / 1e9);
    const x = xs.map((b) => Date.parse(range.bucket === 'hour' ? `${b}:00:00Z` : `${b}T00:00:00Z`) / 1000);
    const total = {
      requests: sorted.reduce((n, g) => n + g.requests, 0),
      prompt_tokens: sorted.reduce((n, g) => n + g.prompt_tokens, 0),
      completion_tokens: sorted.reduce((n, g) => n + g.completion_tokens, 0),
      cached_tokens: sorted.reduce((n, g) => n + g.cached_tokens, 0),
      reasoning_tokens: sorted.reduce((n, g) => n + g.reasoning_tokens, 0),
      usd: sumUsd(rows.map((r) => r.usage)),
    };
    return { rows, groups: sorted, x, series, total, label };
  }, [usage.data, keyNames.data, dim, metric, range]);

  const fmt = metric === 'usage' ? money : compact;
  const columns: Column<Group>[] = [
    { key: 'label', header: DIMS.find((d) => d.id === dim)!.label, cell: (g) => g.label, sort: (g) => g.label },
    { key: 'requests', header: 'Requests', cell: (g) => int(g.requests), sort: (g) => g.requests, numeric: true },
    { key: 'prompt', header: 'Prompt', cell: (g) => int(g.prompt_tokens), sort: (g) => g.prompt_tokens, numeric: true },
    { key: 'completion', header: 'Completion', cell: (g) => int(g.completion_tokens), sort: (g) => g.completion_tokens, numeric: true },
    { key: 'cached', header: 'Cached', cell: (g) => int(g.cached_tokens), sort: (g) => g.cached_tokens, numeric: true },
    { key: 'reasoning', header: 'Reasoning', cell: (g) => int(g.reasoning_tokens), sort: (g) => g.reasoning_tokens, numeric: true },
    { key: 'spend', header: 'Spend', cell: (g) => money(g.nanos / 1e9), sort: (g) => g.nanos, numeric: true },
  ];

  const exportCsv = () => {
    const header = ['bucket', dim, 'requests', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'reasoning_tokens', 'usage_usd'];
    const rows = view.rows.map((r) => [
      (range.bucket === 'hour' ? r.hour : r.date) ?? '',
      dim === 'key' ? `${view.label(groupId(r, dim))} (${groupId(r, dim)})` : groupId(r, dim),
      r.requests,
      r.prompt_tokens,
      r.completion_tokens,
      r.cached_tokens,
      r.reasoning_tokens,
      r.usage,
    ]);
    download(`freeway-activity-${range.from.slice(0, 10)}-${range.to.slice(0, 10)}-by-${dim}.csv`, toCsv(header, rows));
  };

  return (
    <section aria-labelledby="activity-h">
      <h1 id="activity-h">Activity</h1>
      <div class="toolbar">
        <RangePicker value={range} onChange={setRange} />
      </div>
      <div class="toolbar">
        <label>
          Show
          <select aria-label="Metric" value={metric} onChange={(e) => setMetric(e.currentTarget.value as Metric)}>
            {METRICS.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          by
          <select aria-label="Group by" value={dim} onChange={(e) => setDim(e.currentTarget.value as Dim)}>
            {dims.map((d) => (
              <option key={d.id} value={d.id}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={exportCsv} disabled={!view.rows.length}>
          Export CSV
        </button>
      </div>
      {usage.error !== undefined && <ErrorBox error={usage.error} />}
      {usage.loading && !usage.data && <Loading />}
      {usage.data && (
        <>
          <dl class="cards" aria-label="Totals for the range">
            <Card id="spend" label="Spend" value={money(view.total.usd)} />
            <Card id="requests" label="Requests" value={int(view.total.requests)} />
            <Card id="prompt" label="Prompt tokens" value={int(view.total.prompt_tokens)} />
            <Card id="completion" label="Completion tokens" value={int(view.total.completion_tokens)} />
            <Card id="cached" label="Cached tokens" value={int(view.total.cached_tokens)} />
            <Card id="reasoning" label="Reasoning tokens" value={int(view.total.reasoning_tokens)} />
          </dl>
          {view.rows.length === 0 ? (
            <NoRequests ctx={ctx} />
          ) : (
            <>
              <StackedBars
                x={view.x}
                series={view.series}
                format={fmt}
                axis={metric === 'usage' ? moneyShort : compact}
                hourly={range.bucket === 'hour'}
                label={`${METRICS.find((m) => m.id === metric)!.label} by ${dim}, ${range.bucket === 'hour' ? 'per hour' : 'per day'}`}
              />
              <DataTable
                columns={columns}
                rows={view.groups}
                rowKey={(g) => g.id}
                caption={`By ${dim}`}
                initialSort={{ key: 'spend', desc: true }}
              />
            </>
          )}
        </>
      )}
    </section>
  );
}

function Card({ id, label, value }: { id: string; label: string; value: string }) {
  return (
    <div class="card" data-total={id}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function NoRequests({ ctx }: { ctx: PageContext }) {
  const origin = location.origin;
  return (
    <Empty title="No requests in this range yet — here is how to make one.">
      <pre class="code">{`curl ${origin}/api/v1/chat/completions \\
  -H "Authorization: Bearer $FREEWAY_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}'`}</pre>
      <p class="muted">
        {ctx.key.kind === 'inference'
          ? 'Use this key as FREEWAY_KEY.'
          : 'Create an inference key on the Keys page and use it as FREEWAY_KEY.'}
      </p>
    </Empty>
  );
}

export const page: PageModule = {
  path: '/activity',
  title: 'Activity',
  forKinds: ['inference', 'management'],
  component: Activity,
};
