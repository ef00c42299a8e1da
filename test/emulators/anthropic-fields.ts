/**
 * The Anthropic emulator's closed list of request fields, as strict as the real Messages API: an
 * unknown top-level field is a 400 `<field>: Extra inputs are not permitted` (the API's validator
 * is closed), and so is an unknown key inside the small objects whose shape is fixed (`metadata`,
 * `thinking`, `output_config`). Enumerated values out of their set are refused the same way.
 *
 * The field list is the official SDK's `MessageCreateParams` (`@anthropic-ai/sdk` 1.14,
 * resources/messages and resources/beta/messages), plus the sampling fields older models take
 * (`temperature`, `top_p`, `top_k`). Beta fields are accepted only with an `anthropic-beta` header,
 * as the real API ties them to their beta. This is how Freeway forwarding OpenRouter's extras
 * (`session_id`, `plugins`, `provider`...) to Anthropic would be caught.
 */
import type { IncomingHttpHeaders } from 'node:http';

// any: emulators read arbitrary client JSON.
type Json = any;

class FieldError extends Error {}

/** Fields every request may carry. */
const STABLE = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'metadata',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'thinking',
  'tool_choice',
  'tools',
  'service_tier',
  'container',
  'cache_control',
  'inference_geo',
  'output_config',
  'speed',
  'diagnostics',
  'user_profile_id',
  'workspace_id',
]);

/** What `/v1/messages/count_tokens` takes (MessageCountTokensParams): no max_tokens, stream, sampling... */
const COUNT = new Set([
  'model',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'thinking',
  'cache_control',
  'output_config',
  'speed',
  'user_profile_id',
  'workspace_id',
]);
const COUNT_BETA = new Set(['context_management', 'mcp_servers', 'output_format', 'compaction', 'billing_policy', 'betas']);

/** Fields of the beta Messages API (sent with an `anthropic-beta` header). */
const BETA = new Set([
  'context_management',
  'mcp_servers',
  'output_format',
  'compaction',
  'fallbacks',
  'thread',
  'billing_policy',
  'fallback_credit_token',
  'betas',
]);

const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function closed(o: Record<string, Json>, allowed: string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new FieldError(`${path}.${k}: Extra inputs are not permitted`);
}

function oneOf(v: unknown, allowed: readonly unknown[], path: string): void {
  if (v === undefined || v === null) return;
  if (!allowed.includes(v)) throw new FieldError(`${path}: Input should be ${allowed.map((a) => `'${String(a)}'`).join(', ')}`);
}

/** The message of the 400 the real API gives for the body's fields, or undefined when they pass. */
export function unknownFieldError(body: Json, headers: IncomingHttpHeaders, forCount: boolean): string | undefined {
  const beta = headers['anthropic-beta'] !== undefined;
  try {
    const [stable, betaFields] = forCount ? [COUNT, COUNT_BETA] : [STABLE, BETA];
    for (const k of Object.keys(body)) {
      if (stable.has(k) || (beta && betaFields.has(k))) continue;
      throw new FieldError(`${k}: Extra inputs are not permitted`);
    }
    if (body.metadata !== undefined) {
      if (!isObj(body.metadata)) throw new FieldError('metadata: Input should be a valid dictionary');
      closed(body.metadata, ['user_id'], 'metadata');
      const id = body.metadata.user_id;
      if (id !== undefined && id !== null && (typeof id !== 'string' || id.length > 256)) {
        throw new FieldError('metadata.user_id: String should have at most 256 characters');
      }
    }
    if (isObj(body.thinking)) {
      const keys = body.thinking.type === 'enabled' ? ['type', 'budget_tokens', 'display'] : ['type', 'display'];
      closed(body.thinking, keys, `thinking.${body.thinking.type}`);
      oneOf(body.thinking.display, ['summarized', 'omitted'], `thinking.${body.thinking.type}.display`);
    }
    if (body.output_config !== undefined) {
      if (!isObj(body.output_config)) throw new FieldError('output_config: Input should be a valid dictionary');
      closed(body.output_config, ['effort', 'format', 'task_budget'], 'output_config');
      oneOf(body.output_config.effort, ['low', 'medium', 'high', 'xhigh', 'max'], 'output_config.effort');
    }
    oneOf(body.service_tier, ['auto', 'standard_only'], 'service_tier');
    oneOf(body.speed, ['standard', 'fast'], 'speed');
    if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new FieldError('stream: Input should be a valid boolean');
    return undefined;
  } catch (err) {
    if (err instanceof FieldError) return err.message;
    throw err;
  }
}
