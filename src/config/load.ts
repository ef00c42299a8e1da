/**
 * Loads the settings: YAML file (optional) with `${ENV}` interpolation, validated, merged with the
 * environment and the built-in provider presets. Throws ConfigError with one readable message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { endpointKeyOf, providerDefaultsKey } from '../catalog/endpoint-key.ts';
import { PRESET_BY_ID } from '../providers/presets.ts';
import { PROTOCOL_OF_TYPE, PROVIDER_TYPES } from '../providers/types.ts';
import type { ProviderInstance } from '../providers/types.ts';
// `yaml` and ./schema.ts (zod) are imported only when a config file is read: together they add
// ~30 MB to a process that is configured by environment variables alone.
import type { ConfigFile, ModelConfig } from './schema.ts';
import { DEFAULT_CLIENT_LIMITS } from './client-limits.ts';
import { resolveWorkers } from './workers.ts';
import type { ClientLimits } from './client-limits.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Settings {
  configPath?: string;
  port: number;
  host: string;
  maxBodyBytes: number;
  keepAliveMs: number;
  /** Worker processes serving the port (1: this process serves; see src/cluster). */
  workers: number;
  /** Deadlines and caps for client connections (slow or greedy clients). */
  clientLimits: ClientLimits;
  timeouts: { firstByteMs: number; idleMs: number };
  databaseUrl: string;
  /** PostgreSQL connection and statement bounds (ms); a request that meets either gets a 503. */
  database: { connectTimeoutMs: number; queryTimeoutMs: number };
  /** Shared state for several processes (health, rate limits); unset = in memory. */
  redisUrl?: string;
  /** How a Redis outage is met: see infra/redis.ts. */
  redis: { onOutage: 'enforce-locally' | 'fail-closed'; commandTimeoutMs: number; connectTimeoutMs: number };
  routing: {
    stickyMs: number;
    maxRetryAfterMs: number;
    retriesPerEndpoint: number;
    midStreamFailover: boolean;
    timeouts: { connectMs: number; firstTokenMs: number; idleMs: number; totalMs: number };
    circuitBreaker: { failureThreshold: number; cooldownMs: number };
    /** `openrouter/auto`'s policy (router/auto.ts); absent = cheapest among every paid chat model. */
    auto?: { policy: 'cheapest' | 'fastest' | 'ordered'; models?: string[] };
  };
  limits: {
    perKey: { requestsPerMinute?: number; tokensPerMinute?: number };
    queue: { maxWaitMs: number; maxLength: number };
  };
  /** Per-endpoint settings from config, by `provider:upstream-model` (and `provider:*` defaults). */
  endpointLimits: Map<string, { maxConcurrency?: number; requestsPerMinute?: number }>;
  adminKey?: string;
  /** Providers with credentials (or keyless local servers that are configured). */
  providers: ProviderInstance[];
  /** Providers named in config that are not live, and why. */
  skipped: Array<{ id: string; reason: string }>;
  /** Models each provider declares in config (`providers.x.models`). */
  declaredModels: Map<string, string[]>;
  /** Providers whose model list is fetched at start-up. */
  discover: Set<string>;
  /** How often model lists are asked for again. */
  catalogRefreshMs: number;
  models: Record<string, ModelConfig>;
  /** Stored Responses-API responses (`store`, `previous_response_id`, `item_reference`). */
  responses: { retentionMs: number };
  /** Opt-in content logging: how long what is logged is kept. */
  contentLog: { retentionMs: number };
  billing: {
    markupBp: number;
    reservationTtlMs: number;
    /** Lifetime of a process's lease on its holds; renewed, and dead owners' holds swept, every fifth of it. */
    processLeaseMs: number;
    /** How often a running stream checkpoints what it has delivered. */
    checkpointMs: number;
    freeModels: { perMinute: number; perDay: number; perDayWithCredits: number; creditsForHigherLimitNanos: number };
  };
  /** Prometheus: /metrics on the public port for `token` (or the admin key), or on a `port` of its own. */
  metrics: { enabled: boolean; token?: string; port?: number; host: string };
  /** OTLP/HTTP traces, when `endpoint` is set. */
  tracing: { endpoint?: string; serviceName: string; headers: Record<string, string> };
  alerts: {
    webhookUrl?: string;
    /** Signs webhook bodies; webhooks go unsigned without one. */
    secret?: string;
    retryBaseMs: number;
    maxAttempts: number;
    /** One delivery attempt, all of it: lookup, connect, send, answer. */
    timeoutMs: number;
    /** Internal hosts (names, addresses, CIDR ranges) webhooks set through the API may reach. */
    allowInternalHosts: string[];
    /** How much of a webhook's answer is read before the connection is dropped. */
    maxResponseBytes: number;
  };
}

