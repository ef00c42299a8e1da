/**
 * The store interface: everything Freeway persists goes through it. SQLite implements it today;
 * PostgreSQL implements the same interface with the same migrations.
 */
export type KeyKind = 'inference' | 'management';

export interface ApiKeyRecord {
  /** sha256 of the key, hex; the key itself is never stored. */
  hash: string;
  name: string;
  /** Masked display form, e.g. `sk-fw-v1-3f2…9ab`. */
  label: string;
  kind: KeyKind;
  /** Credit limit in nano-dollars, or null for none. */
  limitNanos: number | null;
  disabled: boolean;
  createdAt: string;
}

export interface GenerationRecord {
  id: string;
  keyHash: string;
  model: string;
  providerId: string;
  providerName: string;
  upstreamModel: string;
  upstreamId: string | null;
  apiType: 'completions' | 'embeddings';
  streamed: boolean;
  cancelled: boolean;
  finishReason: string | null;
  nativeFinishReason: string | null;
  tokensPrompt: number;
  tokensCompletion: number;
  tokensCached: number;
  tokensCacheWrite: number;
  tokensReasoning: number;
  /** True when the upstream reported no usage and the counts are Freeway's estimate. */
  usageEstimated: boolean;
  costNanos: number;
  promptCostNanos: number;
  completionCostNanos: number;
  /** Whole request, ms. */
  latencyMs: number;
  /** Time to first token, ms (streams). */
  ttftMs: number | null;
  /** From first token to the end, ms. */
  generationMs: number | null;
  error: string | null;
  createdAt: string;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  createKey(rec: ApiKeyRecord): Promise<void>;
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  countKeys(kind?: KeyKind): Promise<number>;
  insertGenerations(recs: readonly GenerationRecord[]): Promise<void>;
  getGeneration(id: string): Promise<GenerationRecord | undefined>;
  close(): Promise<void>;
}
