/**
 * The Cline CLI (npm `cline`, a devDependency: a Bun-compiled binary in a per-platform optional
 * package) driven for real, headless (`--json`), against Freeway, unchanged:
 * - its OpenRouter provider with the base URL pointed at Freeway's /api/v1 (`cline auth` refuses a
 *   base URL for OpenRouter, so it is added to the providers.json that `cline auth` wrote, as a user
 *   would edit it), on a GPT, a Claude and a Gemini model with `--thinking low`;
 * - its Anthropic provider pointed at Freeway's Messages door the same way, with a bare Anthropic id.
 * Each run makes Cline use a real tool (its `editor` / `apply_patch` writes a file in a temp
 * workspace, auto-approved); the test asserts the file, what reached the emulator, and what Freeway
 * recorded (GET /generations and /generation?id= with the run's own key, passed with `-k`).
 *
 * Headless runs use `--yolo` (the CLI's CI mode: a local backend that exits with the CLI), or
 * `--data-dir` for the default act mode: without either, a one-shot run starts the CLI's background
 * hub daemon, which outlives it. HOME is a temp dir; telemetry and auto-update are off in
 * global-settings.json, and a refusing proxy for every other host proves that nothing leaves loopback
 * (the one host Cline still asks for is its feature-flag service: refused, see assertLoopback). Skips
 * when the native binary cannot run on this platform.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Emulator, RecordedRequest } from '../emulators/common.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { startRefusingProxy } from '../helpers/refusing-proxy.ts';
import type { RefusingProxy } from '../helpers/refusing-proxy.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CLINE = join(import.meta.dirname, '../../node_modules/.bin/cline');
const RUN_MS = 30_000;
/** Node 24 first: the `cline` wrapper is a node script that finds and starts the binary. */
const PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(':');

/**
 * Why the CLI cannot run here, if it cannot: its binary comes in a per-platform optional package
 * (`@cline/cli-linux-x64`...), built against glibc on Linux. Checked without starting it (a start
 * costs seconds); the setup's `cline auth` is the first real run.
 */
function clineRuns(): string | undefined {
  if (!existsSync(CLINE)) return 'node_modules/.bin/cline is missing (npm install)';
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@cline/cli-${platform}-${process.arch}`;
  try {
    const dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
    if (!existsSync(join(dir, 'bin', process.platform === 'win32' ? 'cline.exe' : 'cline'))) return `${pkg} has no binary`;
  } catch {
    return `Cline has no binary for this platform (${pkg} is not installed)`;
  }
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  if (process.platform === 'linux' && report?.header?.glibcVersionRuntime === undefined) return "Cline's Linux binary needs glibc";
  return undefined;
}
const unavailable = clineRuns();
if (unavailable) console.log(`# skipping Cline CLI tests: ${unavailable}`);

// any: Cline's NDJSON lines and Freeway's JSON answers, read loosely by the assertions.
type Json = any;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The NDJSON lines of `--json`. */
  events: Json[];
  /** The closing `run_result` line. */
  result: Json;
  /** What it asked the refusing proxy for while it ran. */
  outbound: string[];
}

/** Every host but loopback goes to it: what the CLI tries to reach beyond Freeway shows in its `outbound`. */
let proxy: RefusingProxy;
let stack: Stack;
/** HOME for every run: Cline keeps its settings, sessions and logs under ~/.cline. */
let home = '';
const dataDir = () => join(home, '.cline', 'data');

/** `cline ARGS` in `cwd` with a fresh environment, stdin closed, in a process group killed on timeout. */
function cline(cwd: string, args: string[]): Promise<Run> {
  const seen = proxy.outbound.length;
  return new Promise((resolve, reject) => {
    const child = spawn(CLINE, args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH, HOME: home, HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, ALL_PROXY: proxy.url, NO_PROXY: '127.0.0.1,localhost' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }, RUN_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const events = stdout.split('\n').flatMap((l) => {
        try {
          return l.startsWith('{') ? [JSON.parse(l)] : [];
        } catch {
          return []; // a line cut by the timeout's kill
        }
      });
      resolve({ code, stdout, stderr, events, result: events.find((e) => e.type === 'run_result'), outbound: proxy.outbound.slice(seen) });
    });
  });
}

/**
 * Nothing beyond loopback but what the proxy refused. The one host Cline asks for whatever the
 * settings say is its feature-flag service (PostHog at data.cline.bot, on a fresh HOME's first
 * runs): refused, the run goes on without flags. Anything else it tried would show here.
 */