type Env = Record<string, string | undefined>;

/** A `${VAR}` in the config whose variable was unset or empty (and had no default), and where it was. */
export interface UnsetVariable {
  /** Dotted path of the setting, array indexes as numbers: `alerts.secret`, `routing.auto.models.0`. */
  path: string;
  name: string;
}

/** Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree. */
export function interpolate(value: unknown, env: Env, path: string, missing: UnsetVariable[]): unknown {
  const at = (key: string | number) => (path ? `${path}.${key}` : String(key));
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      missing.push({ path, name });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, at(i), missing));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, at(k), missing);
    return out;
  }
  return value;
}

async function readConfigFile(path: string, env: Env): Promise<{ file: ConfigFile; unset: UnsetVariable[] }> {
  const [{ parse: parseYaml }, { configSchema }] = await Promise.all([import('yaml'), import('./schema.ts')]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const unset: UnsetVariable[] = [];
  const interpolated = interpolate(raw, env, '', unset);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const key = keys.length > 0 ? [where, keys[0]].filter(Boolean).join('.') : where || '(top level)';
    const why = issue.code === 'unrecognized_keys' ? 'is not a known setting' : issue.message;
    // A value that failed because a variable it names is unset: the variable is the thing to fix.
    const causes = [...new Set(unset.filter((u) => u.path === where).map((u) => u.name))];
    if (causes.length > 0) {
      const vars = causes.map((n) => `\${${n}}`).join(', ');
      throw new ConfigError(
        `${path}: ${key} uses ${vars}, which ${causes.length > 1 ? 'are' : 'is'} not set, so its value is invalid (${why}); ` +
          `set ${causes.join(' and ')}, give a default (\${${causes[0]}:-value}), or remove ${key}`,
      );
    }
    throw new ConfigError(`${path}: ${key} ${why}`);
  }
  return { file: parsed.data, unset };
}

function presetKey(env: Env, keyEnv: string | undefined, aliases: string[] = []): string | undefined {
  for (const name of keyEnv ? [keyEnv, ...aliases] : aliases) {
    const v = env[name];
    if (v) return v;
  }
  return undefined;
}

function resolveProviders(file: ConfigFile, env: Env, s: Settings): void {
  const configured = file.providers ?? {};
  const ids = new Set<string>([...PRESET_BY_ID.keys(), ...Object.keys(configured)]);
  for (const id of ids) {
    const preset = PRESET_BY_ID.get(id);
    const cfg = configured[id];
    if (!preset && !cfg) continue;
    if (!preset && !cfg?.type) {
      const types = `${PROVIDER_TYPES.slice(0, -1).join(', ')} or ${PROVIDER_TYPES.at(-1)}`;
      throw new ConfigError(`providers.${id}.type is required for a provider Freeway does not know (${types})`);
    }
    if (!preset && !cfg?.baseUrl) throw new ConfigError(`providers.${id}.baseUrl is required for a custom provider`);
    if (cfg?.enabled === false) continue;
    const protocol = cfg?.type ? PROTOCOL_OF_TYPE[cfg.type] : preset!.protocol;
    const baseUrl = cfg?.baseUrl ?? (preset ? env[preset.baseUrlEnv] || preset.baseUrl : '');
    const apiKey = cfg?.apiKey || (preset ? presetKey(env, preset.keyEnv, preset.keyEnvAliases) : undefined);
    const keyless = preset ? preset.keyless === true : true;
    const quirks = { ...(preset?.quirks ?? (apiKey ? {} : { auth: 'none' as const })), ...(cfg?.quirks ?? {}) };
    if (!apiKey && !keyless) {
      if (cfg) s.skipped.push({ id, reason: `no API key (set providers.${id}.apiKey${preset?.keyEnv ? ` or ${preset.keyEnv}` : ''})` });
      continue;
    }
    // A keyless preset (local server) is live only when named in config or its base URL env var is set.
    if (keyless && preset && !cfg && !env[preset.baseUrlEnv]) continue;
    if (preset?.id === 'azure' && !cfg?.baseUrl && !env[preset.baseUrlEnv]) {
      s.skipped.push({ id, reason: `set providers.azure.baseUrl or ${preset.baseUrlEnv} to your resource's /openai/v1 URL` });
      continue;
    }
    s.providers.push({
      id,
      name: cfg?.name ?? preset?.name ?? id,
      protocol,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      apiKey: apiKey || undefined,
      headers: cfg?.headers ?? {},
      quirks,
      ...(cfg?.dataCollection ? { dataCollection: cfg.dataCollection } : {}),
    });
    if (cfg?.models) s.declaredModels.set(id, cfg.models);
    // Ask each provider for its own list at start-up (in the background), unless told not to or the
    // config already says exactly which models a custom server has.
    if (cfg?.discoverModels ?? !(cfg?.models && !preset)) s.discover.add(id);
  }
}

