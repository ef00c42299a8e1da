/**
 * Hostile input at every front door and management API, deterministically: a seeded PRNG turns a
 * valid request of each door into a few hundred wrong ones (each field, nested ones too, replaced by
 * a value of every wrong kind; raw JSON tricks such as duplicated and `__proto__` keys; bodies that
 * are not JSON at all), plus bad headers and bad query strings on the GET routes.
 *
 * The rule under test: bad input gets a clear error in its door's envelope with the right status;
 * never a crash, a hang, a stack trace, lost data or lost money. So every answer must arrive within
 * a deadline, be no 5xx (the emulators are healthy here), carry no stack trace or source path, be a
 * well-formed envelope when it is an error and a well-formed answer when it is a 200; afterwards the
 * gateway still serves, nothing polluted Object.prototype, and the key was charged exactly the sum
 * of the generation records of the 200 answers, which agree with the costs those answers showed.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { seededRandom } from '../../src/router/plan/random.ts';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObj = { [k: string]: Json };
type Path = Array<string | number>;

/** The gateway's body cap here, small so the over-the-limit body is quick to send. */
const MAX_BODY = 4 * 1024 * 1024;
const SEED = 0x5eed_f00d;
const DEADLINE_MS = 5_000;
const CONCURRENCY = 8;
/** At most this many body mutations per door (a seeded sample of all the door's mutations). */
const PER_DOOR = 320;
/** Paths per door that also get the heavy values (1 MB string, 100k items, 10k levels deep). */
const HEAVY_PATHS = 5;

const rand = seededRandom(SEED);
function sample<T>(list: T[], n: number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

type Envelope = 'openai' | 'anthropic';
/** What a 200 of the route must look like. */
type Shape = 'chat' | 'chat-sse' | 'completion' | 'embedding' | 'response' | 'message' | 'message-sse' | 'count' | 'data' | 'any-json';

interface Door {
  name: string;
  method: 'POST' | 'PATCH';
  path: string;
  envelope: Envelope;
  shape: Shape;
  /** A valid body: mutations of it are what the door is fed. */
  base: JsonObj;
  auth: 'key' | 'admin';
  /** Management bodies are capped lower than the inference doors'. */
  cap?: number;
  /** What a 2xx of this door must hold beyond its shape: what it stored obeys the door's own rules. */
  stored?: (body: Record<string, unknown>) => string | undefined;
  /** Optional fields the valid body leaves out: each is added with every wrong value too. */
  optional?: string[];
  /**
   * Values made to get past a check (Freeway's `fw1.` encodings, webhook targets): path, label, raw
   * JSON, and the statuses that must answer it when only a refusal is right.
   */
  forged?: Array<[Path, string, string, number[]?]>;
}

interface Case {
  door: string;
  /** The mutation, as a failure message shows it: the path and what was put there. */
  what: string;
  method: string;
  path: string;
  envelope: Envelope;
  shape: Shape;
  headers: Record<string, string | number>;
  body?: Buffer;
  /** Statuses that must be answered (e.g. 413 for an over-the-limit body); any non-5xx otherwise. */
  expect?: number[];
  stored?: Door['stored'];
  /** The request target as written, not under the API root (traversal, absolute-form, odd targets). */
  fromRoot?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Set when no complete answer arrived: the deadline passed or the connection failed. */
  failure?: string;
  ms?: number;
}

/** This file's DNS: one public webhook host, one that resolves inside, and nothing else (no real lookups). */
async function lookupHost(host: string): Promise<LookupAddress[]> {
  if (host === 'hooks.example') return [{ address: '93.184.216.34', family: 4 }];
  if (host === 'internal.example') return [{ address: '10.1.2.3', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
}

let stack: Stack;
let keyHash: string;
let victimHash: string;
let storedResponse: { id: string; generation: string };
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

before(async () => {
  stack = await startStack({ yaml: `server:\n  maxBodyBytes: ${MAX_BODY}\n`, lookupHost });
  // A key of its own on a prepaid account: what it is charged is only what this test sent.
  await stack.gw.app.store.createAccount({ id: 'fuzz', name: 'Fuzz', prepaid: true, now: new Date() });
  await stack.gw.app.billing.credit('fuzz', 'topup', 1_000_000_000_000);
  const made = await call({ method: 'POST', path: '/keys', auth: ADMIN_KEY, body: { name: 'fuzz', account: 'fuzz', limit: 500 } });
  assert.equal(made.status, 201, made.text);
  const created = JSON.parse(made.text) as { key: string; data: { hash: string } };
  stack.key = created.key;
  keyHash = created.data.hash;
  const victim = await call({ method: 'POST', path: '/keys', auth: ADMIN_KEY, body: { name: 'victim', account: 'fuzz' } });
  victimHash = (JSON.parse(victim.text) as { data: { hash: string } }).data.hash;
  // A stored response, so its GET routes are fuzzed past the 404; charged like any 200 (counted below).
  const stored = await call({
    method: 'POST',
    path: '/responses',
    auth: stack.key,
    body: {
      model: 'openai/gpt-4o-mini',
      input: [
        { role: 'user', content: 'hi' },
        { role: 'user', content: 'again' },
      ],
      max_output_tokens: 16,
    },
  });
  assert.equal(stored.status, 200, stored.text);
  storedResponse = { id: (JSON.parse(stored.text) as { id: string }).id, generation: String(stored.headers['x-generation-id']) };
});
after(async () => {
  agent.destroy();
  await stack.close();
});

/** One request over a raw node:http client (fetch would refuse to send some of these). */
function send(c: Pick<Case, 'method' | 'path' | 'headers' | 'body' | 'fromRoot'>): Promise<Answer> {
  return new Promise((resolve) => {
    const url = new URL(stack.baseURL);
    let settled = false;
    const started = performance.now();
    const done = (a: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...a, ms: Math.round(performance.now() - started) });
    };
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: c.method,
        path: c.fromRoot ? c.path : url.pathname + c.path,
        headers: c.headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) =>
          done({ status: res.statusCode ?? 0, headers: res.headers, text: '', failure: `response failed: ${err.message}` }),
        );
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 0, headers: {}, text: '', failure: `no answer within ${DEADLINE_MS} ms` });
    }, DEADLINE_MS);
    req.on('error', (err) => done({ status: 0, headers: {}, text: '', failure: `request failed: ${err.message}` }));
    req.end(c.body);
  });
}

