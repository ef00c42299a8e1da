/**
 * Reversible encodings that let another provider's artefacts ride through Anthropic's wire shape
 * and come back on the client's next turn exactly as the upstream issued them.
 *
 * Tool ids: Anthropic clients expect `toolu_...`. An upstream id that is not one already becomes
 * `toolu_fw_` + base64url(id); the client sends it back in `tool_use.id` / `tool_result.tool_use_id`
 * and it decodes to the upstream's own id. Real Anthropic ids (`toolu_01...`) pass unchanged.
 *
 * Reasoning: Anthropic's own thinking (format `anthropic-claude-v1`) is rendered natively —
 * `thinking` with its signature, `redacted_thinking` with its data — and read back byte for byte.
 * Any other provider's detail (Gemini thought text and signatures, OpenAI encrypted reasoning,
 * summaries, unformatted reasoning text) is carried in a block whose opaque field holds the detail:
 * - reasoning text / summary → `thinking` whose `thinking` is the text and whose `signature` is
 *   `fw1.` + base64url(JSON of the detail without its text);
 * - anything else → `redacted_thinking` whose `data` is `fw1.` + base64url(JSON of the detail).
 * Anthropic's signatures and redacted data are base64 and never contain a `.`, so the marker
 * cannot be mistaken for a real one. A request carrying such a block is not passed to Anthropic
 * raw (Anthropic would reject the foreign artefact); it is translated instead.
 */
import { ANTHROPIC_FORMAT, reasoningDetailProblem } from '../../spec/reasoning.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../spec/validate.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';

const TOOL_PREFIX = 'toolu_';
const FOREIGN_TOOL_PREFIX = 'toolu_fw_';
const MARK = 'fw1.';

/** An upstream tool call id as the Anthropic client sees it. */
export function toAnthropicToolId(id: string): string {
  if (id.startsWith(TOOL_PREFIX) && /^[A-Za-z0-9_-]+$/.test(id)) return id;
  return FOREIGN_TOOL_PREFIX + Buffer.from(id, 'utf8').toString('base64url');
}

/** A tool id from the client back to the upstream's own; `foreign` when it was one of ours. */
export function fromAnthropicToolId(id: string): { id: string; foreign: boolean } {
  if (!id.startsWith(FOREIGN_TOOL_PREFIX)) return { id, foreign: false };
  const encoded = id.slice(FOREIGN_TOOL_PREFIX.length);
  const decoded = Buffer.from(encoded, 'base64url').toString('utf8');
  // Only a canonical encoding is ours; anything else is some other id that happens to look alike.
  if (decoded.length === 0 || Buffer.from(decoded, 'utf8').toString('base64url') !== encoded) return { id, foreign: false };
  return { id: decoded, foreign: true };
}

function pack(value: unknown): string {
  return MARK + Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function unpack(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith(MARK)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(text.slice(MARK.length), 'base64url').toString('utf8'));
    // A client can forge the blob: one nested deeper than a request body may be is not ours.
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !nestedDeeperThan(v, MAX_JSON_DEPTH)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export type ThinkingBlock = { type: 'thinking'; thinking: string; signature: string };
export type RedactedThinkingBlock = { type: 'redacted_thinking'; data: string };

/** Whether a detail is Anthropic's own and so rendered natively. */
export function isNative(d: Pick<ReasoningDetail, 'type' | 'format'>): boolean {
  return d.format === ANTHROPIC_FORMAT && (d.type === 'reasoning.text' || d.type === 'reasoning.encrypted');
}

/** The opaque `signature` of a non-native text or summary detail (everything but its text). */
export function foreignSignature(d: ReasoningDetail): string {
  const { text: _t, summary: _s, ...rest } = d as ReasoningDetail & { text?: string; summary?: string };
  return pack(rest);
}

/** One reasoning detail as the Anthropic block that carries it. */
export function reasoningBlock(d: ReasoningDetail): ThinkingBlock | RedactedThinkingBlock {
  if (isNative(d)) {
    return d.type === 'reasoning.encrypted'
      ? { type: 'redacted_thinking', data: d.data }
      : { type: 'thinking', thinking: (d as { text: string }).text, signature: (d as { signature?: string | null }).signature ?? '' };
  }
  if (d.type === 'reasoning.text') return { type: 'thinking', thinking: d.text, signature: foreignSignature(d) };
  if (d.type === 'reasoning.summary') return { type: 'thinking', thinking: d.summary, signature: foreignSignature(d) };
  return { type: 'redacted_thinking', data: pack(d) };
}

/** A `thinking` block from the client → the detail it carries; `foreign` when it was not Anthropic's. */
export function fromThinking(thinking: string, signature: string, index: number): { detail: ReasoningDetail; foreign: boolean } {
  const meta = unpack(signature);
  if (meta && (meta.type === 'reasoning.text' || meta.type === 'reasoning.summary')) {
    const detail = (meta.type === 'reasoning.summary' ? { ...meta, summary: thinking } : { ...meta, text: thinking }) as ReasoningDetail;
    // Only a detail Freeway can read is one of ours; a forged one is an opaque signature like any other.
    if (reasoningDetailProblem(detail) === undefined) return { detail, foreign: true };
  }
  return {
    detail: { type: 'reasoning.text', text: thinking, signature: signature === '' ? null : signature, format: ANTHROPIC_FORMAT, index },
    foreign: false,
  };
}

/** A `redacted_thinking` block from the client → the detail it carries. */
export function fromRedacted(data: string, index: number): { detail: ReasoningDetail; foreign: boolean } {
  const meta = unpack(data);
  if (meta && reasoningDetailProblem(meta) === undefined) return { detail: meta as unknown as ReasoningDetail, foreign: true };
  return { detail: { type: 'reasoning.encrypted', data, format: ANTHROPIC_FORMAT, index }, foreign: false };
}
