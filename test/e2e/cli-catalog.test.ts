/**
 * `freeway catalog`: per provider, what it lists, which canonical model each id serves, and what is
 * unpriced or unmapped; a provider whose list cannot be read is said so.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import type { OpenAIEmulator } from '../emulators/openai.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'freeway.js');

let groq: OpenAIEmulator;
let together: OpenAIEmulator;

before(async () => {
  groq = await startOpenAIEmulator({ models: ['llama-3.3-70b-versatile', 'openai/gpt-oss-120b', 'brand-new-model-2027'] });
  together = await startOpenAIEmulator({ models: ['meta-llama/Llama-3.3-70B-Instruct-Turbo'] });
  together.failListing(500);
});
after(async () => {
  await groq.close();
  await together.close();
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/_API_KEY$|_BASE_URL$|^DATABASE_URL$|^FREEWAY_/.test(k)) env[k] = v;
  }
  Object.assign(env, {
    GROQ_API_KEY: groq.apiKey,
    GROQ_BASE_URL: `${groq.url}/v1`,
    TOGETHER_API_KEY: together.apiKey,
    TOGETHER_BASE_URL: `${together.url}/v1`,
  });
  const child = spawn(process.execPath, [CLI, 'catalog', ...args], { env, cwd: tempDir('freeway-catalog-cli-') });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('each listed id, the canonical model it serves, and what is unpriced or unmapped', async () => {
  const { code, stdout, stderr } = await run([]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^groq \(Groq\): lists 3 models$/m);
  assert.match(stdout, /^ {2}llama-3\.3-70b-versatile +→ meta-llama\/llama-3\.3-70b-instruct +\$0\.59 \/ \$0\.79 per M tokens$/m);
  assert.match(stdout, /^ {2}brand-new-model-2027 +unmapped: served as groq\/brand-new-model-2027 +UNPRICED/m);
  assert.match(stdout, /^ {2}3 models: 2 mapped to canonical models, 1 unmapped, 1 unpriced$/m);
  assert.match(stdout, /^together \(Together\): its model list could not be read .*; the price data stands in$/m);
  assert.ok(!/llama3-70b-8192/.test(stdout), 'a model Groq does not list is not shown for it');
});

test('--provider and --json', async () => {
  const { code, stdout, stderr } = await run(['--provider', 'groq', '--json']);
  assert.equal(code, 0, stderr);
  type Row = { upstream: string; canonical: string | null; unpriced: boolean };
  const report = JSON.parse(stdout) as { providers: Array<{ id: string; rows: Row[] }> };
  assert.deepEqual(
    report.providers.map((p) => p.id),
    ['groq'],
  );
  const row = report.providers[0].rows.find((r) => r.upstream === 'openai/gpt-oss-120b');
  assert.equal(row?.canonical, 'openai/gpt-oss-120b');
  assert.equal(row?.unpriced, false);
  const bad = await run(['--provider', 'nope']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /provider nope is not live/);
});
