/**
 * Validates Freeway's raw answers against the zod schemas OpenRouter's official TypeScript SDK
 * (`@openrouter/sdk`) ships, so a test can check a body byte for byte as the SDK would read it —
 * not only through an SDK method, which hides what it tolerated.
 *
 * Stricter than the SDK in two ways, on purpose: the SDK turns a discriminated-union member that
 * fails its schema into an `{ isUnknown: true }` placeholder (a Responses stream event, an output
 * item) and an enum value it does not know into an "unrecognized" one; both parse, both lose the
 * data for the caller. Here each is a failure, with its path.
 */
import assert from 'node:assert/strict';
import * as models from '@openrouter/sdk/models';
import * as operations from '@openrouter/sdk/models/operations';
import { startCountingUnrecognized } from '@openrouter/sdk/types/unrecognized.js';
import { z } from 'zod';

interface Schema {
  safeParse(input: unknown): { success: true; data: unknown } | { success: false; error: { issues: readonly unknown[] } };
}

/** The schema of each route's raw body (a whole answer, or one streamed chunk or event). */
export const OPENROUTER_SCHEMAS = {
  'chat.completions': models.ChatResult$inboundSchema,
  'chat.completions.chunk': models.ChatStreamChunk$inboundSchema,
  responses: models.OpenResponsesResult$inboundSchema,
  'responses.event': models.StreamEvents$inboundSchema,
  embeddings: operations.CreateEmbeddingsResponseBody$inboundSchema,
  models: models.ModelsListResponse$inboundSchema,
  'models.count': models.ModelsCountResponse$inboundSchema,
  providers: operations.ListProvidersResponse$inboundSchema,
  model: models.ModelResponse$inboundSchema,
  endpoints: operations.ListEndpointsResponse$inboundSchema,
  'endpoints.zdr': operations.ListEndpointsZdrResponse$inboundSchema,
  key: operations.GetCurrentKeyResponse$inboundSchema,
  'keys.list': operations.ListResponse$inboundSchema,
  'keys.create': operations.CreateKeysResponse$inboundSchema,
  'keys.get': operations.GetKeyResponse$inboundSchema,
  'keys.update': operations.UpdateKeysResponse$inboundSchema,
  'keys.delete': operations.DeleteKeysResponse$inboundSchema,
  generation: models.GenerationResponse$inboundSchema,
  credits: operations.GetCreditsResponse$inboundSchema,
  activity: models.ActivityResponse$inboundSchema,
  'generation.content': models.GenerationContentResponse$inboundSchema,
  error: z.object({ error: models.BadRequestResponseErrorData$inboundSchema }),
} satisfies Record<string, Schema>;

export type OpenRouterRoute = keyof typeof OPENROUTER_SCHEMAS;

/**
 * The SDK's schema of each Responses stream event by type. The SDK's own union swallows why an
 * event failed (it becomes "unknown"); this map lets a failure name the field.
 */
const RESPONSES_EVENTS: Record<string, Schema> = {
  error: models.ErrorEvent$inboundSchema,
  'response.created': models.OpenResponsesCreatedEvent$inboundSchema,
  'response.in_progress': models.OpenResponsesInProgressEvent$inboundSchema,
  'response.completed': models.StreamEventsResponseCompleted$inboundSchema,
  'response.failed': models.StreamEventsResponseFailed$inboundSchema,
  'response.incomplete': models.StreamEventsResponseIncomplete$inboundSchema,
  'response.output_item.added': models.StreamEventsResponseOutputItemAdded$inboundSchema,
  'response.output_item.done': models.StreamEventsResponseOutputItemDone$inboundSchema,
  'response.content_part.added': models.ContentPartAddedEvent$inboundSchema,
  'response.content_part.done': models.ContentPartDoneEvent$inboundSchema,
  'response.output_text.delta': models.TextDeltaEvent$inboundSchema,
  'response.output_text.done': models.TextDoneEvent$inboundSchema,
  'response.function_call_arguments.delta': models.FunctionCallArgsDeltaEvent$inboundSchema,
  'response.function_call_arguments.done': models.FunctionCallArgsDoneEvent$inboundSchema,
  'response.reasoning_summary_part.added': models.ReasoningSummaryPartAddedEvent$inboundSchema,
  'response.reasoning_summary_part.done': models.ReasoningSummaryPartDoneEvent$inboundSchema,
  'response.reasoning_summary_text.delta': models.ReasoningSummaryTextDeltaEvent$inboundSchema,
  'response.reasoning_summary_text.done': models.ReasoningSummaryTextDoneEvent$inboundSchema,
};

/** Where the SDK's parse replaced a part it could not read by an `isUnknown` placeholder. */
function unknownParts(value: unknown, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const rec = value as Record<string, unknown>;
  if (rec.isUnknown === true && 'raw' in rec) {
    const raw = rec.raw as { type?: unknown } | null;
    out.push(`${path || '(root)'}: not recognised by the SDK (type ${JSON.stringify(raw?.type)})`);
    return;
  }
  for (const [k, v] of Object.entries(rec)) unknownParts(v, `${path}${Array.isArray(value) ? `[${k}]` : `.${k}`}`, out);
}

/** Every way `body` fails the SDK's schema for `route`; empty when it passes. */
export function schemaProblems(route: OpenRouterRoute, body: unknown): string[] {
  const type = (body as { type?: unknown } | null)?.type;
  const event = route === 'responses.event' && typeof type === 'string' ? RESPONSES_EVENTS[type] : undefined;
  const schema: Schema = event ?? OPENROUTER_SCHEMAS[route];
  const counter = startCountingUnrecognized();
  const result = schema.safeParse(body);
  const unrecognized = counter.end();
  if (!result.success) return result.error.issues.map((i) => JSON.stringify(i));
  const problems: string[] = [];
  unknownParts(result.data, '', problems);
  if (unrecognized > 0) problems.push(`${unrecognized} enum value(s) the SDK does not know`);
  return problems;
}

/** Asserts `body` passes the SDK's schema for `route`, naming the body and each problem if not. */
export function assertOpenRouterShape(route: OpenRouterRoute, body: unknown): void {
  const problems = schemaProblems(route, body);
  assert.deepEqual(
    problems,
    [],
    `${route} answer fails @openrouter/sdk's schema:\n${problems.join('\n')}\nbody: ${JSON.stringify(body).slice(0, 4000)}`,
  );
}

/** The JSON `data:` payloads of a whole SSE body, comments and the `[DONE]` sentinel left out. */
export function sseData(text: string): unknown[] {
  const out: unknown[] = [];
  for (const frame of text.split(/\r?\n\r?\n/)) {
    const data = frame
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data !== '' && data !== '[DONE]') out.push(JSON.parse(data));
  }
  return out;
}