async function call(o: { method: string; path: string; auth?: string; body?: unknown }): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.auth) headers.authorization = `Bearer ${o.auth}`;
  return send({ method: o.method, path: o.path, headers, body: o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body)) });
}

// ---------------------------------------------------------------------------------------------
// The doors and their valid requests.

const chatBase: JsonObj = {
  model: 'openai/gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'What is the weather?' }] },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      reasoning_details: [{ type: 'reasoning.text', text: 'Checking.', format: 'unknown', index: 0 }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
    { role: 'user', content: 'Thanks, and tomorrow?' },
  ],
  tools: [
    {
      type: 'function',
      function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    },
  ],
  tool_choice: 'auto',
  response_format: { type: 'text' },
  reasoning: { exclude: false },
  provider: { allow_fallbacks: true, sort: 'price', ignore: ['azure'], max_price: { prompt: 10, completion: 10 } },
  models: ['openai/gpt-4o-mini'],
  stop: ['\n\n\n'],
  max_tokens: 32,
  temperature: 0.5,
  stream: false,
};

const anthropicBase = (model: string): JsonObj => ({
  model,
  max_tokens: 32,
  system: [{ type: 'text', text: 'Be brief.' }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'What is the weather?' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Oslo' } }] },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: 'Sunny' }] },
        { type: 'text', text: 'And tomorrow?' },
      ],
    },
  ],
  tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  tool_choice: { type: 'auto' },
  temperature: 0.5,
  stream: false,
});

/** Freeway's own opaque encodings (`fw1.` + base64url JSON), forged around hostile JSON. */
const fw1 = (json: string) => JSON.stringify(`fw1.${Buffer.from(json).toString('base64url')}`);
const DEEP_OBJECT = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
const FORGED_PAYLOADS: Array<[string, string]> = [
  ['fw1. of 10k-deep JSON', `${'['.repeat(10_000)}{"type":"reasoning.text","text":"x"}${']'.repeat(10_000)}`],
  ['fw1. of a 10k-deep detail', `{"type":"reasoning.encrypted","data":${DEEP_OBJECT}}`],
  ['fw1. of a deep detail list', `[{"type":"reasoning.encrypted","data":"d","format":${DEEP_OBJECT}}]`],
  ['fw1. of a __proto__ detail', '{"type":"reasoning.text","__proto__":{"polluted":"yes"}}'],
  ['fw1. of garbage', 'not json'],
];

/** Forged Anthropic blocks in place of the assistant's tool_use: thinking signatures and redacted data. */
const anthropicForged: Array<[Path, string, string]> = FORGED_PAYLOADS.flatMap(
  ([label, json]): Array<[Path, string, string]> => [
    [['messages', 1, 'content', 0], `thinking signature ${label}`, `{"type":"thinking","thinking":"hm","signature":${fw1(json)}}`],
    [['messages', 1, 'content', 0], `redacted_thinking ${label}`, `{"type":"redacted_thinking","data":${fw1(json)}}`],
  ],
);

/** Forged reasoning items in place of the Responses input's function call. */
const responsesForged: Array<[Path, string, string]> = FORGED_PAYLOADS.map(([label, json]) => [
  ['input', 1],
  `reasoning encrypted_content ${label}`,
  `{"type":"reasoning","summary":[],"encrypted_content":${fw1(json)}}`,
]);

const CHAT_OPTIONAL = [
  'models',
  'stream_options',
  'logit_bias',
  'stop',
  'seed',
  'top_p',
  'top_k',
  'top_logprobs',
  'logprobs',
  'n',
  'user',
  'session_id',
  'plugins',
  'transforms',
  'prediction',
  'web_search_options',
  'metadata',
  'service_tier',
  'cache_control',
  'reasoning_effort',
  'include_reasoning',
  'parallel_tool_calls',
  'max_completion_tokens',
  'usage',
  'route',
  'debug',
  'preset',
  'trace',
  'modalities',
  'audio',
  'verbosity',
];
const ANTHROPIC_OPTIONAL = [
  'metadata',
  'stop_sequences',
  'thinking',
  'top_k',
  'top_p',
  'service_tier',
  'container',
  'mcp_servers',
  'provider',
  'models',
  'fallbacks',
  'session_id',
  'user',
  'plugins',
  'route',
  'output_format',
  'context_management',
];

/** A key's name as POST /keys takes it: 1-200 characters once trimmed; a rename may not store what creation refuses. */
function keyNameProblem(d: Record<string, unknown>): string | undefined {
  const name = typeof d.name === 'string' ? d.name.trim() : '';
  return name.length >= 1 && name.length <= 200 ? undefined : `stored the key name ${JSON.stringify(String(d.name).slice(0, 40))}`;
}

