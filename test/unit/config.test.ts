import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/temp-dir.ts';
import { ConfigError, loadSettings } from '../../src/config/load.ts';

function withYaml(yaml: string, env: Record<string, string> = {}) {
  const dir = tempDir('freeway-cfg-');
  writeFileSync(join(dir, 'freeway.yaml'), yaml);
  return loadSettings({ cwd: dir, env });
}

test('no config, no keys: starts with no providers and the embedded defaults', async () => {
  const s = await loadSettings({ cwd: tempDir('freeway-cfg-'), env: {} });
  assert.equal(s.providers.length, 0);
  assert.equal(s.port, 8080);
  assert.equal(s.host, '127.0.0.1');
  assert.equal(s.databaseUrl, './data/freeway.db');
});

test('every provider whose key variable is set is live, with its real base URL', async () => {
  const s = await loadSettings({
    cwd: tmpdir(),
    env: { GROQ_API_KEY: 'g', XAI_API_KEY: 'x', PORT: '9999', DATABASE_URL: 'file:/tmp/x.db' },
  });
  assert.deepEqual(s.providers.map((p) => p.id).sort(), ['groq', 'xai']);
  assert.equal(s.providers.find((p) => p.id === 'groq')?.baseUrl, 'https://api.groq.com/openai/v1');
  assert.equal(s.port, 9999);
  assert.equal(s.databaseUrl, 'file:/tmp/x.db');
});

test('YAML with ${ENV} interpolation, base URL overrides and a custom provider', async () => {
  const s = await withYaml(
    `providers:
  anthropic:
    apiKey: \${MY_ANTHROPIC}
  openai:
    apiKey: \${OPENAI_API_KEY}
    baseUrl: https://proxy.example.com/v1
  local:
    type: openai-compatible
    baseUrl: http://127.0.0.1:11434/v1
    models: [llama3.2]
`,
    { MY_ANTHROPIC: 'a-key', OPENAI_API_KEY: 'o-key' },
  );
  const byId = new Map(s.providers.map((p) => [p.id, p]));
  assert.equal(byId.get('anthropic')?.apiKey, 'a-key');
  assert.equal(byId.get('openai')?.baseUrl, 'https://proxy.example.com/v1');
  assert.equal(byId.get('local')?.protocol, 'openai');
  assert.equal(byId.get('local')?.quirks.auth, 'none');
  assert.deepEqual(s.declaredModels.get('local'), ['llama3.2']);
});

test('a bad config stops start-up with one message naming the key and why', async () => {
  await assert.rejects(
    () => withYaml('providers:\n  openai:\n    apikey: x\n'),
    (e: Error) => e instanceof ConfigError && /providers\.openai\.apikey is not a known setting/.test(e.message),
  );
  await assert.rejects(
    () => withYaml('server:\n  port: "eighty"\n'),
    (e: Error) => e instanceof ConfigError && /server\.port/.test(e.message),
  );
  await assert.rejects(
    () => withYaml('providers:\n  mine:\n    baseUrl: http://x\n'),
    (e: Error) => e instanceof ConfigError && /providers\.mine\.type is required/.test(e.message),
  );
  await assert.rejects(
    () => withYaml('models:\n  a/b:\n    endpoints:\n      - provider: nobody\n        model: m\n'),
    (e: Error) => /unknown provider "nobody"/.test(e.message),
  );
  await assert.rejects(
    () => withYaml('providers: [\n'),
    (e: Error) => e instanceof ConfigError && /not valid YAML/.test(e.message),
  );
  await assert.rejects(
    () => withYaml('models:\n  a/b:\n    pricing: { prompt: "cheap" }\n'),
    (e: Error) => /models\.a\/b\.pricing\.prompt/.test(e.message),
  );
});

