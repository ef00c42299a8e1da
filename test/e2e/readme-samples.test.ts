/**
 * Every sample in the README runs as given. The fenced blocks are read from README.md itself; each
 * is either run below (against the emulators, never a real provider) or named in NOT_RUN with the
 * reason, and a block that is neither fails the first test, so a new sample cannot go unchecked.
 *
 * What is substituted, and only that: the emulators' keys and base URLs for real ones (through the
 * variables the README names), the started gateway's address for 127.0.0.1:8080, a temporary
 * database, and the real hash prefix for `<hash prefix>`; `npm ci` is left out of `npm ci && npm start`
 * (test/e2e/install.test.ts runs that on a fresh copy of the checkout).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { after, before, test } from 'node:test';
import { startAnthropicEmulator } from '../emulators/anthropic.ts';
import { startGeminiEmulator } from '../emulators/gemini.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import type { Emulator } from '../emulators/common.ts';
import { REDIS_URL } from '../helpers/services.ts';
import { startCommand, userEnv } from '../helpers/started-command.ts';
import type { StartedCommand } from '../helpers/started-command.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { loadSettings } from '../../src/config/load.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

interface Block {
  lang: string;
  text: string;
  line: number;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    assert.ok(end > i, `README.md:${i + 1}: a fence that is never closed`);
    blocks.push({ lang: open[1], text: lines.slice(i + 1, end).join('\n') + '\n', line: i + 1 });
    i = end;
  }
  return blocks;
}

const BLOCKS = readmeBlocks();

/** The one block whose first line matches; the tests below find their samples this way. */
function block(lang: string, firstLine: RegExp): Block {
  const found = BLOCKS.filter((b) => b.lang === lang && firstLine.test(b.text.split('\n')[0]));
  assert.equal(found.length, 1, `README.md: expected one \`\`\`${lang} block starting ${firstLine}, found ${found.length}`);
  return found[0];
}

/** Samples run by the tests below, by language and first line. */
const RUN: Array<[string, RegExp]> = [
  ['sh', /^export OPENAI_API_KEY=/],
  ['sh', /^curl http:\/\/127\.0\.0\.1:8080\/api\/v1\/chat\/completions/],
  ['ts', /^import OpenAI from 'openai';/],
  ['ts', /^import \{ createOpenRouter \}/],
  ['python', /^import os$/],
  ['yaml', /^server:$/],
  ['yaml', /^routing:$/],
  ['yaml', /^metrics:$/],
  ['yaml', /^tracing:$/],
  ['', /^\$ curl -s localhost:8080\/api\/v1\/models\/meta-llama\/llama-3\.3-70b-instruct\/endpoints/],
  ['', /^\$ GROQ_API_KEY=\.\.\. freeway catalog --provider groq$/],
  ['sh', /^npm run freeway -- accounts create acme/],
  ['', /^\$ FREEWAY_API_KEY=\.\.\. freeway compare /],
  ['sh', /^npm start -- --workers auto/],
];