const DOORS: Door[] = [
  {
    name: 'chat',
    method: 'POST',
    path: '/chat/completions',
    envelope: 'openai',
    shape: 'chat',
    base: chatBase,
    auth: 'key',
    optional: CHAT_OPTIONAL,
  },
  {
    name: 'chat-stream',
    method: 'POST',
    path: '/chat/completions',
    envelope: 'openai',
    shape: 'chat-sse',
    base: { ...chatBase, stream: true, stream_options: { include_usage: true } },
    auth: 'key',
    optional: CHAT_OPTIONAL,
  },
  {
    name: 'completions',
    method: 'POST',
    path: '/completions',
    envelope: 'openai',
    shape: 'completion',
    base: { model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Once upon', max_tokens: 16, temperature: 0.2, stop: ['\n'] },
    auth: 'key',
    optional: [
      'suffix',
      'echo',
      'best_of',
      'n',
      'logprobs',
      'seed',
      'stream',
      'stream_options',
      'models',
      'provider',
      'user',
      'logit_bias',
    ],
  },
  {
    name: 'embeddings',
    method: 'POST',
    path: '/embeddings',
    envelope: 'openai',
    shape: 'embedding',
    base: { model: 'openai/text-embedding-3-small', input: ['alpha beta', 'gamma'], encoding_format: 'float' },
    auth: 'key',
    optional: ['dimensions', 'input_type', 'user', 'provider'],
  },
  {
    name: 'responses',
    method: 'POST',
    path: '/responses',
    envelope: 'openai',
    shape: 'response',
    base: {
      model: 'openai/gpt-4o-mini',
      instructions: 'Be brief.',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is the weather?' }] },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Checking.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'Sunny' },
        { type: 'message', role: 'user', content: 'And tomorrow?' },
      ],
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: 'auto',
      text: { format: { type: 'text' } },
      reasoning: { effort: 'low' },
      max_output_tokens: 32,
      store: false,
      stream: false,
    },
    auth: 'key',
    optional: [
      'previous_response_id',
      'include',
      'metadata',
      'truncation',
      'parallel_tool_calls',
      'max_tool_calls',
      'background',
      'conversation',
      'prompt',
      'temperature',
      'top_p',
      'user',
      'safety_identifier',
      'prompt_cache_key',
      'service_tier',
      'models',
      'provider',
      'session_id',
      'stream_options',
      'top_logprobs',
    ],
    forged: responsesForged,
  },
  {
    name: 'messages',
    method: 'POST',
    path: '/messages',
    envelope: 'anthropic',
    shape: 'message',
    base: anthropicBase('anthropic/claude-sonnet-4-5'),
    auth: 'key',
    optional: ANTHROPIC_OPTIONAL,
    forged: anthropicForged,
  },
  {
    // The same door translated for another provider: a different code path behind the same parser.
    name: 'messages-translated',
    method: 'POST',
    path: '/messages',
    envelope: 'anthropic',
    shape: 'message',
    base: anthropicBase('openai/gpt-4o-mini'),
    auth: 'key',
    optional: ANTHROPIC_OPTIONAL,
    forged: anthropicForged,
  },
  {
    name: 'messages-stream',
    method: 'POST',
    path: '/messages',
    envelope: 'anthropic',
    shape: 'message-sse',
    base: { ...anthropicBase('openai/gpt-4o-mini'), stream: true },
    auth: 'key',
    optional: ANTHROPIC_OPTIONAL,
  },
  {
    name: 'count_tokens',
    method: 'POST',
    path: '/messages/count_tokens',
    envelope: 'anthropic',
    shape: 'count',
    base: (({ max_tokens: _m, stream: _s, temperature: _t, ...rest }) => rest)(anthropicBase('anthropic/claude-sonnet-4-5')),
    auth: 'key',
    optional: ANTHROPIC_OPTIONAL,
  },
  {
    name: 'keys-create',
    method: 'POST',
    path: '/keys',
    envelope: 'openai',
    shape: 'data',
    base: { name: 'made', account: 'fuzz', limit: 1, limit_reset: 'daily', expires_at: '2099-01-01T00:00:00Z', requests_per_minute: 60 },
    auth: 'admin',
    cap: 64 * 1024,
    stored: (d) => keyNameProblem(d) ?? (d.account === 'fuzz' ? undefined : `the key was made in account ${String(d.account)}`),
  },
  {
    name: 'keys-update',
    method: 'PATCH',
    path: '/keys/{victim}',
    envelope: 'openai',
    shape: 'data',
    base: { name: 'victim', limit: 2, limit_reset: 'weekly', disabled: false, log_content: null, tokens_per_minute: 1000 },
    auth: 'admin',
    cap: 64 * 1024,
    stored: keyNameProblem,
  },
  {
    name: 'credits-add',
    method: 'POST',
    path: '/credits',
    envelope: 'openai',
    shape: 'data',
    base: { account: 'fuzz', amount: 0.5, kind: 'topup', note: 'fuzz' },
    auth: 'admin',
    cap: 16 * 1024,
    stored: (d) => (d.id === 'fuzz' ? undefined : `credited account ${String(d.id)}, not fuzz`),
  },
  {
    name: 'accounts-create',
    method: 'POST',
    path: '/accounts',
    envelope: 'openai',
    shape: 'data',
    base: { id: 'made', name: 'Made', prepaid: true },
    auth: 'admin',
    cap: 16 * 1024,
  },
  {
    name: 'alerts-create',
    method: 'POST',
    path: '/alerts',
    envelope: 'openai',
    shape: 'data',
    base: { account: 'fuzz', threshold_usd: 5, webhook_url: 'https://hooks.example/freeway' },
    auth: 'admin',
    stored: (d) => (d.account === 'fuzz' ? undefined : `the alert was set on account ${String(d.account)}`),
    // Each a way to point the webhook at the gateway's own network or at no web at all: only a 400 is right.
    forged: [
      'http://localhost/x',
      'http://127.0.0.1:9/x',
      'http://127.1/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://user:pw@hooks.example/',
      'http://internal.example/',
      'http://no-such-host.example/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'gopher://hooks.example/',
      `https://${'a'.repeat(70)}.example/`,
      'https://hooks.example:99999/',
    ].map((url): [Path, string, string, number[]] => [['webhook_url'], url, JSON.stringify(url), [400]]),
  },
  {
    name: 'key-alerts-create',
    method: 'POST',
    path: '/key/alerts',
    envelope: 'openai',
    shape: 'data',
    base: { threshold_percent: 10 },
    auth: 'key',
  },
];

// ---------------------------------------------------------------------------------------------
// Mutations.

/** A placeholder the mutated value's raw JSON text replaces after serialisation. */
const MARK = '\u0001mutation\u0001';
const MARK_JSON = JSON.stringify(MARK);

interface Wrong {
  label: string;
  /** The value's raw JSON text: some are not values JSON.stringify could make (NaN-as-text, depth). */
  raw: string;
}