function assertLoopback(run: Run): void {
  assert.deepEqual(
    run.outbound.filter((o) => o !== 'CONNECT data.cline.bot:443'),
    [],
    'Cline tried to reach nothing else beyond loopback',
  );
}

const show = (r: Run) => `exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1500)}`;

/** The inference requests an emulator received since `from`. */
const posts = (e: Emulator, from: number): RecordedRequest[] => e.requests.slice(from).filter((r) => r.method === 'POST');

/** GET a Freeway API path with a key, as JSON. */
async function api(path: string, key: string): Promise<Json> {
  const res = await fetch(`${stack.baseURL}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

/** The generations Freeway recorded for `key`, oldest first, each as GET /generation?id= returns it. */
async function generations(key: string): Promise<Json[]> {
  const list = (await api('/generations?limit=50', key)).data as Array<{ id: string }>;
  return Promise.all(list.reverse().map(async (g) => (await api(`/generation?id=${g.id}`, key)).data));
}

/** The sessions Cline has kept (each id names a folder under sessions/). */
function sessionIds(): string[] {
  const dir = join(dataDir(), 'sessions');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * The run's own story, told twice: the usage Cline summed from the streams it parsed, and the
 * generations Freeway recorded for the run's key. They must agree token for token.
 */
function assertAccounting(run: Run, gens: Json[]): void {
  const sum = (f: string) => gens.reduce((n, g) => n + g[f], 0);
  assert.equal(run.result.usage.inputTokens, sum('tokens_prompt'), 'prompt tokens as Freeway recorded them');
  assert.equal(run.result.usage.outputTokens, sum('tokens_completion'), 'completion tokens as Freeway recorded them');
  for (const g of gens) {
    assert.equal(g.error, null);
    assert.equal(g.streamed, true);
    assert.ok(g.total_cost > 0, 'charged');
  }
}

/** A prompt that makes the emulators call Cline's tools in turn, then answer. */
const script = (calls: Array<[string, object]>, text: string) =>
  `${calls.map(([n, a]) => `[[call:${n}:${JSON.stringify(a)}]]`).join(' ')} ${text}`;

const submit: [string, object] = ['submit_and_exit', { summary: 'The proof file is written.', verified: true }];

describe('Cline CLI', { skip: unavailable !== undefined }, () => {
  before(async () => {
    stack = await startStack();
    proxy = await startRefusingProxy();

    home = tempDir('freeway-cline-home-');
    // Telemetry (OpenTelemetry to otel.cline.bot) and auto-update, off as a user turns them off.
    mkdirSync(join(dataDir(), 'settings'), { recursive: true });
    writeFileSync(join(dataDir(), 'settings', 'global-settings.json'), JSON.stringify({ telemetryOptOut: true, autoUpdateEnabled: false }));
    // The CLI's own quick setup writes providers.json; the base URL (which `cline auth` takes for
    // OpenAI only) is added by hand, and so is the Anthropic provider, in the same shape.
    const r = await cline(home, ['auth', '--provider', 'openrouter', '--apikey', stack.key, '--modelid', 'openai/gpt-5-mini']);
    assert.equal(r.code, 0, show(r));
    assertLoopback(r);
    const file = join(dataDir(), 'settings', 'providers.json');
    const settings = JSON.parse(readFileSync(file, 'utf8'));
    const openrouter = settings.providers.openrouter;
    assert.equal(openrouter.settings.apiKey, stack.key, 'the key where `cline auth` keeps it');
    openrouter.settings.baseUrl = stack.baseURL;
    settings.providers.anthropic = {
      ...openrouter,
      settings: { provider: 'anthropic', apiKey: stack.key, model: 'claude-sonnet-4-5', baseUrl: stack.baseURL },
    };
    writeFileSync(file, JSON.stringify(settings, null, 2));
  });
  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  test('OpenRouter provider, openai/gpt-5-mini, default act mode: apply_patch writes the file', { timeout: RUN_MS + 10_000 }, async () => {
    const work = tempDir('freeway-cline-work-');
    const key = await stack.newKey('cline-gpt');
    const from = stack.openai.requests.length;
    const before = sessionIds();
    const patch = '*** Begin Patch\n*** Add File: proof.txt\n+cline-gpt-was-here\n*** End Patch';
    const prompt = script([['apply_patch', { input: patch }]], 'Write the proof file.');
    // --data-dir: the same state, with the local backend a sandbox run takes instead of the hub daemon.
    const args = ['--json', '--data-dir', dataDir(), '--thinking', 'low', '-P', 'openrouter', '-m', 'openai/gpt-5-mini', '-k', key];
    const run = await cline(work, [...args, prompt]);
    assert.equal(run.code, 0, show(run));
    assert.equal(run.result?.finishReason, 'completed', show(run));
    assert.equal(readFileSync(join(work, 'proof.txt'), 'utf8').trim(), 'cline-gpt-was-here', 'the tool ran in the workspace');
    assert.match(run.result.text, /Successfully applied patch/, 'the answer after the tool result (the emulator quotes it)');
    assertLoopback(run);

    const sent = posts(stack.openai, from);
    assert.equal(sent.length, 2, 'one request with the call, one with its output');
    assert.equal(sent[0].path, '/v1/chat/completions');
    assert.equal(sent[0].body.reasoning_effort, 'low', '--thinking low reached OpenAI');
    assert.ok(
      sent[0].body.tools.some((t: Json) => t.function.name === 'apply_patch'),
      'its tools went through',
    );
    const tool = sent[1].body.messages.find((m: Json) => m.role === 'tool');
    assert.match(tool.content, /Successfully applied patch/, 'the tool output went upstream');

    const gens = await generations(key);
    assert.equal(gens.length, 2);
    const [session] = sessionIds().filter((s) => !before.includes(s));
    assert.ok(session, 'Cline kept the session');
    for (const g of gens) {
      assert.equal(g.model, 'openai/gpt-5-mini');
      assert.equal(g.session_id, session, "Cline's session_id is recorded");
    }
    assert.deepEqual(
      gens.map((g) => g.finish_reason),
      ['tool_calls', 'stop'],
    );
    assertAccounting(run, gens);
    const usage = (await api('/key', key)).data.usage;
    assert.ok(Math.abs(usage - gens.reduce((n, g) => n + g.total_cost, 0)) < 1e-9, "the key's usage is the generations' cost");
  });

  test('OpenRouter provider, anthropic/claude-sonnet-4.5, --yolo: editor, then submit_and_exit', { timeout: RUN_MS + 10_000 }, async () => {
    const work = tempDir('freeway-cline-work-');
    const key = await stack.newKey('cline-claude');
    const from = stack.anthropic.requests.length;
    const file = join(work, 'proof.txt');
    const prompt = script([['editor', { path: file, new_text: 'cline-claude-was-here\n' }], submit], 'Write the proof file.');
    const args = ['--yolo', '--json', '--thinking', 'low', '-P', 'openrouter', '-m', 'anthropic/claude-sonnet-4.5', '-k', key];
    const run = await cline(work, [...args, prompt]);
    assert.equal(run.code, 0, show(run));
    assert.equal(run.result?.finishReason, 'completed', show(run));
    assert.equal(readFileSync(file, 'utf8'), 'cline-claude-was-here\n');
    assert.match(run.result.text, /Submission recorded/);
    assertLoopback(run);

    const sent = posts(stack.anthropic, from);
    assert.equal(sent.length, 2);
    assert.equal(sent[0].path, '/v1/messages');
    assert.equal(sent[0].body.model, 'claude-sonnet-4-5');
    assert.equal(sent[0].body.thinking?.type, 'enabled', '--thinking low became Anthropic thinking');
    // OpenRouter's caching: the top-level cache_control and the one on the last user block go through.
    assert.deepEqual(sent[0].body.cache_control, { type: 'ephemeral' });
    assert.deepEqual(sent[0].body.messages.at(-1).content.at(-1).cache_control, { type: 'ephemeral' });
    assert.match(JSON.stringify(sent[1].body.messages.at(-1)), /"type":"tool_result"[\s\S]*File created successfully/);
    // Cline replays its reasoning as `reasoning_content` with no signature, which Anthropic cannot
    // take back: the continuation goes without thinking rather than failing.
    assert.equal(sent[1].body.thinking, undefined);

    const gens = await generations(key);
    assert.equal(gens.length, 2);
    for (const g of gens) assert.equal(g.model, 'anthropic/claude-sonnet-4.5');
    assert.equal(gens[0].session_id, gens[1].session_id);
    assert.ok(gens[0].session_id, 'one session for the run');
    assert.deepEqual(
      gens.map((g) => g.finish_reason),
      ['tool_calls', 'tool_calls'],
      'both turns called a tool',
    );
    assert.ok(gens[0].native_tokens_cache_write > 0, 'the prompt was written to the cache');
    assert.equal(gens[1].native_tokens_cached, gens[0].native_tokens_cache_write, 'and read back on the next turn');
    assert.equal(run.result.usage.cacheReadTokens, gens[1].native_tokens_cached, 'Cline saw the cache read');
    assertAccounting(run, gens);
  });

  test('OpenRouter provider, google/gemini-2.5-flash, --thinking low, --yolo: editor, then submit_and_exit', {
    timeout: RUN_MS + 10_000,
  }, async () => {
    const work = tempDir('freeway-cline-work-');
    const key = await stack.newKey('cline-gemini');
    const from = stack.gemini.requests.length;
    const file = join(work, 'proof.txt');
    const prompt = script([['editor', { path: file, new_text: 'cline-gemini-was-here\n' }], submit], 'Write the proof file.');
    const args = ['--yolo', '--json', '--thinking', 'low', '-P', 'openrouter', '-m', 'google/gemini-2.5-flash', '-k', key];
    const run = await cline(work, [...args, prompt]);
    assert.equal(run.code, 0, show(run));
    assert.equal(run.result?.finishReason, 'completed', show(run));
    assert.equal(readFileSync(file, 'utf8'), 'cline-gemini-was-here\n');
    assertLoopback(run);

    const sent = posts(stack.gemini, from);
    assert.equal(sent.length, 2);
    assert.ok(sent[0].body.generationConfig?.thinkingConfig, '--thinking low became a thinking budget');
    // Cline keeps no thought signature: the call it replays gets Google's placeholder, which a thinking
    // Gemini accepts, instead of the 400 it gives a call without one.
    const call = sent[1].body.contents.find((c: Json) => c.role === 'model').parts.find((p: Json) => p.functionCall);
    assert.equal(call.functionCall.name, 'editor');
    assert.ok(call.thoughtSignature, 'a signature on the replayed call');

    const gens = await generations(key);
    assert.deepEqual(
      gens.map((g) => [g.model, g.finish_reason]),
      [
        ['google/gemini-2.5-flash', 'tool_calls'],
        ['google/gemini-2.5-flash', 'tool_calls'],
      ],
    );
    assertAccounting(run, gens);
  });

  test("Anthropic provider at Freeway's Messages door, claude-sonnet-4-5, --yolo: editor", { timeout: RUN_MS + 10_000 }, async () => {
    const work = tempDir('freeway-cline-work-');
    const key = await stack.newKey('cline-anthropic');
    const from = stack.anthropic.requests.length;
    const file = join(work, 'proof.txt');
    const prompt = script([['editor', { path: file, new_text: 'through the messages door\n' }], submit], 'Write the proof file.');
    // No --thinking: Cline's Anthropic provider drops the thinking signature from its history (the
    // AI SDK's signature-only delta carries no text), so a thinking tool turn fails on Anthropic too.
    const run = await cline(work, ['--yolo', '--json', '-P', 'anthropic', '-m', 'claude-sonnet-4-5', '-k', key, prompt]);
    assert.equal(run.code, 0, show(run));
    assert.equal(run.result?.finishReason, 'completed', show(run));
    assert.equal(readFileSync(file, 'utf8'), 'through the messages door\n');
    assertLoopback(run);

    const sent = posts(stack.anthropic, from);
    assert.equal(sent.length, 2);
    assert.equal(sent[0].headers['x-api-key'], stack.anthropic.apiKey, "Freeway's provider key upstream, not the client's");
    assert.match(JSON.stringify(sent[1].body.messages.at(-1)), /File created successfully/);

    const gens = await generations(key);
    assert.deepEqual(
      gens.map((g) => [g.model, g.finish_reason]),
      [
        ['anthropic/claude-sonnet-4.5', 'tool_calls'],
        ['anthropic/claude-sonnet-4.5', 'tool_calls'],
      ],
    );
    assertAccounting(run, gens);
  });

  test("an unknown model: Cline shows Freeway's error and fails the run", { timeout: RUN_MS + 10_000 }, async () => {
    const work = tempDir('freeway-cline-work-');
    const run = await cline(work, ['--yolo', '--json', '-P', 'openrouter', '-m', 'nosuch/model-x', 'Say something short.']);
    assert.notEqual(run.code, 0);
    assert.equal(run.result?.finishReason, 'error', show(run));
    assert.match(run.result.text, /nosuch\/model-x is not a valid model ID/);
    assertLoopback(run);
  });

  test('no hub daemon was started', () => {
    assert.equal(existsSync(join(dataDir(), 'logs', 'hub-daemon.log')), false);
  });
});
