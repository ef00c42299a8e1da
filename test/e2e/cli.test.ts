/**
 * The command itself: `freeway serve` starts on the embedded defaults, says where it listens and
 * which providers are live, prints the first key once; a bad config stops it with one message.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/temp-dir.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'freeway.js');

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/_API_KEY$|_BASE_URL$|^DATABASE_URL$|^FREEWAY_/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

test('freeway serve with one provider key: listens, lists the provider, prints a working first key', async (t) => {
  const emu = await startOpenAIEmulator();
  const dir = tempDir('freeway-cli-');
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    cwd: dir,
    env: cleanEnv({ OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1`, FREEWAY_LOG: 'silent' }),
  });
  t.after(async () => {
    child.kill('SIGTERM');
    await emu.close();
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!/sk-fw-v1-[0-9a-f]{64}/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
  const key = /(sk-fw-v1-[0-9a-f]{64})/.exec(out)?.[1];
  assert.ok(url, out);
  assert.ok(key, out);
  assert.match(out, /Live providers: openai/);
  const res = await fetch(`${url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'cli' }] }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
  assert.match(body.choices[0].message.content, /cli/);
});

test('freeway serve with no keys still starts and says how to add one', async (t) => {
  const dir = tempDir('freeway-cli-');
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: dir, env: cleanEnv({ FREEWAY_LOG: 'silent' }) });
  t.after(() => child.kill('SIGTERM'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!/OPENAI_API_KEY=/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /No providers are live yet/);
  assert.match(out, /OPENAI_API_KEY=sk-\.\.\. npm start/);
});

test('a bad config file stops start-up with one message naming the key', () => {
  const dir = tempDir('freeway-cli-');
  writeFileSync(join(dir, 'freeway.yaml'), 'providers:\n  openai:\n    baseUrl: not-a-url\n');
  const r = spawnSync(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: dir, env: cleanEnv({}), encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^freeway: .*providers\.openai\.baseUrl must be an http\(s\) URL\n$/);
});
