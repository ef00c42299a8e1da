/**
 * A Prometheus registry of our own, text exposition format 0.0.4: counters, gauges (optionally
 * filled by a callback at scrape time), histograms with fixed buckets, and values sampled at scrape
 * time. It exists so that the request path pays a Map lookup and an addition per update, with no
 * label validation or hashing, and so the process does not carry a general-purpose client library.
 *
 * A series' label text is rendered and escaped once, when the series is first seen; a scrape only
 * concatenates. Label values must be bounded by the caller (each distinct set is a series forever).
 */

export type Labels<L extends string> = Readonly<Record<L, string>>;
type MetricType = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly name: string;
  collect?(): void | Promise<void>;
  render(): string;
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class Registry {
  private readonly families: Family[] = [];
  private readonly hooks: Array<() => void | Promise<void>> = [];

  register(f: Family): void {
    if (this.families.some((g) => g.name === f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.push(f);
  }

  /** Runs before every scrape's callbacks: a place to read a source once for several families. */
  beforeScrape(hook: () => void | Promise<void>): void {
    this.hooks.push(hook);
  }

  async text(): Promise<string> {
    for (const h of this.hooks) await h();
    // Callbacks may wait on the database; they run together so a scrape waits for the slowest only.
    await Promise.all(this.families.map((f) => f.collect?.()));
    return this.families.map((f) => f.render()).join('\n');
  }
}

function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's strconv spellings, which is what Prometheus parses for the special values. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function header(name: string, help: string, type: MetricType): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

interface Config<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

/** Series storage shared by the families: label values to one state, keyed by the joined values. */
abstract class Labelled<L extends string, S> implements Family {
  readonly name: string;
  /** The HELP and TYPE lines, written once. */
  protected readonly head: string;
  protected readonly labelNames: readonly L[];
  /** `labels` is the rendered `a="x",b="y"` (empty without labels). */
  protected readonly series = new Map<string, { labels: string; state: S }>();

  constructor(registry: Registry, config: Config<L>, type: MetricType) {
    this.name = config.name;
    this.head = header(config.name, config.help, type);
    this.labelNames = config.labelNames ?? [];
    registry.register(this);
  }

  protected abstract fresh(): S;
  abstract render(): string;

  protected key(labels: Labels<L>): string {
    const names = this.labelNames;
    if (names.length === 0) return '';
    let k = labels[names[0]];
    for (let i = 1; i < names.length; i++) k += `\0${labels[names[i]]}`;
    return k;
  }

  /**
   * The state of a series. `key` must identify the label values (callers that already hold the
   * values joined pass that string and skip building the labels object on every update).
   */
  protected at(key: string, labels: () => Labels<L>): S {
    const s = this.series.get(key);
    if (s) return s.state;
    const l = labels();
    const text = this.labelNames.map((n) => `${n}="${escapeLabelValue(l[n] ?? '')}"`).join(',');
    const created = { labels: text, state: this.fresh() };
    this.series.set(key, created);
    return created.state;
  }

  /** The series to render. An unlabelled metric always has its one, so a scrape shows it at zero. */
  protected rows(): Iterable<{ labels: string; state: S }> {
    if (this.labelNames.length === 0 && this.series.size === 0) this.at('', () => ({}) as Labels<L>);
    return this.series.values();
  }

  /** Drops every series (a gauge that a callback refills from scratch each scrape). */
  reset(): void {
    this.series.clear();
  }
}

function braces(labels: string): string {
  return labels ? `{${labels}}` : '';
}

/** A family whose series each hold one number (counters and gauges). */
abstract class Valued<L extends string> extends Labelled<L, { value: number }> {
  protected fresh(): { value: number } {
    return { value: 0 };
  }

  render(): string {
    let out = this.head;
    for (const s of this.rows()) out += `${this.name}${braces(s.labels)} ${formatValue(s.state.value)}\n`;
    return out;
  }
}

export class Counter<L extends string = never> extends Valued<L> {
  constructor(registry: Registry, config: Config<L>) {
    super(registry, config, 'counter');
  }

  inc(labels: Labels<L>, n = 1): void {
    this.at(this.key(labels), () => labels).value += n;
  }

  /** `inc` for a caller that already has the label values joined into `key` (see `at`). */
  add(key: string, labels: () => Labels<L>, n = 1): void {
    this.at(key, labels).value += n;
  }
}

export class Gauge<L extends string = never> extends Valued<L> {
  private readonly fill: ((g: Gauge<L>) => void | Promise<void>) | undefined;

  constructor(registry: Registry, config: Config<L> & { collect?: (g: Gauge<L>) => void | Promise<void> }) {
    super(registry, config, 'gauge');
    this.fill = config.collect;
  }

  collect(): void | Promise<void> {
    return this.fill?.(this);
  }

  set(value: number, labels: Labels<L> = {} as Labels<L>): void {
    this.at(this.key(labels), () => labels).value = value;
  }

  inc(n = 1, labels: Labels<L> = {} as Labels<L>): void {
    this.at(this.key(labels), () => labels).value += n;
  }

  dec(n = 1, labels: Labels<L> = {} as Labels<L>): void {
    this.inc(-n, labels);
  }
}

interface Buckets {
  /** Observations per bucket, not cumulative (the last one is above every bound): cumulated when rendered. */
  counts: Float64Array;
  sum: number;
}

export class Histogram<L extends string = never> extends Labelled<L, Buckets> {
  private readonly bounds: readonly number[];
  private readonly le: readonly string[];

  constructor(registry: Registry, config: Config<L> & { buckets: readonly number[] }) {
    super(registry, config, 'histogram');
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.le = [...this.bounds.map(formatValue), '+Inf'];
  }

  protected fresh(): Buckets {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0 };
  }

  observe(labels: Labels<L>, v: number): void {
    this.record(
      this.at(this.key(labels), () => labels),
      v,
    );
  }

  /** `observe` for a caller that already has the label values joined into `key` (see `at`). */
  observeAt(key: string, labels: () => Labels<L>, v: number): void {
    this.record(this.at(key, labels), v);
  }

  private record(b: Buckets, v: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++;
    b.counts[i]++;
    b.sum += v;
  }

  render(): string {
    const n = this.name;
    let out = this.head;
    for (const s of this.rows()) {
      const rest = s.labels ? `,${s.labels}` : '';
      let cumulative = 0;
      for (let i = 0; i < this.le.length; i++) {
        cumulative += s.state.counts[i];
        out += `${n}_bucket{le="${this.le[i]}"${rest}} ${cumulative}\n`;
      }
      out += `${n}_sum${braces(s.labels)} ${formatValue(s.state.sum)}\n`;
      out += `${n}_count${braces(s.labels)} ${cumulative}\n`;
    }
    return out;
  }
}

/** One unlabelled value read when Prometheus scrapes (a counter kept by someone else, e.g. the kernel's CPU time). */
export class Sampled implements Family {
  readonly name: string;
  private readonly head: string;
  private readonly read: () => number;

  constructor(registry: Registry, config: { name: string; help: string; type: 'counter' | 'gauge'; read: () => number }) {
    this.name = config.name;
    this.head = header(config.name, config.help, config.type);
    this.read = config.read;
    registry.register(this);
  }

  render(): string {
    return `${this.head}${this.name} ${formatValue(this.read())}\n`;
  }
}