test('a value made invalid by an unset ${VAR} names the variable, and a set one or a default starts', async () => {
  const yaml = 'alerts:\n  secret: ${FREEWAY_WEBHOOK_SECRET}\n';
  await assert.rejects(
    () => withYaml(yaml),
    (e: Error) =>
      e instanceof ConfigError &&
      /freeway\.yaml: alerts\.secret uses \$\{FREEWAY_WEBHOOK_SECRET\}, which is not set/.test(e.message) &&
      /set FREEWAY_WEBHOOK_SECRET, give a default \(\$\{FREEWAY_WEBHOOK_SECRET:-value\}\), or remove alerts\.secret/.test(e.message),
  );
  // Set but empty reads as unset, as in a shell's ${VAR:-...}.
  await assert.rejects(() => withYaml(yaml, { FREEWAY_WEBHOOK_SECRET: '' }), /uses \$\{FREEWAY_WEBHOOK_SECRET\}, which is not set/);
  // Inside a longer value, in a list: the path is the list item's.
  await assert.rejects(
    () => withYaml('providers:\n  openai:\n    baseUrl: http://${UPSTREAM_HOST}:${UPSTREAM_PORT}/v1\n'),
    /providers\.openai\.baseUrl uses \$\{UPSTREAM_HOST\}, \$\{UPSTREAM_PORT\}, which are not set/,
  );
  assert.equal((await withYaml(yaml, { FREEWAY_WEBHOOK_SECRET: 's3cret' })).alerts.secret, 's3cret');
  assert.equal((await withYaml('alerts:\n  secret: ${FREEWAY_WEBHOOK_SECRET:-fallback}\n')).alerts.secret, 'fallback');
  // An unset key variable of a provider is not an error: the provider is simply not live.
  assert.equal((await withYaml('providers:\n  openai:\n    apiKey: ${OPENAI_API_KEY}\n')).providers.length, 0);
});

test('deadlines: documented defaults, each settable, the older server.timeouts names still honoured', async () => {
  const d = await loadSettings({ cwd: tempDir('freeway-cfg-'), env: {} });
  assert.deepEqual(d.routing.timeouts, { connectMs: 10_000, firstTokenMs: 120_000, idleMs: 120_000, totalMs: 1_800_000 });
  const s = await withYaml('routing:\n  timeouts: { connectMs: 2000, firstTokenMs: 3000, idleMs: 4000, totalMs: 5000 }\n');
  assert.deepEqual(s.routing.timeouts, { connectMs: 2000, firstTokenMs: 3000, idleMs: 4000, totalMs: 5000 });
  const old = await withYaml('server:\n  timeouts: { firstByteMs: 700, idleMs: 800 }\n');
  assert.equal(old.routing.timeouts.firstTokenMs, 700);
  assert.equal(old.routing.timeouts.idleMs, 800);
  await assert.rejects(
    () => withYaml('routing:\n  timeouts: { connectMs: 0 }\n'),
    (e: Error) => e instanceof ConfigError && /routing\.timeouts\.connectMs/.test(e.message),
  );
});

test('client limits: documented defaults, each settable, a header deadline past the request deadline refused', async () => {
  const d = (await loadSettings({ cwd: tempDir('freeway-cfg-'), env: {} })).clientLimits;
  assert.deepEqual(d, {
    headersTimeoutMs: 30_000,
    requestTimeoutMs: 120_000,
    keepAliveTimeoutMs: 65_000,
    maxConnections: 4096,
    sendTimeoutMs: 60_000,
  });
  const s = await withYaml(
    'server:\n  headersTimeoutMs: 5000\n  requestTimeoutMs: 9000\n  keepAliveTimeoutMs: 7000\n  maxConnections: 10\n  sendTimeoutMs: 3000\n',
  );
  assert.deepEqual(s.clientLimits, {
    headersTimeoutMs: 5000,
    requestTimeoutMs: 9000,
    keepAliveTimeoutMs: 7000,
    maxConnections: 10,
    sendTimeoutMs: 3000,
  });
  await assert.rejects(
    withYaml('server:\n  headersTimeoutMs: 10000\n  requestTimeoutMs: 5000\n'),
    (e: unknown) => e instanceof ConfigError && /headersTimeoutMs/.test(e.message),
  );
  await assert.rejects(withYaml('server:\n  maxConnections: 0\n'), ConfigError);
});

