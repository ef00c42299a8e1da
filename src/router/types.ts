/**
 * The contracts between routing, health and limits. Routing decides which endpoints a request may
 * use and in what order; health says how each endpoint has been doing; limits decide whether a
 * request may go now, later, or not at all.
 */
import type { CatalogModel, Endpoint } from '../catalog/types.ts';

/** A model and one of its endpoints: what the planner orders and the gateway tries. */
export interface Candidate {
  model: CatalogModel;
  endpoint: Endpoint;
}

/** OpenRouter's `provider` request object, validated. */
export interface ProviderPreferences {
  order?: string[];
  allowFallbacks: boolean;
  only?: string[];
  ignore?: string[];
  sort?: 'price' | 'throughput' | 'latency';
  /** USD per million tokens for prompt/completion; USD per request/image. */
  maxPrice?: { prompt?: number; completion?: number; request?: number; image?: number };
  requireParameters: boolean;
  quantizations?: string[];
  dataCollection?: 'allow' | 'deny';
  zdr?: boolean;
  /** Freeway extension: continue a stream on another endpoint when its upstream dies mid-way (default true). */
  midStreamFailover: boolean;
}

export const DEFAULT_PREFERENCES: ProviderPreferences = {
  allowFallbacks: true,
  requireParameters: false,
  midStreamFailover: true,
};

/** The outcome of one upstream attempt, as health tracking sees it. */
export interface AttemptOutcome {
  ok: boolean;
  /** HTTP-equivalent status of a failure (429s count against capacity, not uptime). */
  status?: number;
  /** Time to first token, ms. */
  ttftMs?: number;
  /** Output tokens per second over the generation. */
  tokensPerSecond?: number;
  at?: number;
}

export interface Percentiles {
  p50: number;
  p75: number;
  p90: number;
  p99: number;
}

export interface EndpointStats {
  /** Percent of successful requests (429s excluded); null without enough data. */
  uptime5m: number | null;
  uptime30m: number | null;
  /** Time to first token, ms. */
  latency5m: Percentiles | null;
  latency30m: Percentiles | null;
  /** Output tokens per second. */
  throughput5m: Percentiles | null;
  throughput30m: Percentiles | null;
  circuit: 'closed' | 'open' | 'half-open';
}

export interface Health {
  /** False while the endpoint's circuit is open; true for one probe when it is half-open. */
  isAvailable(key: string, now?: number): boolean;
  /** The circuit's state, without side effects and without computing window stats (per request). */
  circuit(key: string, now?: number): EndpointStats['circuit'];
  record(key: string, outcome: AttemptOutcome): void;
  stats(key: string, now?: number): EndpointStats;
  close(): Promise<void>;
}

/** Why an endpoint was left out of a request's route. */
export interface Exclusion {
  provider: string;
  model: string;
  reason: string;
}
