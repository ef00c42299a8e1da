/**
 * OpenRouter's unified `reasoning` → a token budget, for providers that take one (Anthropic
 * `budget_tokens`, Gemini `thinkingBudget`), and a budget → an effort, for those that take only an
 * effort (OpenAI's `reasoning_effort`). Ratios are OpenRouter's documented ones.
 */
import type { ReasoningEffort, ReasoningRequest } from './request.ts';

export const EFFORT_RATIO: Record<ReasoningEffort, number> = {
  max: 0.95,
  xhigh: 0.95,
  high: 0.8,
  medium: 0.5,
  low: 0.2,
  minimal: 0.1,
  none: 0,
};

/** Whether the request asks for reasoning at all. */
export function wantsReasoning(r: ReasoningRequest | undefined): boolean {
  if (!r) return false;
  if (r.enabled === false || r.effort === 'none') return false;
  return r.enabled === true || r.effort !== undefined || r.maxTokens !== undefined || r.exclude !== undefined;
}

/**
 * The thinking budget for a request: an explicit `maxTokens` wins; otherwise effort (default
 * medium) × the output cap, clamped to [min, max]. Undefined when reasoning is off.
 */
export function thinkingBudget(
  r: ReasoningRequest | undefined,
  maxOutputTokens: number,
  bounds: { min: number; max: number } = { min: 1024, max: 128_000 },
): number | undefined {
  if (!wantsReasoning(r)) return undefined;
  const raw = r?.maxTokens ?? Math.floor(maxOutputTokens * EFFORT_RATIO[r?.effort ?? 'medium']);
  return Math.max(bounds.min, Math.min(raw, bounds.max));
}

/** The efforts a budget maps to: the three every OpenAI reasoning model accepts (`minimal` and `xhigh` are not). */
const BUDGET_EFFORTS = ['low', 'medium', 'high'] as const;

/**
 * The effort a thinking budget stands for on a model that takes only an effort: OpenRouter's rule is
 * that `max_tokens` determines the effort by the same ratios (high ≈ 80% of the output cap, medium ≈
 * 50%, low ≈ 20%), so the nearest of them to the budget's share of the cap. Without a cap the share
 * is unknown: medium, OpenAI's own default.
 */
export function effortForBudget(budget: number, maxOutputTokens: number | undefined): (typeof BUDGET_EFFORTS)[number] {
  if (maxOutputTokens === undefined || maxOutputTokens <= 0) return 'medium';
  const share = budget / maxOutputTokens;
  let best: (typeof BUDGET_EFFORTS)[number] = 'medium';
  for (const e of BUDGET_EFFORTS) if (Math.abs(EFFORT_RATIO[e] - share) < Math.abs(EFFORT_RATIO[best] - share)) best = e;
  return best;
}