const LIGHT: Wrong[] = [
  { label: 'null', raw: 'null' },
  { label: 'true', raw: 'true' },
  { label: '-1', raw: '-1' },
  { label: '1e308', raw: '1e308' },
  { label: '2**53+1', raw: '9007199254740993' },
  { label: '"NaN"', raw: '"NaN"' },
  { label: '""', raw: '""' },
  { label: '[]', raw: '[]' },
  { label: '{}', raw: '{}' },
  { label: 'lone surrogate', raw: '"\\ud800x"' },
];

const HEAVY: Wrong[] = [
  { label: '1 MB string', raw: JSON.stringify('x'.repeat(1024 * 1024)) },
  { label: '10k-deep arrays', raw: `${'['.repeat(10_000)}${']'.repeat(10_000)}` },
  { label: '10k-deep objects', raw: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` },
  { label: '100k-item array', raw: `[${new Array(100_000).fill('{}').join(',')}]` },
];

function pathsOf(v: Json, at: Path = []): Path[] {
  const out: Path[] = at.length > 0 ? [at] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...at, k]));
  return out;
}

function show(p: Path): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('') || '(body)';
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

function getAt(root: Json, p: Path): Json {
  let v: Json = root;
  for (const s of p) v = (v as Record<string | number, Json>)[s];
  return v;
}

function setAt(root: Json, p: Path, value: Json): void {
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, Json>;
  parent[p[p.length - 1]] = value;
}

/** The base with `raw` JSON text at `p`. */
function withRaw(base: JsonObj, p: Path, raw: string): string {
  const b = clone(base);
  setAt(b, p, MARK);
  return JSON.stringify(b).replace(MARK_JSON, () => raw);
}

/** The base with raw `members` added to the object at `p` (the root for []). */
function withMembers(base: JsonObj, p: Path, members: string): string {
  const b = clone(base);
  const target = getAt(b, p) as JsonObj;
  target[MARK] = null;
  return JSON.stringify(b).replace(`${MARK_JSON}:null`, () => members);
}

interface BodyMutation {
  what: string;
  body: string | Buffer;
  contentType?: string;
  extraHeaders?: Record<string, string>;
  expect?: number[];
}

function bodyMutations(door: Door): BodyMutation[] {
  const base = door.base;
  const paths = pathsOf(base);
  const objects: Path[] = [
    [],
    ...paths.filter((p) => {
      const v = getAt(base, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    }),
  ];
  const light: BodyMutation[] = [];
  for (const p of paths) {
    for (const w of LIGHT) light.push({ what: `${show(p)} = ${w.label}`, body: withRaw(base, p, w.raw) });
    // A duplicated key: JSON.parse keeps the last, so the wrong value is what is read.
    const last = p[p.length - 1];
    if (typeof last === 'string') {
      const b = clone(base);
      setAt(b, p, MARK);
      const original = JSON.stringify(getAt(base, p));
      const text = JSON.stringify(b).replace(
        `${JSON.stringify(last)}:${MARK_JSON}`,
        () => `${JSON.stringify(last)}:${original},${JSON.stringify(last)}:-1`,
      );
      light.push({ what: `${show(p)} duplicated (last = -1)`, body: text });
    }
  }
  for (const name of door.optional ?? []) {
    for (const w of LIGHT) light.push({ what: `+ ${name} = ${w.label}`, body: withMembers(base, [], `${JSON.stringify(name)}:${w.raw}`) });
  }
  for (const p of objects) {
    light.push({ what: `${show(p)} + unknown field`, body: withMembers(base, p, '"zz_unknown_field":{"x":[1,"2",null]}') });
    light.push({ what: `${show(p)} + __proto__`, body: withMembers(base, p, '"__proto__":{"polluted":"yes","model":"x","stream":true}') });
    light.push({
      what: `${show(p)} + constructor.prototype`,
      body: withMembers(base, p, '"constructor":{"prototype":{"polluted":"yes"}}'),
    });
  }
  const heavy: BodyMutation[] = [];
  for (const p of sample(paths, HEAVY_PATHS)) {
    for (const w of HEAVY) heavy.push({ what: `${show(p)} = ${w.label}`, body: withRaw(base, p, w.raw) });
  }
  // Every array (messages, tools, content parts, input items...) as 100k copies of its first, valid,
  // element: a request the parser must take or refuse without choking, up to the body limit.
  for (const p of paths.filter((q) => Array.isArray(getAt(base, q)) && (getAt(base, q) as Json[]).length > 0)) {
    const first = JSON.stringify((getAt(base, p) as Json[])[0]);
    // Up to 256 KB of them: enough to show a cost per item, without spending the run on parsing.
    const copies = Math.min(100_000, Math.floor(Math.min(door.cap ?? MAX_BODY, 256 * 1024) / (first.length + 1)) - 64);
    heavy.push({ what: `${show(p)} = ${copies} copies of [0]`, body: withRaw(base, p, `[${new Array(copies).fill(first).join(',')}]`) });
  }
  const text = JSON.stringify(base);
  const cap = door.cap ?? MAX_BODY;
  const raw: BodyMutation[] = [
    { what: 'empty body', body: '' },
    { what: 'body "null"', body: 'null' },
    { what: 'body is an array', body: `[${text}]` },
    { what: 'body is a string', body: JSON.stringify(text) },
    { what: 'body is a number', body: '1e999' },
    { what: 'body with a BOM', body: `\ufeff${text}` },
    ...[0.1, 0.5, 0.9, 0.99].map((f) => ({
      what: `truncated at ${Math.round(f * 100)}%`,
      body: text.slice(0, Math.floor(text.length * f)),
    })),
    {
      what: 'invalid UTF-8 inside a string',
      body: Buffer.concat([
        Buffer.from(text.slice(0, text.indexOf('"', 2) + 1)),
        Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
        Buffer.from(text.slice(text.indexOf('"', 2) + 1)),
      ]),
    },
    { what: 'invalid UTF-8 outside strings', body: Buffer.concat([Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from(text)]) },
    { what: 'NUL bytes', body: `${text}\u0000\u0000` },
    { what: 'trailing garbage', body: `${text}}}]]` },
    { what: 'two bodies', body: `${text}${text}` },
    { what: 'form-encoded body', body: 'model=x&messages=y', contentType: 'application/x-www-form-urlencoded' },
    { what: 'valid JSON as text/plain', body: text, contentType: 'text/plain' },
    { what: 'no content-type', body: text, contentType: '' },
    { what: 'multipart content-type', body: text, contentType: 'multipart/form-data; boundary=x' },
    {
      what: 'gzip header with garbage',
      body: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0x01, 0x02]),
      extraHeaders: { 'content-encoding': 'gzip' },
      expect: [415],
    },
    { what: 'JSON labelled gzip', body: text, extraHeaders: { 'content-encoding': 'gzip' }, expect: [415] },
    { what: `body larger than the ${cap}-byte limit`, body: Buffer.alloc(cap + 1, 0x20), expect: [413] },
  ];
  const forged = (door.forged ?? []).map(([p, label, value, expect]) => ({
    what: `${show(p)} = ${label}`,
    body: withRaw(base, p, value),
    ...(expect ? { expect } : {}),
  }));
  return [...sample(light, PER_DOOR - heavy.length - raw.length - forged.length), ...heavy, ...raw, ...forged];
}

function authOf(door: { auth: 'key' | 'admin' }): string {
  return door.auth === 'key' ? stack.key : ADMIN_KEY;
}

function doorCases(door: Door): Case[] {
  const path = door.path.replace('{victim}', victimHash);
  return bodyMutations(door).map((m) => {
    const body = typeof m.body === 'string' ? Buffer.from(m.body) : m.body;
    const headers: Record<string, string | number> = {
      authorization: `Bearer ${authOf(door)}`,
      'content-length': body.length,
      ...m.extraHeaders,
    };
    const type = m.contentType ?? 'application/json';
    if (type !== '') headers['content-type'] = type;
    if (door.envelope === 'anthropic') headers['anthropic-version'] = '2023-06-01';
    return {
      door: door.name,
      what: m.what,
      method: door.method,
      path,
      envelope: door.envelope,
      shape: door.shape,
      headers,
      body,
      expect: m.expect,
      stored: door.stored,
    };
  });
}

/** Authorization and other header abuse on one door of each envelope, and on a management route. */
function headerCases(): Case[] {
  const targets: Array<{ door: Door; envelope: Envelope }> = [
    { door: DOORS[0], envelope: 'openai' },
    { door: DOORS[5], envelope: 'anthropic' },
    { door: DOORS[9], envelope: 'openai' },
  ];
  const out: Case[] = [];
  for (const { door, envelope } of targets) {
    const body = Buffer.from(JSON.stringify(door.base));
    const token = authOf(door);
    const variants: Array<[string, Record<string, string>, number[] | undefined]> = [
      ['no Authorization', {}, [401]],
      ['Authorization: Bearer', { authorization: 'Bearer' }, [401]],
      ['Authorization: Bearer (space)', { authorization: 'Bearer ' }, [401]],
      ['Authorization: Basic', { authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}` }, [401]],
      ['Authorization: the token alone', { authorization: token }, [401]],
      ['Authorization: token plus junk', { authorization: `Bearer ${token} junk` }, [401]],
      ['Authorization: bearer, lower case', { authorization: `bearer ${token}` }, undefined],
      ['Authorization: 8 KB token', { authorization: `Bearer ${'k'.repeat(8 * 1024)}` }, [401]],
      ['Authorization: latin-1 bytes', { authorization: `Bearer ${token}\u00e9\u00ff` }, [401]],
      ['x-api-key: wrong', { 'x-api-key': 'sk-wrong' }, [401]],
      ['x-api-key empty', { 'x-api-key': '' }, [401]],
      ['the other kind of key', { authorization: `Bearer ${door.auth === 'key' ? ADMIN_KEY : stack.key}` }, [403]],
      ['20 KB header', { authorization: `Bearer ${token}`, 'x-title': 'h'.repeat(20 * 1024) }, [431]],
      [
        'huge HTTP-Referer and X-Title',
        { authorization: `Bearer ${token}`, 'http-referer': 'r'.repeat(6000), 'x-title': 't'.repeat(6000) },
        undefined,
      ],
      ['content-length: not a number', { authorization: `Bearer ${token}`, 'content-length': 'abc' }, [400]],
      ['anthropic-version: garbage', { authorization: `Bearer ${token}`, 'anthropic-version': '\u00ff'.repeat(100) }, undefined],
      ['x-anthropic-beta: 4 KB junk', { authorization: `Bearer ${token}`, 'x-anthropic-beta': 'z,'.repeat(2048) }, undefined],
    ];
    for (const [what, h, expect] of variants) {
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length, ...h };
      if (envelope === 'anthropic') headers['anthropic-version'] ??= '2023-06-01';
      out.push({
        door: `${door.name} headers`,
        what,
        method: door.method,
        path: door.path,
        envelope,
        shape: door.shape,
        headers,
        body,
        expect,
      });
    }
  }
  return out;
}