test('amounts in the config are bounded: a price past $1,000 a unit, a markup past 1,000%, a rate past 2^31 − 1 stop start-up naming the bound', async () => {
  const refused = (yaml: string, pattern: RegExp) =>
    assert.rejects(
      () => withYaml(yaml),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
    );
  await refused('models:\n  a/b:\n    pricing: { prompt: "1e300" }\n', /models\.a\/b\.pricing\.prompt.*at most 1000/s);
  await refused('models:\n  a/b:\n    pricing: { request: "1000.5" }\n', /pricing\.request.*at most 1000/s);
  await refused('billing:\n  markupPercent: 1e300\n', /billing\.markupPercent/);
  await refused('limits:\n  perKey: { tokensPerMinute: 3000000000 }\n', /limits\.perKey\.tokensPerMinute/);
  await refused('billing:\n  freeModels: { creditsForHigherLimitUsd: 1e300 }\n', /creditsForHigherLimitUsd/);
  const ok = await withYaml('models:\n  a/b:\n    pricing: { prompt: "1000", completion: "0.000015" }\n');
  assert.ok(ok);
});

test('routing.auto: absent by default (cheapest), a policy and model list settable, ordered without a list refused', async () => {
  const d = await loadSettings({ cwd: tempDir('freeway-cfg-'), env: {} });
  assert.equal(d.routing.auto, undefined);
  const s = await withYaml('routing:\n  auto:\n    policy: fastest\n');
  assert.deepEqual(s.routing.auto, { policy: 'fastest', models: undefined });
  const o = await withYaml('routing:\n  auto:\n    policy: ordered\n    models: [a/b, c/d]\n');
  assert.deepEqual(o.routing.auto, { policy: 'ordered', models: ['a/b', 'c/d'] });
  const refused = (yaml: string, pattern: RegExp) =>
    assert.rejects(withYaml(yaml), (e: unknown) => e instanceof ConfigError && pattern.test(e.message));
  await refused('routing:\n  auto:\n    policy: ordered\n', /routing\.auto\.models/);
  await refused('routing:\n  auto:\n    policy: smartest\n', /routing\.auto\.policy/);
});

test('workers: 1 by default; a count or auto from --workers, FREEWAY_WORKERS or server.workers, in that order; nonsense refused by name', async () => {
  const { availableParallelism } = await import('node:os');
  const cwd = tempDir('freeway-cfg-');
  assert.equal((await loadSettings({ cwd, env: {} })).workers, 1);
  assert.equal((await loadSettings({ cwd, env: { FREEWAY_WORKERS: 'auto' } })).workers, availableParallelism());
  assert.equal((await loadSettings({ cwd, env: { FREEWAY_WORKERS: '3' }, workers: '2' })).workers, 2);
  writeFileSync(join(cwd, 'freeway.yaml'), 'server:\n  workers: 4\n');
  assert.equal((await loadSettings({ cwd, env: {} })).workers, 4);
  assert.equal((await loadSettings({ cwd, env: { FREEWAY_WORKERS: '3' } })).workers, 3);
  await assert.rejects(
    loadSettings({ cwd, env: {}, workers: '0' }),
    (e: Error) => e instanceof ConfigError && /--workers must be .* from 1 to 1024, or auto; got "0"/.test(e.message),
  );
  await assert.rejects(
    loadSettings({ cwd, env: { FREEWAY_WORKERS: 'lots' } }),
    (e: Error) => e instanceof ConfigError && /FREEWAY_WORKERS/.test(e.message),
  );
  writeFileSync(join(cwd, 'freeway.yaml'), 'server:\n  workers: 1.5\n');
  await assert.rejects(loadSettings({ cwd, env: {} }), (e: Error) => e instanceof ConfigError && /server\.workers/.test(e.message));
});
