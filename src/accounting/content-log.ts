/**
 * Opt-in content logging: for a key whose content is logged (its own setting, else its account's;
 * off unless turned on), the prompt and the answer the client received are kept for
 * `contentLog.retentionDays`, then deleted by a sweep.
 *
 * Off the response's path: a capture only keeps what the request path already holds (the parsed
 * messages) and appends the text it relays; it is handed over when the generation is recorded and
 * written in batches on a timer, after the answer went out. What is kept is the request body's
 * messages as Freeway parsed them: no header (so no key or other secret a header carries) ever is.
 */
import type { ApiKeyRecord, GenerationContent, GenerationRecord } from '../store/types.ts';
import type { Store } from '../store/store.ts';

/** Most characters kept of one answer's text (and of its reasoning); past it the rest is dropped and `truncated` said. */
export const MAX_CONTENT_CHARS = 1024 * 1024;

/** A generation's content as it is produced. */
export interface ContentCapture {
  input: unknown;
  completion: string;
  reasoning: string;
  truncated: boolean;
}

/** Whether a key's generations are logged: its own setting, else its account's, else off. */
export function logsContent(key: Pick<ApiKeyRecord, 'logContent' | 'accountLogContent'>): boolean {
  return key.logContent ?? key.accountLogContent ?? false;
}

function append(c: ContentCapture, field: 'completion' | 'reasoning', text: string): void {
  const room = MAX_CONTENT_CHARS - c[field].length;
  if (text.length > room) c.truncated = true;
  if (room > 0) c[field] += text.length > room ? text.slice(0, room) : text;
}

/** Text the client was sent. */
export function captureText(c: ContentCapture, text: string): void {
  append(c, 'completion', text);
}

export function captureReasoning(c: ContentCapture, text: string): void {
  append(c, 'reasoning', text);
}

/** A whole (non-streamed) answer: its text and reasoning, read loosely (each API's result has its own shape). */
export function captureResult(c: ContentCapture, r: object): void {
  const { text, reasoning } = r as { text?: unknown; reasoning?: unknown };
  if (typeof text === 'string') captureText(c, text);
  if (Array.isArray(reasoning)) {
    for (const d of reasoning) if (typeof (d as { text?: unknown })?.text === 'string') captureReasoning(c, (d as { text: string }).text);
  }
}

/** Each finished record's capture, until the record is settled (a record that never is takes its capture with it). */
const captured = new WeakMap<GenerationRecord, ContentCapture>();

export function attachContent(record: GenerationRecord, c: ContentCapture): void {
  captured.set(record, c);
}

export interface ContentLogOptions {
  retentionMs: number;
  /** How often expired content is deleted. */
  sweepMs?: number;
  flushMs?: number;
  onError?: (what: string, err: unknown) => void;
}

export class ContentLog {
  private buffer: GenerationContent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly store: Store;
  private readonly opts: Required<ContentLogOptions>;

  constructor(store: Store, opts: ContentLogOptions) {
    this.store = store;
    this.opts = { sweepMs: 10 * 60_000, flushMs: 50, onError: () => {}, ...opts };
  }

  /** A capture for a generation of `key`'s, when its content is logged. */
  begin(key: ApiKeyRecord, input: unknown): ContentCapture | undefined {
    return logsContent(key) ? { input, completion: '', reasoning: '', truncated: false } : undefined;
  }

  /** Called as a generation is recorded: queues its content, if it was captured, for a write after the response. */
  recorded(record: GenerationRecord): void {
    const c = captured.get(record);
    if (!c) return;
    captured.delete(record);
    this.buffer.push({
      id: record.id,
      accountId: record.accountId,
      keyHash: record.keyHash,
      input: c.input,
      output: { completion: c.completion, reasoning: c.reasoning === '' ? null : c.reasoning, truncated: c.truncated },
      createdAt: record.createdAt,
    });
    this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs);
  }

  /** Logged content of a generation, once written (queued content is written first). */
  async get(id: string): Promise<GenerationContent | undefined> {
    const queued = this.buffer.find((c) => c.id === id);
    if (queued) return queued;
    await this.flushing;
    return this.store.getContent(id);
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.buffer;
    if (batch.length === 0) return this.flushing;
    this.buffer = [];
    // Content is not a bill: a batch the store refuses is reported and dropped, never retried for ever.
    this.flushing = this.flushing
      .then(() => this.store.saveContent(batch))
      .catch((err: unknown) => this.opts.onError(`could not save the content of ${batch.length} generations`, err));
    return this.flushing;
  }

  /** Deletes content older than the retention period; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    return this.store.purgeContent(new Date(now - this.opts.retentionMs).toISOString());
  }

  /** Sweeps now and every `sweepMs`. */
  start(): void {
    const run = () => void this.sweep().catch((err: unknown) => this.opts.onError('could not delete expired generation content', err));
    run();
    this.sweeper = setInterval(run, this.opts.sweepMs);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.flush();
  }
}