/** Blocks that are not commands or configs Freeway reads, or need what this machine has not. */
const NOT_RUN: Array<[string, RegExp, string]> = [
  ['sh', /^npm ci && npm start/, '`npm test` is this suite; install.test.ts runs `npm ci --omit=dev && npm start` on a copy of a checkout'],
  ['json5', /^\{$/, "OpenClaw's own config file; OpenClaw is not installed here"],
  ['sh', /^docker build -t freeway \.$/, 'needs a container engine; install.test.ts runs the script the image runs'],
  ['sh', /^export POSTGRES_PASSWORD=/, "needs a container engine; install.test.ts runs replicas with compose.yaml's environment"],
  [
    'nginx',
    /^upstream freeway \{$/,
    'an nginx config for replicas on several machines; nginx is not installed here (test/cluster runs the replicas it would balance)',
  ],
  ['', /^This request needs up to/, 'an error message shown as text, not a command (test/e2e/billing.test.ts checks it)'],
];

test('every fenced block of the README is run by this file or named here with why it is not', () => {
  for (const b of BLOCKS) {
    const first = b.text.split('\n')[0];
    const matches = [...RUN, ...NOT_RUN].filter(([lang, re]) => lang === b.lang && re.test(first));
    const where = `README.md:${b.line} (\`\`\`${b.lang} ${first})`;
    assert.equal(matches.length, 1, `${where}: run it in test/e2e/readme-samples.test.ts or list it in NOT_RUN`);
  }
  for (const [lang, re] of RUN) block(lang, re);
});

let openai: Emulator;
let anthropic: Emulator;
let gemini: Emulator;
let groq: Emulator;
let together: Emulator;
let openrouter: Emulator;
const servers: StartedCommand[] = [];
const work = join(ROOT, '.tmp', `readme-samples-${process.pid}`);

before(async () => {
  [openai, anthropic, gemini, groq, together, openrouter] = await Promise.all([
    startOpenAIEmulator(),
    startAnthropicEmulator(),
    startGeminiEmulator(),
    startOpenAIEmulator({ name: 'Groq emulator', models: ['llama-3.3-70b-versatile', 'openai/gpt-oss-120b', 'some-new-model'] }),
    startOpenAIEmulator({ name: 'Together emulator', models: ['meta-llama/Llama-3.3-70B-Instruct-Turbo'] }),
    startOpenAIEmulator({ name: 'OpenRouter emulator', models: ['meta-llama/llama-3.3-70b-instruct'] }),
  ]);
  // TypeScript samples run from inside the repository, so that their imports resolve as in a project.
  mkdirSync(work, { recursive: true });
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all([openai, anthropic, gemini, groq, together, openrouter].map((e) => e.close()));
  rmSync(work, { recursive: true, force: true });
});

/** Keys and base URLs of the three main emulators, through the variables the README names. */
function mainProviders(): Record<string, string> {
  return {
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_BASE_URL: `${anthropic.url}/v1`,
    GEMINI_API_KEY: gemini.apiKey,
    GEMINI_BASE_URL: `${gemini.url}/v1beta`,
  };
}

function hostProviders(): Record<string, string> {
  return {
    GROQ_API_KEY: groq.apiKey,
    GROQ_BASE_URL: `${groq.url}/v1`,
    TOGETHER_API_KEY: together.apiKey,
    TOGETHER_BASE_URL: `${together.url}/v1`,
    OPENROUTER_API_KEY: openrouter.apiKey,
    OPENROUTER_BASE_URL: `${openrouter.url}/v1`,
  };
}

async function serve(command: string, args: string[], opts: { cwd: string; env: Record<string, string>; expectKey?: boolean }) {
  const s = await startCommand(command, args, opts);
  servers.push(s);
  return s;
}

/** Every live provider named in the start-up banner is on loopback: nothing here may reach a real provider. */
function assertLoopbackOnly(server: StartedCommand): string[] {
  const live = /Live providers: (.*)/.exec(server.output())?.[1] ?? '';
  const urls = [...live.matchAll(/(\w+) \((http[^)]*)\)/g)];
  for (const [, id, url] of urls) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+/, `${id} is not an emulator: ${url}`);
  return urls.map((m) => m[1]);
}