/** Paging cursors a client made up: the opaque format (base64url JSON) around wrong contents. */
const FORGED_CURSORS = [
  '["2024-01-01T00:00:00Z","x"]',
  '["0","x"]',
  '["+275760-09-13T00:00:00.000Z",""]',
  '["-271821-04-20T00:00:00.000Z","x"]',
  '[1,2]',
  '["2024-01-01",{"a":1}]',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  '{"__proto__":{"polluted":"yes"}}',
].map((json) => Buffer.from(json).toString('base64url'));

/** Dates that parse oddly, or at the ends of what a Date holds. */
const ODD_DATES = [
  '2024-02-30',
  '0000-00-00',
  '+275760-09-13',
  '+275760-09-14',
  '-271821-04-20',

  '2024-01-01T00:00:00+99:99',
  '1',
];

/** Bad query strings and path parameters on the GET (and DELETE) routes. */
function queryCases(): Case[] {
  const bad = [
    '',
    '%',
    '%ZZ',
    '%E0%A4%A',
    '%00',
    '-1',
    '1e308',
    'NaN',
    '9007199254740993',
    'x'.repeat(6000),
    "' OR 1=1 --",
    '__proto__',
    '../../etc/passwd',
    '\u00e9\u{1f600}',
  ];
  const enc = (v: string) => (/%/.test(v) ? v : encodeURIComponent(v));
  const gets: Array<{ path: string; params: string[]; auth: string; envelope: Envelope; method?: string }> = [
    { path: '/generation', params: ['id'], auth: 'key', envelope: 'openai' },
    { path: '/generation/content', params: ['id'], auth: 'key', envelope: 'openai' },
    { path: '/generations', params: ['limit', 'cursor', 'from', 'to', 'status', 'model', 'bogus'], auth: 'key', envelope: 'openai' },
    { path: '/credits/ledger', params: ['limit', 'cursor', 'kind', 'account'], auth: 'admin', envelope: 'openai' },
    { path: '/activity', params: ['date', 'api_key_hash', 'user_id', 'account'], auth: 'admin', envelope: 'openai' },
    { path: '/usage', params: ['group_by', 'from', 'to', 'key', 'account'], auth: 'admin', envelope: 'openai' },
    { path: '/credits', params: ['account'], auth: 'admin', envelope: 'openai' },
    { path: '/keys', params: ['offset', 'account', 'include_disabled'], auth: 'admin', envelope: 'openai' },
    { path: '/accounts', params: ['x'], auth: 'admin', envelope: 'openai' },
    { path: '/alerts', params: ['account', 'key_hash'], auth: 'admin', envelope: 'openai' },
    {
      path: '/models',
      params: ['limit', 'offset', 'sort', 'q', 'min_price', 'context', 'supported_parameters', 'output_modalities'],
      auth: 'key',
      envelope: 'openai',
    },
    { path: '/models/count', params: ['limit', 'input_modalities', 'max_age_days'], auth: 'key', envelope: 'openai' },
    { path: '/models/user', params: ['sort', 'zdr'], auth: 'key', envelope: 'openai' },
    { path: '/embeddings/models', params: ['q'], auth: 'key', envelope: 'openai' },
    { path: '/providers', params: ['x'], auth: 'key', envelope: 'openai' },
    { path: '/endpoints/zdr', params: ['x'], auth: 'key', envelope: 'openai' },
    { path: '/key', params: ['x'], auth: 'key', envelope: 'openai' },
    {
      path: `/responses/${storedResponse.id}/input_items`,
      params: ['limit', 'after', 'order', 'include'],
      auth: 'key',
      envelope: 'openai',
    },
    { path: `/responses/${storedResponse.id}`, params: ['include', 'stream', 'starting_after'], auth: 'key', envelope: 'openai' },
  ];
  const out: Case[] = [];
  for (const g of gets) {
    const auth = g.auth === 'key' ? stack.key : ADMIN_KEY;
    const headers = { authorization: `Bearer ${auth}` };
    for (const param of g.params) {
      const odd = param === 'cursor' ? FORGED_CURSORS : /^(from|to|date)$/.test(param) ? ODD_DATES : [];
      for (const v of [...bad, ...odd]) {
        out.push({
          door: `GET ${g.path}`,
          what: `?${param}=${v.slice(0, 40)}`,
          method: 'GET',
          path: `${g.path}?${param}=${enc(v)}`,
          envelope: g.envelope,
          shape: 'any-json',
          headers,
          // A made-up cursor or a date that is not ISO 8601 is refused, never read as some other page or day.
          ...(odd.includes(v) ? { expect: [400] } : {}),
        });
      }
      out.push({
        door: `GET ${g.path}`,
        what: `?${param} twice`,
        method: 'GET',
        path: `${g.path}?${param}=1&${param}=2`,
        envelope: g.envelope,
        shape: 'any-json',
        headers,
      });
    }
  }
  // Path parameters: each route with one, each bad segment.
  const segs = ['%', '%ZZ', '%E0%A4%A', '%00', 'x'.repeat(6000), '..', '%2F', '__proto__', 'constructor'];
  const routes: Array<{ method: string; path: string; auth: string; envelope: Envelope }> = [
    { method: 'GET', path: '/keys/{}', auth: ADMIN_KEY, envelope: 'openai' },
    { method: 'DELETE', path: '/keys/{}', auth: ADMIN_KEY, envelope: 'openai' },
    { method: 'PATCH', path: '/accounts/{}', auth: ADMIN_KEY, envelope: 'openai' },
    { method: 'DELETE', path: '/alerts/{}', auth: ADMIN_KEY, envelope: 'openai' },
    { method: 'DELETE', path: '/key/alerts/{}', auth: 'key', envelope: 'openai' },
    { method: 'GET', path: '/model/openai/{}', auth: 'key', envelope: 'openai' },
    { method: 'GET', path: '/models/{}/gpt-4o-mini/endpoints', auth: 'key', envelope: 'openai' },
    { method: 'GET', path: '/responses/{}', auth: 'key', envelope: 'openai' },
    { method: 'DELETE', path: '/responses/{}', auth: 'key', envelope: 'openai' },
    { method: 'GET', path: '/responses/{}/input_items', auth: 'key', envelope: 'openai' },
  ];
  for (const r of routes) {
    const auth = r.auth === 'key' ? stack.key : r.auth;
    for (const s of segs) {
      const body = r.method === 'PATCH' ? Buffer.from('{"log_content":false}') : undefined;
      out.push({
        door: `${r.method} ${r.path}`,
        what: `{} = ${s.slice(0, 40)}`,
        method: r.method,
        path: r.path.replace('{}', s),
        envelope: r.envelope,
        shape: 'any-json',
        headers: {
          authorization: `Bearer ${auth}`,
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
        body,
      });
    }
  }
  // Request targets that try to leave the API or the dashboard's files.
  for (const target of [
    '/api/v1/../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..%2f..%2f..%2fpackage.json',
    '/assets/%2e%2e/%2e%2e/package.json',
    '/assets/../../src/app.ts',
    '/..\\..\\package.json',
    '/api/v1/models/..%2f..%2f..%2fpackage.json',
    'http://evil.example/api/v1/models',
    `/api/v1/models?${'a=1&'.repeat(4000)}`,
    `/api/v1/${'x/'.repeat(3000)}`,
  ]) {
    out.push({
      door: 'request target',
      what: target.slice(0, 60),
      method: 'GET',
      path: target,
      fromRoot: true,
      envelope: 'openai',
      shape: 'any-json',
      headers: { authorization: `Bearer ${stack.key}`, accept: 'text/html,application/json' },
    });
  }
  // Wrong methods on door routes: each door's own envelope.
  for (const [method, path, envelope] of [
    ['GET', '/chat/completions', 'openai'],
    ['PUT', '/chat/completions', 'openai'],
    ['GET', '/messages', 'anthropic'],
    ['DELETE', '/messages/count_tokens', 'anthropic'],
    ['PATCH', '/responses', 'openai'],
  ] as const) {
    out.push({
      door: `${method} ${path}`,
      what: 'wrong method',
      method,
      path,
      envelope,
      shape: 'any-json',
      headers: { authorization: `Bearer ${stack.key}` },
      expect: [405],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What every answer must be.

/** An error names the problem; it does not echo a megabyte of the request back. */
const MAX_ERROR_BYTES = 16 * 1024;

/** Files a traversal would reach: the system's passwords, the package's manifest, its sources. */
const FILES = /root:x:0:0|"devDependencies"|^import .* from '/m;

/** The server's own directory (it runs in this process), as a stack or an error would show it. */
const ROOT = new URL('../..', import.meta.url).pathname;

const LEAKS = [
  new RegExp(ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
  /file:\/\//,
  /\.ts:\d/,
  /\bat async\b/,
  /node:internal/,
  /\n\s+at /,
  /\bat [A-Za-z_$.]+ \(/,
];

/** What is wrong with an answer to `c`, or undefined when nothing is. */
function problem(c: Case, a: Answer): string | undefined {
  if (a.failure) return a.failure;
  if (a.status >= 500) return `status ${a.status}`;
  if (c.expect && !c.expect.includes(a.status)) return `status ${a.status}, expected ${c.expect.join(' or ')}`;
  const leak = LEAKS.find((r) => r.test(a.text));
  if (leak) return `the body leaks internals (${leak})`;
  if (FILES.test(a.text)) return 'the body is a file from outside the dashboard';
  if (a.status >= 400 && a.text.length > MAX_ERROR_BYTES) return `a ${a.text.length}-byte error body (the input echoed back?)`;
  if (a.status >= 400) return envelopeProblem(c, a);
  if (a.status >= 200 && a.status < 300) return okProblem(c, a);
  return `unexpected status ${a.status}`;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function envelopeProblem(c: Case, a: Answer): string | undefined {
  const body = parse(a.text);
  if (!isObj(body)) return 'the error body is not a JSON object';
  // node:http's own refusals (bad syntax, header overflow) come before any route is known.
  const envelope = a.status === 431 || (a.status === 400 && c.what.startsWith('content-length')) ? 'openai' : c.envelope;
  let message: unknown;
  if (envelope === 'anthropic') {
    if (body.type !== 'error' || !isObj(body.error)) return 'not the Anthropic envelope {type:"error", error:{...}}';
    if (typeof body.error.type !== 'string' || (!body.error.type.endsWith('_error') && body.error.type !== 'request_too_large'))
      return `error.type ${JSON.stringify(body.error.type)}`;
    message = body.error.message;
  } else {
    if (!isObj(body.error)) return 'not the OpenAI/OpenRouter envelope {error:{...}}';
    const code = body.error.code;
    if (typeof code !== 'number' && typeof code !== 'string') return 'error.code is neither a number nor a string';
    if (typeof code === 'number' && code !== a.status) return `error.code ${code} is not the status ${a.status}`;
    message = body.error.message;
  }
  if (typeof message !== 'string' || message.length < 8) return `error.message ${JSON.stringify(message)} says nothing`;
  if (/internal server error|\[object Object\]/i.test(message)) return `error.message is not the problem: ${message.slice(0, 200)}`;
  return undefined;
}

function sseEvents(text: string): Array<{ event?: string; data: string }> {
  return text
    .split(/\n\n/)
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return { event, data };
    })
    .filter((e) => e.data !== '');
}

function okProblem(c: Case, a: Answer): string | undefined {
  const type = String(a.headers['content-type'] ?? '');
  // A valid mutation may turn streaming on (`stream: true`) or off: the answer is judged as what it says it is.
  if (type.startsWith('text/event-stream')) {
    const sse = (
      { chat: 'done', 'chat-sse': 'done', completion: 'done', message: 'message', 'message-sse': 'message', response: 'response' } as const
    )[c.shape as string];
    if (!sse) return `${c.shape} answered as a stream`;
    const events = sseEvents(a.text);
    for (const e of events)
      if (e.data !== '[DONE]' && parse(e.data) === undefined) return `a stream frame is not JSON: ${e.data.slice(0, 200)}`;
    if (sse === 'done') {
      if (events.at(-1)?.data !== '[DONE]') return 'the stream does not end with [DONE]';
      if (events.some((e) => e.data !== '[DONE]' && isObj(parse(e.data)) && 'error' in (parse(e.data) as object)))
        return 'the stream carries an error';
    } else if (sse === 'message' && !events.some((e) => e.event === 'message_stop')) return 'the stream has no message_stop';
    else if (sse === 'response' && !events.some((e) => e.event === 'response.completed' || e.event === 'response.incomplete'))
      return 'the stream has no response.completed';
    return undefined;
  }
  // A browser's request for a page outside the API is the dashboard's index, whatever the path.
  if (c.shape === 'any-json' && type.startsWith('text/html'))
    return /^<!doctype html>/i.test(a.text) ? undefined : 'an HTML answer that is not the dashboard';
  if (c.shape === 'chat-sse') c = { ...c, shape: 'chat' };
  if (c.shape === 'message-sse') c = { ...c, shape: 'message' };
  const body = parse(a.text);
  if (c.shape === 'any-json') return isObj(body) || Array.isArray(body) ? undefined : 'the 2xx body is not JSON';
  if (!isObj(body)) return 'the 2xx body is not a JSON object';
  const usageCost = (u: unknown) => isObj(u) && typeof u.cost === 'number' && u.cost >= 0;
  switch (c.shape) {
    case 'chat':
      if (body.object !== 'chat.completion' || !Array.isArray(body.choices) || body.choices.length !== 1) return 'not a chat.completion';
      if (!usageCost(body.usage)) return 'no usage.cost';
      return undefined;
    case 'completion':
      if (body.object !== 'text_completion' || !Array.isArray(body.choices)) return 'not a text_completion';
      if (!usageCost(body.usage)) return 'no usage.cost';
      return undefined;
    case 'embedding':
      if (body.object !== 'list' || !Array.isArray(body.data) || body.data.length === 0) return 'not an embedding list';
      if (!usageCost(body.usage)) return 'no usage.cost';
      return undefined;
    case 'response':
      if (body.object !== 'response' || !Array.isArray(body.output)) return 'not a response';
      if (body.status !== 'completed' && body.status !== 'incomplete') return `response status ${String(body.status)}`;
      return undefined;
    case 'message':
      if (body.type !== 'message' || body.role !== 'assistant' || !Array.isArray(body.content)) return 'not a message';
      return undefined;
    case 'count':
      if (typeof body.input_tokens !== 'number' || body.input_tokens < 0) return 'no input_tokens';
      return undefined;
    case 'data':
      if (!isObj(body.data)) return 'no data';
      return c.stored?.(body.data);
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The cost a 200 showed its client: `usage.cost` of a whole answer, of a chat stream's usage chunk,
 * or of a Responses stream's final response. (Anthropic's shape has no cost; its record is checked
 * against the key's usage only.)
 */
function answeredCost(a: Answer): number | undefined {
  const costOf = (v: unknown): number | undefined => {
    if (!isObj(v)) return undefined;
    const usage = isObj(v.response) ? v.response.usage : v.usage;
    return isObj(usage) && typeof usage.cost === 'number' ? usage.cost : undefined;
  };
  if (!String(a.headers['content-type'] ?? '').startsWith('text/event-stream')) return costOf(parse(a.text));
  let cost: number | undefined;
  for (const e of sseEvents(a.text)) cost = costOf(parse(e.data)) ?? cost;
  return cost;
}

async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

test('hostile input at every door: a clear error in the door envelope, never a 5xx, a hang, a leak or lost money', async () => {
  const cases = [...DOORS.flatMap(doorCases), ...headerCases(), ...queryCases()];
  const answers = await pool(cases, CONCURRENCY, send);
  const failures: string[] = [];
  const generations: Array<{ id: string; cost?: number; what: string }> = [{ id: storedResponse.generation, what: 'the stored response' }];
  cases.forEach((c, i) => {
    const a = answers[i];
    const why = problem(c, a);
    if (why) failures.push(`[${c.door}] ${c.what}: ${why} (${a.ms} ms)\n    ${a.status} ${a.text.slice(0, 400).replace(/\s+/g, ' ')}`);
    const id = a.headers['x-generation-id'];
    if (a.status === 200 && typeof id === 'string') generations.push({ id, cost: answeredCost(a), what: `[${c.door}] ${c.what}` });
  });
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${cases.length} hostile requests were answered wrongly:\n${failures.slice(0, 40).join('\n')}`,
  );

  // What the management doors stored landed where it was sent: nothing in the default account.
  const credits = await call({ method: 'GET', path: '/credits?account=default', auth: ADMIN_KEY });
  assert.equal((JSON.parse(credits.text) as { data: { total_credits: number } }).data.total_credits, 0, 'the default account was credited');
  const keys = await call({ method: 'GET', path: '/keys?account=default&include_disabled=true', auth: ADMIN_KEY });
  const made = (JSON.parse(keys.text) as { data: Array<{ name: string }> }).data.filter((k) => k.name !== 'test');
  assert.deepEqual(made, [], 'a key was made in the default account');

  // Nothing reached Object.prototype through a `__proto__` or `constructor` key.
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');

  // Still serving.
  const ok = await call({
    method: 'POST',
    path: '/chat/completions',
    auth: stack.key,
    body: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  });
  assert.equal(ok.status, 200, ok.text);
  const last = JSON.parse(ok.text) as { usage: { cost: number } };
  generations.push({ id: String(ok.headers['x-generation-id']), cost: last.usage.cost, what: 'the final request' });

  // No money lost or invented: each 200's generation record holds the cost its answer showed, and
  // the key's usage is the sum of those records.
  await stack.gw.app.billing.settled();
  let sumNanos = 0;
  for (const g of generations) {
    const r = await call({ method: 'GET', path: `/generation?id=${encodeURIComponent(g.id)}`, auth: stack.key });
    assert.equal(r.status, 200, `${g.what}: /generation ${r.text}`);
    const record = (JSON.parse(r.text) as { data: { total_cost: number } }).data;
    if (g.cost !== undefined)
      assert.ok(Math.abs(record.total_cost - g.cost) < 1e-12, `${g.what}: answered cost ${g.cost}, recorded ${record.total_cost}`);
    sumNanos += Math.round(record.total_cost * 1e9);
  }
  const self = await call({ method: 'GET', path: '/key', auth: stack.key });
  const usage = (JSON.parse(self.text) as { data: { usage: number } }).data.usage;
  assert.equal(Math.round(usage * 1e9), sumNanos, `key usage $${usage} is not the sum of the 200s' generations ($${sumNanos / 1e9})`);
  const k = await stack.gw.app.store.findKey(keyHash);
  assert.equal(k?.reservedNanos, 0, 'a hold was left behind');
});
