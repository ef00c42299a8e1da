/**
 * Codex CLI (`@openai/codex`, a devDependency) driven for real, headless (`codex exec`), against
 * Freeway's /api/v1/responses as a custom model provider (`wire_api = "responses"`), unchanged: its
 * default tools (a `namespace` tool and the hosted `web_search` among them), its `client_metadata`,
 * a shell tool turn in a temp dir (the workspace-write sandbox: no network), then
 * `codex exec resume --last`, on a GPT, a Claude and a Gemini model served by the emulators.
 * HOME and CODEX_HOME are temp dirs; a refusing proxy for every other host proves that nothing
 * leaves loopback (Codex's plugins and apps, which sync from github.com and chatgpt.com, are
 * turned off in its config). Skips when the native binary cannot run on this platform.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { startRefusingProxy } from '../helpers/refusing-proxy.ts';
import type { RefusingProxy } from '../helpers/refusing-proxy.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CODEX = join(import.meta.dirname, '../../node_modules/.bin/codex');
const RUN_MS = 45_000;

function codexRuns(): string | undefined {
  if (!existsSync(CODEX)) return 'node_modules/.bin/codex is missing (npm install)';
  const r = spawnSync(CODEX, ['--version'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '' } });
  return r.status === 0 ? undefined : `the codex binary does not run here: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`;
}
const unavailable = codexRuns();
if (unavailable) console.log(`# skipping Codex CLI tests: ${unavailable}`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  last: string;
}

/** A Codex home whose config points at Freeway: no update checks, no analytics, no retries. */
function codexHome(stack: Stack, model: string): string {
  const home = tempDir('freeway-codex-home-');
  writeFileSync(
    join(home, 'config.toml'),
    [
      `model = ${JSON.stringify(model)}`,
      'model_provider = "freeway"',
      'model_reasoning_effort = "low"',
      'model_reasoning_summary = "auto"',
      'check_for_update_on_startup = false',
      '[analytics]',
      'enabled = false',
      // Plugins, apps and their marketplaces are fetched from github.com and chatgpt.com.
      '[features]',
      'plugins = false',
      'remote_plugin = false',
      'apps = false',
      'plugin_sharing = false',
      '[model_providers.freeway]',
      'name = "Freeway"',
      `base_url = ${JSON.stringify(stack.baseURL)}`,
      'env_key = "FREEWAY_API_KEY"',
      'wire_api = "responses"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
    ].join('\n'),
  );
  return home;
}

/** Every host but loopback goes to it: what the CLI tries to reach beyond Freeway shows in its `outbound`. */
let proxy: RefusingProxy;

/** `codex exec [options] [args...]` in `work`, stdin closed (Codex would wait for it), bounded in time. */
function codex(home: string, work: string, key: string, args: string[]): Promise<Run> {
  const lastFile = join(home, `last-${Date.now()}.txt`);
  // exec's own options come before a subcommand (`resume`), which takes fewer.
  const argv = ['exec', '--skip-git-repo-check', '-s', 'workspace-write', '-C', work, '-o', lastFile, ...args];
  return new Promise((resolve) => {
    const child = execFile(
      CODEX,
      argv,
      {
        cwd: work,
        timeout: RUN_MS,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          CODEX_HOME: home,
          FREEWAY_API_KEY: key,
          HTTPS_PROXY: proxy.url,
          HTTP_PROXY: proxy.url,
          ALL_PROXY: proxy.url,
          NO_PROXY: '127.0.0.1,localhost',
        },
      },
      (err, stdout, stderr) => {
        const last = existsSync(lastFile) ? readFileSync(lastFile, 'utf8') : '';
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr, last });
      },
    );
    child.stdin?.end();
  });
}

const show = (r: Run) => `exit ${r.code}\n${r.stderr.slice(-2000)}`;

describe('Codex CLI through /responses', { skip: unavailable !== undefined }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    proxy = await startRefusingProxy();
  });
  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  // Codex asks for reasoning (a summary, and here an effort) on every model: on OpenAI that takes a
  // reasoning model (gpt-4o-mini would refuse reasoning_effort).
  const models = { openai: 'openai/gpt-5-mini', anthropic: 'anthropic/claude-sonnet-4-5', gemini: 'google/gemini-2.5-flash' } as const;
  for (const [provider, model] of Object.entries(models) as Array<[keyof typeof models, string]>) {
    test(`${model}: a shell tool turn, then exec resume --last`, { timeout: 2 * RUN_MS + 10_000 }, async () => {
      const home = codexHome(stack, model);
      const work = tempDir('freeway-codex-work-');
      const upstream = stack[provider];
      const seen = upstream.requests.length;

      const prompt = '[[call:exec_command:{"cmd":"echo codex-was-here | tee proof.txt"}]] Write the proof file.';
      const first = await codex(home, work, stack.key, [prompt]);
      assert.equal(first.code, 0, show(first));
      assert.equal(readFileSync(join(work, 'proof.txt'), 'utf8').trim(), 'codex-was-here', 'the shell tool ran in the work dir');
      assert.match(first.last, /codex-was-here/, 'the answer after the tool result (the emulators quote it)');
      const calls = upstream.requests.slice(seen).filter((r) => r.method === 'POST');
      assert.equal(calls.length, 2, 'one request with the call, one with its output');
      const sent = JSON.stringify(calls[1].body);
      assert.match(sent, /codex-was-here/, 'the tool output went upstream');
      const bodies = JSON.stringify(calls.map((c) => c.body));
      assert.doesNotMatch(bodies, /client_metadata|x-codex-turn-metadata/, 'client_metadata is never forwarded');
      assert.match(JSON.stringify(calls[0].body), /multi_agent_v1__spawn_agent/, 'the namespace tool, flattened');
      // Reasoning kept across the tool turn: the second request replays the signed thinking.
      const replayed = {
        openai: /"reasoning_effort":"low"/,
        anthropic: /"type":"thinking","thinking":"[\s\S]*?","signature":"[A-Za-z0-9+/]/,
        gemini: /"thoughtSignature":"/,
      };
      assert.match(sent, replayed[provider], 'reasoning carried into the next turn');

      const resumed = await codex(home, work, stack.key, ['resume', '--last', '[[notool]] [[say:resumed and remembered]] Anything else?']);
      assert.equal(resumed.code, 0, show(resumed));
      assert.equal(resumed.last.trim(), 'resumed and remembered');
      const last = upstream.requests.filter((r) => r.method === 'POST').at(-1);
      assert.match(JSON.stringify(last?.body), /codex-was-here/, 'the resumed session carries the earlier tool turn');
      assert.deepEqual(proxy.outbound, [], 'Codex tried to reach nothing beyond loopback');
    });
  }
});