async function chat(server: StartedCommand, key: string, model: string): Promise<{ model: string; content: string }> {
  const res = await fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'readme' }] }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${model}: ${text}`);
  const body = JSON.parse(text) as { model: string; choices: Array<{ message: { content: string } }> };
  return { model: body.model, content: body.choices[0].message.content };
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command without blocking this process: the emulators answering it live in this process, so
 * a synchronous spawn would wait on itself.
 */
function exec(file: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ status, stdout, stderr: stderr || (err && status === null ? String(err) : '') });
    });
  });
}

const sh = (script: string, opts: { cwd: string; env: Record<string, string> }) => exec('sh', ['-c', script], opts);

test('quick start: npm start, then its curl and the SDK samples against the gateway it started', async (t) => {
  const dir = tempDir('freeway-readme-');
  const start = block('sh', /^export OPENAI_API_KEY=/).text;
  assert.match(start, /npm ci && npm start/);
  const script = start.replace('sk-...', openai.apiKey).replace('npm ci && npm start', 'exec npm start');
  const env = userEnv({ ...mainProviders(), PORT: '0', DATABASE_URL: join(dir, 'freeway.db') });
  delete env.OPENAI_API_KEY; // set by the sample's own `export`
  const gw = await serve('sh', ['-c', script], { cwd: ROOT, env, expectKey: true });
  assert.deepEqual(assertLoopbackOnly(gw).sort(), ['anthropic', 'google', 'openai']);
  const key = gw.key!;
  const at = (text: string) => text.replaceAll('http://127.0.0.1:8080', gw.url);
  const sampleEnv = userEnv({ FREEWAY_KEY: key });

  const curl = await sh(at(block('sh', /^curl http:\/\/127\.0\.0\.1:8080/).text), { cwd: dir, env: sampleEnv });
  assert.equal(curl.status, 0, curl.stderr);
  const answer = JSON.parse(curl.stdout) as { model: string; choices: Array<{ message: { content: string } }>; usage: { cost: number } };
  assert.equal(answer.model, 'anthropic/claude-sonnet-4-5');
  assert.ok(answer.choices[0].message.content.length > 0 && answer.usage.cost > 0, curl.stdout);

  // The TypeScript samples, as files of a project that has the packages they import.
  for (const [i, re] of [/^import OpenAI from 'openai';/, /^import \{ createOpenRouter \}/].entries()) {
    const file = join(work, `sample-${i}.ts`);
    writeFileSync(file, at(block('ts', re).text));
    const r = await exec(process.execPath, [file], { cwd: work, env: sampleEnv });
    assert.equal(r.status, 0, `${block('ts', re).text}\n${r.stdout}\n${r.stderr}`);
    if (i === 0) assert.match(r.stdout, /cost: \d/, 'the OpenAI SDK sample prints the answer and its usage with the cost');
  }

  const python = block('python', /^import os$/).text;
  const hasOpenAI = spawnSync('python3', ['-c', 'import openai'], { env: sampleEnv }).status === 0;
  if (!hasOpenAI) t.diagnostic('the Python sample is not run: python3 has no `openai` package here');
  else {
    const r = await exec('python3', ['-c', at(python)], { cwd: dir, env: sampleEnv });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 0);
  }
});

test('the sample freeway.yaml starts as given and serves its providers and its multi-endpoint model', async () => {
  const dir = tempDir('freeway-readme-');
  writeFileSync(join(dir, 'freeway.yaml'), block('yaml', /^server:$/).text);
  // Redis as the suite has it (REDIS_URL overrides the sample's redis.url); no FREEWAY_WEBHOOK_SECRET.
  const env = userEnv({ ...mainProviders(), ...hostProviders(), REDIS_URL });
  const gw = await serve(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: dir, env, expectKey: true });
  assert.deepEqual(assertLoopbackOnly(gw).sort(), ['anthropic', 'google', 'groq', 'local', 'openai', 'openrouter', 'together']);
  assert.match(gw.output(), /Config: .*freeway\.yaml/);
  assert.match((await chat(gw, gw.key!, 'anthropic/claude-sonnet-4-5')).content, /./);
  assert.match((await chat(gw, gw.key!, 'openai/gpt-4o-mini')).content, /./);
  const llama = await fetch(`${gw.url}/api/v1/models/meta-llama/llama-3.3-70b-instruct/endpoints`);
  const listing = (await llama.json()) as { data: { endpoints: Array<{ provider_name: string }> } };
  const providers = listing.data.endpoints.map((e) => e.provider_name);
  assert.ok(providers.includes('Groq') && providers.includes('Together'), providers.join(', '));
  assert.match((await chat(gw, gw.key!, 'meta-llama/llama-3.3-70b-instruct')).content, /./);
});

test('the metrics and tracing samples load as the README says, with the variables they name', async () => {
  const dir = tempDir('freeway-readme-');
  const env = { FREEWAY_METRICS_TOKEN: 'scrape-me-0123456789', OTLP_TOKEN: 'otlp-secret' };
  const load = async (lang: string, first: RegExp) => {
    const path = join(dir, 'freeway.yaml');
    writeFileSync(path, block(lang, first).text);
    return loadSettings({ configPath: path, cwd: dir, env });
  };
  const m = (await load('yaml', /^metrics:$/)).metrics;
  assert.deepEqual(m, { enabled: true, token: 'scrape-me-0123456789', port: 9464, host: '127.0.0.1' });
  const t = (await load('yaml', /^tracing:$/)).tracing;
  assert.equal(t.endpoint, 'http://otel-collector:4318');
  assert.equal(t.serviceName, 'freeway');
  assert.deepEqual(t.headers, { authorization: 'Bearer otlp-secret' });
});

test('freeway compare prints what the README shows: each answer under its model and provider, then the table', async () => {
  const b = block('', /^\$ FREEWAY_API_KEY=\.\.\. freeway compare /);
  const [command, ...shown] = b.text.trim().split('\n');
  const dir = tempDir('freeway-readme-');
  const gw = await serve(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: dir, env: userEnv(mainProviders()), expectKey: true });
  assertLoopbackOnly(gw);
  const args = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]).slice(3);
  const r = await exec(process.execPath, [CLI, 'compare', ...args, '--base-url', gw.url], {
    cwd: dir,
    env: userEnv({ FREEWAY_API_KEY: gw.key! }),
  });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim().split('\n');
  // The answers and timings are the providers' own; the shape is the README's: the same headings
  // in the same order, the same table header, one row per model in the order asked.
  const headings = (lines: string[]) => lines.filter((l) => l.startsWith('== '));
  assert.deepEqual(headings(out), headings(shown));
  const header = (lines: string[]) => lines.find((l) => l.startsWith('model '))!.split(/\s+/);
  assert.deepEqual(header(out), header(shown));
  const rows = (lines: string[]) => lines.slice(lines.findIndex((l) => l.startsWith('---')) + 1).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(rows(out), rows(shown));
});

test('npm start -- --workers auto: one worker per core on one port, each answering', async () => {
  const dir = tempDir('freeway-readme-');
  const line = block('sh', /^npm start -- --workers auto/)
    .text.split('#')[0]
    .trim();
  const env = userEnv({ ...mainProviders(), PORT: '0', DATABASE_URL: join(dir, 'freeway.db') });
  const gw = await serve('sh', ['-c', `exec ${line}`], { cwd: ROOT, env, expectKey: true });
  // New connections are spread over the workers by the kernel: enough of them reach every worker.
  const seen = new Set<number>();
  for (let i = 0; i < 60 && seen.size < 2; i++) {
    const h = (await fetch(`${gw.url}/health`, { headers: { connection: 'close' } }).then((r) => r.json())) as { worker?: { id: number } };
    if (h.worker) seen.add(h.worker.id);
  }
  assert.equal(seen.size, Math.min(2, availableParallelism()), `workers that answered: ${[...seen].join(', ')}`);
  assert.match((await chat(gw, gw.key!, 'openai/gpt-4o-mini')).content, /./);
});

test('the routing.auto sample: openrouter/auto serves the first model of the ordered list', async () => {
  const dir = tempDir('freeway-readme-');
  writeFileSync(join(dir, 'freeway.yaml'), block('yaml', /^routing:$/).text);
  const gw = await serve(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: dir, env: userEnv(mainProviders()), expectKey: true });
  assertLoopbackOnly(gw);
  assert.equal((await chat(gw, gw.key!, 'openrouter/auto')).model, 'anthropic/claude-sonnet-4.5');
});

test('the endpoints command prints what the README shows, with Groq, Together and OpenRouter keys and no models: section', async () => {
  const b = block('', /^\$ curl -s localhost:8080\/api\/v1\/models\/meta-llama/);
  const [command, ...shown] = b.text.trim().split('\n');
  const dir = tempDir('freeway-readme-');
  const gw = await serve(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: dir, env: userEnv(hostProviders()), expectKey: true });
  assert.deepEqual(assertLoopbackOnly(gw).sort(), ['groq', 'openrouter', 'together']);
  const script = command.replace(/^\$ /, '').replace('localhost:8080', new URL(gw.url).host);
  // Model lists arrive in the background after start-up: wait for the three endpoints, then compare.
  const deadline = Date.now() + 20_000;
  let r = await sh(script, { cwd: dir, env: userEnv({}) });
  while (r.stdout.trim().split('\n').length < shown.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await sh(script, { cwd: dir, env: userEnv({}) });
  }
  assert.equal(r.status, 0, r.stderr);
  const compact = (s: string) => s.replace(/\s+/g, '');
  assert.deepEqual(r.stdout.trim().split('\n').map(compact), shown.map(compact));
});

test('freeway catalog --provider groq shows the lines the README shows', async () => {
  const b = block('', /^\$ GROQ_API_KEY=\.\.\. freeway catalog --provider groq$/);
  const [, header, ...rest] = b.text.trim().split('\n');
  const r = await exec(process.execPath, [CLI, 'catalog', '--provider', 'groq'], {
    cwd: tempDir('freeway-readme-'),
    env: userEnv({ GROQ_API_KEY: groq.apiKey, GROQ_BASE_URL: `${groq.url}/v1` }),
  });
  assert.equal(r.status, 0, r.stderr);
  const words = (s: string) => s.trim().split(/\s+/).join(' ');
  const got = r.stdout.trim().split('\n').map(words);
  // The README's Groq lists 19 models; the emulator lists the three shown.
  assert.equal(got[0], words(header).replace('19', '3'));
  for (const line of rest.filter((l) => l.trim() !== '...')) assert.ok(got.includes(words(line)), `missing: ${line}\n${r.stdout}`);
});

test('the operator commands run as given, in order, on one database', async () => {
  const dir = tempDir('freeway-readme-');
  const env = userEnv({ DATABASE_URL: join(dir, 'freeway.db') });
  const lines = block('sh', /^npm run freeway -- accounts create acme/)
    .text.trim()
    .split('\n');
  let hashPrefix = '';
  for (const line of lines) {
    if (line.includes('<hash prefix>')) assert.ok(hashPrefix, 'a key was listed before one is disabled');
    const r = await sh(line.replace('<hash prefix>', hashPrefix), { cwd: ROOT, env });
    assert.equal(r.status, 0, `${line}\n${r.stdout}\n${r.stderr}`);
    hashPrefix ||= /^([0-9a-f]{16})\s+ci-bot\b/m.exec(r.stdout)?.[1] ?? '';
  }
  const listed = await sh('npm run --silent freeway -- keys list --account acme --all', { cwd: ROOT, env });
  assert.match(listed.stdout, new RegExp(`${hashPrefix}\\s+ci-bot\\b.*\\bdisabled\\b`));
});
