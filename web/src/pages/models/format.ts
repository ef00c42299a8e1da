/** Display formats the Models, Generations and Compare pages share (numbers from the API, shown to people). */

/** A per-token price string from the API as dollars per million tokens; "-1" is OpenRouter's "unpriced". */
export function perMillion(price: string | undefined | null): string {
  if (price === undefined || price === null || price === '') return '–';
  const p = Number(price);
  if (!Number.isFinite(p) || p < 0) return 'unpriced';
  if (p === 0) return 'free';
  const m = p * 1e6;
  return `$${m >= 100 ? m.toFixed(0) : m >= 1 ? trim(m.toFixed(2)) : trim(m.toPrecision(3))}`;
}

/**
 * A listed model's price: a model router (OpenRouter's tokenizer group "Router": `openrouter/auto`)
 * lists "-1" because it charges the rate of whichever model serves, which is not "unpriced".
 */
export function listedPrice(m: { architecture: { tokenizer?: string | null } }, price: string | undefined | null): string {
  return m.architecture.tokenizer === 'Router' && Number(price) < 0 ? 'varies' : perMillion(price);
}

const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

/** USD to the nano-dollar (Freeway's unit), without trailing zeros: exactly what was charged. */
export function usd(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `$${trim(v.toFixed(9))}`;
}

export function tokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  if (n >= 1_000_000) return `${trim((n / 1_000_000).toFixed(1))}M`;
  if (n >= 10_000) return `${Math.round(n / 1000)}K`;
  return n.toLocaleString('en-US');
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v >= 10_000 ? `${trim((v / 1000).toFixed(1))} s` : `${Math.round(v)} ms`;
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The message of anything thrown by ctx.api (an ApiError or a network failure). */
export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