function clientLimitsOf(file: ConfigFile): ClientLimits {
  const d = DEFAULT_CLIENT_LIMITS;
  const c = file.server;
  const limits: ClientLimits = {
    headersTimeoutMs: c?.headersTimeoutMs ?? d.headersTimeoutMs,
    requestTimeoutMs: c?.requestTimeoutMs ?? d.requestTimeoutMs,
    keepAliveTimeoutMs: c?.keepAliveTimeoutMs ?? d.keepAliveTimeoutMs,
    maxConnections: c?.maxConnections ?? d.maxConnections,
    sendTimeoutMs: c?.sendTimeoutMs ?? d.sendTimeoutMs,
  };
  // The headers are part of the request: node:http refuses a header deadline past the request's.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError(
      `server.headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed server.requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  }
  return limits;
}

export interface LoadOptions {
  configPath?: string;
  /** `--workers`: a count or `auto`; wins over FREEWAY_WORKERS and server.workers. */
  workers?: string;
  port?: number;
  host?: string;
  env?: Env;
  cwd?: string;
}

export async function loadSettings(opts: LoadOptions = {}): Promise<Settings> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  let configPath = opts.configPath;
  if (configPath && !existsSync(configPath)) throw new ConfigError(`Config file ${configPath} does not exist`);
  if (!configPath && existsSync(`${cwd}/freeway.yaml`)) configPath = `${cwd}/freeway.yaml`;
  const file: ConfigFile = configPath ? (await readConfigFile(configPath, env)).file : {};

  const envPort = env.PORT ? Number(env.PORT) : undefined;
  if (envPort !== undefined && (!Number.isInteger(envPort) || envPort < 0 || envPort > 65535)) {
    throw new ConfigError(`PORT must be a port number, got ${JSON.stringify(env.PORT)}`);
  }
  const s: Settings = {
    configPath,
    port: opts.port ?? file.server?.port ?? envPort ?? 8080,
    host: opts.host ?? file.server?.host ?? '127.0.0.1',
    maxBodyBytes: file.server?.maxBodyBytes ?? 32 * 1024 * 1024,
    workers: resolveWorkers(
      opts.workers ?? env.FREEWAY_WORKERS ?? file.server?.workers,
      opts.workers !== undefined ? '--workers' : env.FREEWAY_WORKERS ? 'FREEWAY_WORKERS' : 'server.workers',
    ),
    keepAliveMs: file.server?.keepAliveMs ?? 5_000,
    clientLimits: clientLimitsOf(file),
    timeouts: {
      firstByteMs: file.server?.timeouts?.firstByteMs ?? 120_000,
      idleMs: file.server?.timeouts?.idleMs ?? 120_000,
    },
    databaseUrl: env.DATABASE_URL || file.database?.url || './data/freeway.db',
    database: {
      connectTimeoutMs: file.database?.connectTimeoutMs ?? 5_000,
      queryTimeoutMs: file.database?.queryTimeoutMs ?? 30_000,
    },
    redisUrl: env.REDIS_URL || file.redis?.url || undefined,
    redis: {
      onOutage: file.redis?.onOutage ?? 'enforce-locally',
      commandTimeoutMs: file.redis?.commandTimeoutMs ?? 500,
      connectTimeoutMs: file.redis?.connectTimeoutMs ?? 2_000,
    },
    routing: {
      stickyMs: (file.routing?.stickyMinutes ?? 10) * 60_000,
      maxRetryAfterMs: (file.routing?.maxRetryAfterSeconds ?? 10) * 1000,
      retriesPerEndpoint: file.routing?.retriesPerEndpoint ?? 1,
      midStreamFailover: file.routing?.midStreamFailover ?? true,
      timeouts: {
        connectMs: file.routing?.timeouts?.connectMs ?? 10_000,
        firstTokenMs: file.routing?.timeouts?.firstTokenMs ?? file.server?.timeouts?.firstByteMs ?? 120_000,
        idleMs: file.routing?.timeouts?.idleMs ?? file.server?.timeouts?.idleMs ?? 120_000,
        totalMs: file.routing?.timeouts?.totalMs ?? 30 * 60_000,
      },
      circuitBreaker: {
        failureThreshold: file.routing?.circuitBreaker?.failureThreshold ?? 3,
        cooldownMs: (file.routing?.circuitBreaker?.cooldownSeconds ?? 30) * 1000,
      },
      ...(file.routing?.auto ? { auto: { policy: file.routing.auto.policy ?? 'cheapest', models: file.routing.auto.models } } : {}),
    },
    limits: {
      perKey: { requestsPerMinute: file.limits?.perKey?.requestsPerMinute, tokensPerMinute: file.limits?.perKey?.tokensPerMinute },
      queue: { maxWaitMs: file.limits?.queue?.maxWaitMs ?? 30_000, maxLength: file.limits?.queue?.maxLength ?? 1_000 },
    },
    endpointLimits: new Map(),
    adminKey: env.FREEWAY_ADMIN_KEY || undefined,
    providers: [],
    skipped: [],
    declaredModels: new Map(),
    discover: new Set(),
    models: file.models ?? {},
    catalogRefreshMs: Math.round((file.catalog?.refreshMinutes ?? 60) * 60_000),
    responses: { retentionMs: Math.round((file.responses?.retentionDays ?? 30) * 86_400_000) },
    contentLog: { retentionMs: Math.round((file.contentLog?.retentionDays ?? 30) * 86_400_000) },
    billing: {
      markupBp: Math.round((file.billing?.markupPercent ?? 0) * 100),
      reservationTtlMs: (file.billing?.reservationTtlSeconds ?? 1800) * 1000,
      processLeaseMs: (file.billing?.processLeaseSeconds ?? 10) * 1000,
      checkpointMs: Math.round((file.billing?.checkpointSeconds ?? 1) * 1000),
      // OpenRouter's defaults for free models.
      freeModels: {
        perMinute: file.billing?.freeModels?.perMinute ?? 20,
        perDay: file.billing?.freeModels?.perDay ?? 50,
        perDayWithCredits: file.billing?.freeModels?.perDayWithCredits ?? 1000,
        creditsForHigherLimitNanos: Math.round((file.billing?.freeModels?.creditsForHigherLimitUsd ?? 10) * 1e9),
      },
    },
    metrics: {
      enabled: file.metrics?.enabled ?? true,
      token: file.metrics?.token || env.FREEWAY_METRICS_TOKEN || undefined,
      port: file.metrics?.port,
      host: file.metrics?.host ?? '127.0.0.1',
    },
    tracing: {
      endpoint: file.tracing?.endpoint || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
      serviceName: file.tracing?.serviceName || env.OTEL_SERVICE_NAME || 'freeway',
      headers: file.tracing?.headers ?? {},
    },
    alerts: {
      webhookUrl: file.alerts?.webhookUrl,
      secret: file.alerts?.secret || env.FREEWAY_WEBHOOK_SECRET || undefined,
      retryBaseMs: file.alerts?.retryBaseMs ?? 500,
      maxAttempts: 5,
      timeoutMs: 10_000,
      allowInternalHosts: file.alerts?.allowInternalHosts ?? [],
      maxResponseBytes: 64 * 1024,
    },
  };
  resolveProviders(file, env, s);
  for (const [id, p] of Object.entries(file.providers ?? {})) {
    if (p.maxConcurrency !== undefined || p.requestsPerMinute !== undefined) {
      s.endpointLimits.set(providerDefaultsKey(id), { maxConcurrency: p.maxConcurrency, requestsPerMinute: p.requestsPerMinute });
    }
  }
  for (const m of Object.values(file.models ?? {})) {
    for (const e of m.endpoints ?? []) {
      if (e.maxConcurrency !== undefined || e.requestsPerMinute !== undefined) {
        const limits = { maxConcurrency: e.maxConcurrency, requestsPerMinute: e.requestsPerMinute };
        s.endpointLimits.set(endpointKeyOf(e.provider, e.model), limits);
      }
    }
  }
  for (const [modelId, m] of Object.entries(s.models)) {
    for (const [i, e] of (m.endpoints ?? []).entries()) {
      if (!PRESET_BY_ID.has(e.provider) && !file.providers?.[e.provider]) {
        throw new ConfigError(`models.${modelId}.endpoints[${i}].provider: unknown provider "${e.provider}"`);
      }
    }
  }
  return s;
}
