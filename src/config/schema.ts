/**
 * The config file's shape, validated strictly: an unknown key is an error naming it, so a typo
 * never silently does nothing.
 */
import { z } from 'zod';
import { PROVIDER_TYPES } from '../providers/types.ts';
import { MAX_AMOUNT_NANOS, MAX_MARKUP_PERCENT, MAX_PER_MINUTE, priceProblem } from '../spec/money-bounds.ts';
import { isAllowEntry } from '../net/host-allow-list.ts';
import { MAX_WORKERS } from './workers.ts';

const decimalString = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v), 'must be a non-negative decimal number (USD per token)')
  // Bounded so that a request's worst case stays an exact amount (see spec/money-bounds.ts).
  .superRefine((v, ctx) => {
    const problem = priceProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const perMinute = z.number().int().positive().max(MAX_PER_MINUTE);

export const pricingSchema = z
  .object({
    prompt: decimalString.optional(),
    completion: decimalString.optional(),
    input_cache_read: decimalString.optional(),
    input_cache_write: decimalString.optional(),
    internal_reasoning: decimalString.optional(),
    request: decimalString.optional(),
    image: decimalString.optional(),
    web_search: decimalString.optional(),
  })
  .strict();

const quirksSchema = z
  .object({
    maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
    streamUsage: z.boolean().optional(),
    unsupportedParams: z.array(z.string()).optional(),
    reasoningParam: z.enum(['reasoning_effort', 'reasoning', 'none']).optional(),
    reasoningField: z.string().optional(),
    auth: z.enum(['bearer', 'api-key', 'none']).optional(),
    query: z.record(z.string(), z.string()).optional(),
    cacheControl: z.boolean().optional(),
    reasoningDetails: z.boolean().optional(),
    replayReasoning: z.boolean().optional(),
    extraSampling: z.boolean().optional(),
    continuesAssistantTurn: z.boolean().optional(),
    openAIOptions: z.boolean().optional(),
    webSearchModels: z.string().optional(),
    strictFields: z.boolean().optional(),
  })
  .strict();

export const providerSchema = z
  .object({
    type: z.enum(PROVIDER_TYPES).optional(),
    name: z.string().min(1).optional(),
    apiKey: z.string().optional(),
    baseUrl: z.url({ message: 'must be an http(s) URL' }).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    enabled: z.boolean().optional(),
    models: z.array(z.string().min(1)).optional(),
    quirks: quirksSchema.optional(),
    /** Ask the provider for its model list at start-up (default: true, except for custom providers that list `models`). */
    discoverModels: z.boolean().optional(),
    /** Defaults for every endpoint of this provider (an endpoint's own settings win). */
    maxConcurrency: z.number().int().positive().optional(),
    requestsPerMinute: z.number().int().positive().optional(),
    dataCollection: z.enum(['allow', 'deny']).optional(),
  })
  .strict();

export const endpointSchema = z
  .object({
    provider: z.string().min(1),
    model: z.string().min(1),
    pricing: pricingSchema.optional(),
    free: z.boolean().optional(),
    contextLength: z.number().int().positive().optional(),
    maxOutputTokens: z.number().int().positive().optional(),
    /** Weights precision (`fp8`, `bf16`, ...), for `provider.quantizations`. */
    quantization: z.string().optional(),
    /** Whether the provider may store or train on prompts, for `provider.data_collection`. */
    dataCollection: z.enum(['allow', 'deny']).optional(),
    /** Capability overrides, for `require_parameters` and capability routing. */
    supportsTools: z.boolean().optional(),
    supportsStructuredOutputs: z.boolean().optional(),
    /** Whether the model takes reasoning parameters (default: known from its family; unknown ones are sent them). */
    supportsReasoning: z.boolean().optional(),
    /** Requests in flight at once to this endpoint, and per minute; beyond them requests queue. */
    maxConcurrency: z.number().int().positive().optional(),
    requestsPerMinute: z.number().int().positive().optional(),
  })
  .strict();

export const modelSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    contextLength: z.number().int().positive().optional(),
    maxOutputTokens: z.number().int().positive().optional(),
    inputModalities: z.array(z.enum(['text', 'image', 'file', 'audio', 'video'])).optional(),
    pricing: pricingSchema.optional(),
    endpoints: z.array(endpointSchema).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        port: z.number().int().min(0).max(65535).optional(),
        host: z.string().min(1).optional(),
        maxBodyBytes: z.number().int().positive().optional(),
        /** Interval of SSE keep-alive comments while the upstream is silent. */
        keepAliveMs: z.number().int().positive().optional(),
        /** Client connections: see src/config/client-limits.ts for what each bounds and its default. */
        headersTimeoutMs: z.number().int().positive().optional(),
        requestTimeoutMs: z.number().int().positive().optional(),
        keepAliveTimeoutMs: z.number().int().positive().optional(),
        maxConnections: z.number().int().positive().optional(),
        sendTimeoutMs: z.number().int().positive().optional(),
        /** Processes serving the port (src/cluster): a count, or `auto` for one per core. */
        workers: z.union([z.number().int().min(1).max(MAX_WORKERS), z.literal('auto')]).optional(),
        timeouts: z
          .object({ firstByteMs: z.number().int().positive().optional(), idleMs: z.number().int().positive().optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    database: z
      .object({
        url: z.string().min(1).optional(),
        /** PostgreSQL: longest wait for a connection (new, or free in the pool) before a 503. */
        connectTimeoutMs: z.number().int().positive().optional(),
        /** PostgreSQL: longest a statement may run (server statement_timeout and client timeout) before a 503. */
        queryTimeoutMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    redis: z
      .object({
        url: z.string().min(1).optional(),
        /** While Redis is down: enforce limits in each process (default), or refuse inference with 503. */
        onOutage: z.enum(['enforce-locally', 'fail-closed']).optional(),
        /** A Redis command unanswered this long counts as an outage. */
        commandTimeoutMs: z.number().int().positive().optional(),
        connectTimeoutMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    routing: z
      .object({
        /** Send a conversation back to the endpoint that cached its prompt, for this long. */
        stickyMinutes: z.number().nonnegative().optional(),
        /** Longest Retry-After honoured before moving to the next endpoint instead. */
        maxRetryAfterSeconds: z.number().nonnegative().optional(),
        /** Retries of the same endpoint (429 with a short Retry-After) before falling back. */
        retriesPerEndpoint: z.number().int().nonnegative().optional(),
        midStreamFailover: z.boolean().optional(),
        /** Deadlines of every upstream call (see src/providers/deadlines.ts). */
        timeouts: z
          .object({
            connectMs: z.number().int().positive().optional(),
            firstTokenMs: z.number().int().positive().optional(),
            idleMs: z.number().int().positive().optional(),
            totalMs: z.number().int().positive().optional(),
          })
          .strict()
          .optional(),
        circuitBreaker: z
          .object({ failureThreshold: z.number().int().positive().optional(), cooldownSeconds: z.number().positive().optional() })
          .strict()
          .optional(),
        /** How `openrouter/auto` (alias `freeway/auto`) picks a model: see src/router/auto.ts. */
        auto: z
          .object({
            policy: z.enum(['cheapest', 'fastest', 'ordered']).optional(),
            /** The models it picks among (for `ordered`, in order of preference); default every paid chat model. */
            models: z.array(z.string().min(1)).min(1).optional(),
          })
          .strict()
          .refine((a) => a.policy !== 'ordered' || a.models !== undefined, {
            message: 'policy ordered needs a models list',
            path: ['models'],
          })
          .optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        /** Default per-key request and token rates (a key's own settings win). */
        perKey: z.object({ requestsPerMinute: perMinute.optional(), tokensPerMinute: perMinute.optional() }).strict().optional(),
        queue: z
          .object({ maxWaitMs: z.number().int().nonnegative().optional(), maxLength: z.number().int().positive().optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    contentLog: z
      .object({
        /** How long logged prompts and answers are kept (content logging is turned on per account or key). */
        retentionDays: z.number().positive().max(3650).optional(),
      })
      .strict()
      .optional(),
    catalog: z
      .object({
        /** How often providers are asked for their model lists again (a failed listing keeps the last good one). */
        refreshMinutes: z.number().positive().max(10_080).optional(),
      })
      .strict()
      .optional(),
    responses: z
      .object({
        /** How long a stored Responses-API response is kept (then 404, and purged). */
        retentionDays: z.number().positive().max(3650).optional(),
      })
      .strict()
      .optional(),
    billing: z
      .object({
        /** Freeway's fee on top of upstream cost, percent (up to 2 decimals). */
        markupPercent: z.number().min(0).max(MAX_MARKUP_PERCENT).optional(),
        /** How long a hold lives when its process dies before settling. */
        reservationTtlSeconds: z.number().int().positive().optional(),
        /** How long a process's lease on its holds lasts unless renewed (renewed and swept every fifth of it). */
        processLeaseSeconds: z.number().int().min(2).max(300).optional(),
        /** How often a running stream records what it has delivered (charged if its process dies). */
        checkpointSeconds: z.number().min(0.1).max(60).optional(),
        freeModels: z
          .object({
            perMinute: z.number().int().nonnegative().optional(),
            perDay: z.number().int().nonnegative().optional(),
            perDayWithCredits: z.number().int().nonnegative().optional(),
            creditsForHigherLimitUsd: z
              .number()
              .nonnegative()
              .max(MAX_AMOUNT_NANOS / 1e9)
              .optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    alerts: z
      .object({
        /** Where credit alerts are POSTed (an alert's own webhook_url overrides it). */
        webhookUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
        /** HMAC-SHA256 secret for `x-freeway-signature` (default: FREEWAY_WEBHOOK_SECRET). */
        secret: z.string().min(1).optional(),
        /** First retry delay; each further retry doubles it. */
        retryBaseMs: z.number().int().positive().optional(),
        /**
         * Internal hosts an alert's own webhook_url may reach (names, IP addresses, CIDR ranges);
         * every other webhook set through the API must resolve to public addresses only.
         */
        allowInternalHosts: z
          .array(z.string().refine(isAllowEntry, 'must be a host name, an IP address or a CIDR range'))
          .max(1000)
          .optional(),
      })
      .strict()
      .optional(),
    /** Prometheus metrics (see README, Operating Freeway). */
    metrics: z
      .object({
        enabled: z.boolean().optional(),
        /** Bearer token that may read /metrics on the public port (default: FREEWAY_METRICS_TOKEN; the admin key may too). */
        token: z.string().min(16, 'must be at least 16 characters').optional(),
        /** A port of its own for /metrics (and the health probes), without a token; off the public port. */
        port: z.number().int().min(0).max(65535).optional(),
        /** Where that port listens (default 127.0.0.1). */
        host: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** OpenTelemetry traces over OTLP/HTTP (JSON); off unless an endpoint is set. */
    tracing: z
      .object({
        /** The collector's base URL (`http://collector:4318`); spans go to `<it>/v1/traces` (default: OTEL_EXPORTER_OTLP_ENDPOINT). */
        endpoint: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
        serviceName: z.string().min(1).optional(),
        headers: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'provider ids are lowercase slugs'), providerSchema).optional(),
    models: z.record(z.string().min(1), modelSchema).optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type PricingConfig = z.infer<typeof pricingSchema>;
