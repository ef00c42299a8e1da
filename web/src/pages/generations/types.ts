/** A generation as GET /generation and GET /generations render it (the fields the pages read). */
export interface Leg {
  provider_name: string;
  model: string;
  tokens_prompt: number;
  tokens_completion: number;
  upstream_inference_cost: number;
  usage_estimated: boolean;
  error: string | null;
}

export interface Generation {
  id: string;
  created_at: string;
  model: string;
  provider_name: string;
  provider_slug: string;
  upstream_model: string;
  api_type: string;
  streamed: boolean;
  cancelled: boolean;
  app_title: string | null;
  http_referer: string | null;
  external_user: string | null;
  session_id: string | null;
  key_hash: string;
  workspace_id: string;
  service_tier: string | null;
  total_cost: number;
  cost_details: {
    upstream_inference_prompt_cost: number;
    upstream_inference_completions_cost: number;
    upstream_inference_cost?: number;
    freeway_fee?: number;
  };
  latency: number | null;
  time_to_first_token: number | null;
  generation_time: number | null;
  finish_reason: string | null;
  native_finish_reason: string | null;
  tokens_prompt: number;
  tokens_completion: number;
  native_tokens_reasoning: number | null;
  native_tokens_cached: number | null;
  native_tokens_cache_write: number | null;
  usage_estimated: boolean;
  error: string | null;
  provider_responses: Leg[];
}

export function statusOf(g: Generation): 'success' | 'error' | 'cancelled' {
  return g.error ? 'error' : g.cancelled ? 'cancelled' : 'success';
}
