/**
 * A reasoning item's `encrypted_content`, as this door writes it: the internal ReasoningDetail[]
 * (Anthropic thinking with its signature, redacted thinking, Gemini thought signatures, OpenAI
 * encrypted reasoning) as base64url JSON behind a `fw1.` tag. A client that sends the item back
 * restores every detail byte for byte, whatever provider served the turn. Content without the tag
 * is someone else's (OpenAI's own encrypted reasoning) and is carried as such.
 */
import { reasoningDetailProblem } from '../../spec/reasoning.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../spec/validate.ts';

const TAG = 'fw1.';

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
  // A client can forge the blob: what it holds must be details Freeway can read, and no deeper than a body may be.
  if (!Array.isArray(value) || nestedDeeperThan(value, MAX_JSON_DEPTH)) return undefined;
  if (value.some((d) => reasoningDetailProblem(d) !== undefined)) return undefined;
  return value as ReasoningDetail[];
}
