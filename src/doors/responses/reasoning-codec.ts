/**
 * A reasoning item's `encrypted_content`, as this door writes it: the internal ReasoningDetail[]
 * (Anthropic thinking with its signature, redacted thinking, Gemini thought signatures, OpenAI
 * encrypted reasoning) as base64url JSON behind a `fw1.` tag. A client that sends the item back
 * restores every detail byte for byte, whatever provider served the turn. Content without the tag
 * is someone else's (OpenAI's own encrypted reasoning) and is carried as such.
 */
import type { ReasoningDetail } from '../../spec/reasoning.ts';

const TAG = 'fw1.';
const TYPES = new Set(['reasoning.text', 'reasoning.encrypted', 'reasoning.summary']);

export function encodeReasoning(details: readonly ReasoningDetail[]): string {
  return TAG + Buffer.from(JSON.stringify(details), 'utf8').toString('base64url');
}

/** Whether the content was written by this door (and so must decode). */
export function isFreewayReasoning(content: string): boolean {
  return content.startsWith(TAG);
}

/** The details inside Freeway-written content; undefined when it is not, or does not decode. */
export function decodeReasoning(content: string): ReasoningDetail[] | undefined {
  if (!isFreewayReasoning(content)) return undefined;
  // Node's decoder skips characters outside the alphabet; a changed blob must not pass for the original.
  if (!/^[A-Za-z0-9_-]*$/.test(content.slice(TAG.length))) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(content.slice(TAG.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  for (const d of value) {
    if (typeof d !== 'object' || d === null || !TYPES.has((d as { type?: unknown }).type as string)) return undefined;
  }
  return value as ReasoningDetail[];
}
