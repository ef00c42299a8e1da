/**
 * `freeway compare`: one prompt to three models on the three emulated providers through a real
 * gateway, sent at once; the answers, and a table whose costs are the generation records' own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gatherStats } from '../emulators/common.ts';
import { LISTED, MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'freeway.js');

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack.close();
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/_API_KEY$|_BASE_URL$|^DATABASE_URL$|^FREEWAY_|^PORT$/.test(k)) clean[k] = v;
  }
  const child = spawn(process.execPath, [CLI, 'compare', ...args], { env: { ...clean, ...env }, cwd: tempDir('freeway-compare-cli-') });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function generation(id: string): Promise<{ total_cost: number; model: string; tokens_prompt: number; tokens_completion: number }> {
  const res = await fetch(`${stack.baseURL}/generation?id=${id}`, { headers: { authorization: `Bearer ${stack.key}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { data: { total_cost: number; model: string; tokens_prompt: number; tokens_completion: number } }).data;
}

test('three models, three answers sent at once, and a table whose costs are the generation records', async () => {
  const timedOut = gatherStats.timedOut;
  const models = [MODELS.openai, MODELS.anthropic, MODELS.google];
  // [[gather:3]] holds each emulator's answer until all three requests are waiting: they went out together.
  const { code, stdout, stderr } = await run(
    ['Name a colour [[gather:3]]', ...models.flatMap((m) => ['-m', m]), '--base-url', stack.gw.url],
    {
      FREEWAY_API_KEY: stack.key,
    },
  );
  assert.equal(code, 0, stderr + stdout);
  assert.equal(gatherStats.timedOut, timedOut, 'the three requests were in flight at the same time');
  for (const [name, model] of [
    ['OpenAI', MODELS.openai],
    ['Anthropic', MODELS.anthropic],
    ['Gemini', MODELS.google],
  ]) {
    const block = stdout.split('\n== ').find((b) => b.replace(/^== /, '').startsWith(model));
    assert.ok(block, `an answer section for ${model}`);
    assert.match(block, new RegExp(`Hello from ${name}[^\\n]*You said: Name a colour`), `${model}'s own answer, streamed whole`);
  }
  const lines = stdout.split('\n');
  const header = lines.findIndex((l) => /^model +ttft +total +prompt +completion +cost +generation$/.test(l));
  assert.ok(header >= 0, stdout);
  const rows = lines
    .slice(header + 2)
    .filter(Boolean)
    .map((l) => l.split(/ {2,}/));
  assert.deepEqual(
    rows.map((r) => r[0]),
    models,
  );
  for (const r of rows) {
    const [, ttft, total, prompt, completion, cost, id] = r;
    assert.match(ttft, /^\d+ ms$/);
    assert.match(total, /^\d+ ms$/);
    assert.ok(Number.parseInt(ttft, 10) <= Number.parseInt(total, 10), 'the first token came before the end');
    assert.match(id, /^gen-/);
    const g = await generation(id);
    assert.equal(cost, `$${g.total_cost.toFixed(9).replace(/0+$/, '').replace(/\.$/, '')}`, `${r[0]}: the cost shown is the one charged`);
    assert.ok(g.total_cost > 0, 'each model is priced');
    assert.equal(Number(prompt), g.tokens_prompt);
    assert.equal(Number(completion), g.tokens_completion);
  }
  assert.deepEqual(new Set(await Promise.all(rows.map(async (r) => (await generation(r[6])).model))), new Set(Object.values(LISTED)));
});

test('--json; a model that fails is reported beside the ones that answered, with exit code 1', async () => {
  const { code, stdout } = await run([
    'Hi',
    '-m',
    MODELS.openai,
    '-m',
    'nobody/no-such-model',
    '--json',
    '--key',
    stack.key,
    '--base-url',
    stack.baseURL,
  ]);
  assert.equal(code, 1);
  const results = JSON.parse(stdout) as Array<{ model: string; text: string; error: string | null; cost: number | null }>;
  assert.equal(results[0].error, null);
  assert.match(results[0].text, /Hello from OpenAI/);
  assert.ok(results[0].cost! > 0);
  assert.equal(results[1].model, 'nobody/no-such-model');
  assert.match(results[1].error ?? '', /^404: /);
  assert.equal(results[1].cost, null);
});

test('clear errors for a missing key, no model, too many models and a bad option', async () => {
  const noKey = await run(['Hi', '-m', MODELS.openai, '--base-url', stack.gw.url]);
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /FREEWAY_API_KEY or pass --key/);
  const noModel = await run(['Hi', '--key', stack.key]);
  assert.match(noModel.stderr, /at least one model with -m/);
  const seven = await run(['Hi', '--key', stack.key, ...Array.from({ length: 7 }, () => ['-m', MODELS.openai]).flat()]);
  assert.match(seven.stderr, /up to 6 models, got 7/);
  const badKey = await run(['Hi', '-m', MODELS.openai, '--key', 'sk-nope', '--base-url', stack.gw.url]);
  assert.equal(badKey.code, 1);
  assert.match(badKey.stdout, /\[error\] 401: /);
  const temp = await run(['Hi', '-m', MODELS.openai, '--key', stack.key, '--temperature', 'hot']);
  assert.match(temp.stderr, /--temperature must be a number from 0 to 2, got hot/);
});

test('a stream that fails mid-way: the text that came, the error, and the cost of what was served', async () => {
  const { code, stdout } = await run(['Hi [[fail:3]]', '-m', MODELS.openai, '--json', '--key', stack.key, '--base-url', stack.gw.url]);
  assert.equal(code, 1);
  const [r] = JSON.parse(stdout) as Array<{
    text: string;
    error: string | null;
    ttftMs: number | null;
    generationId: string;
    cost: number;
  }>;
  assert.ok(r.text.length > 0, 'the content sent before the failure is kept');
  assert.ok(r.ttftMs !== null);
  assert.ok(r.error, 'the in-band error is reported');
  const res = await fetch(`${stack.baseURL}/generation?id=${r.generationId}`, { headers: { authorization: `Bearer ${stack.key}` } });
  const g = ((await res.json()) as { data: { error: string | null; total_cost: number } }).data;
  assert.ok(g.error !== null, 'the record says it failed too');
  assert.equal(r.cost, g.total_cost, 'and the cost reported is the one charged');
});
