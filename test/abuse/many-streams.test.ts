/**
 * Fault and abuse: 2,000 concurrent streams through one Freeway process (a real child process) to
 * the OpenAI emulator. The emulator holds every answer until all 2,000 requests are waiting on it
 * at once ([[gather:2000]]), so the test passes only if every request reaches the upstream
 * concurrently: nothing may queue them (an HTTP agent's socket cap once made requests beyond 256
 * wait, their first-byte timer running, and 744 of 1,000 failed). Then every stream must finish
 * with `[DONE]` and no error. Bounded: a few seconds of CPU, a few MB per thousand streams.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Emulator } from '../emulators/common.ts';
import { gatherStats } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcess } from '../helpers/freeway-process.ts';
import type { FreewayProcess } from '../helpers/freeway-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const STREAMS = 2_000;
const ADMIN = 'admin-many-streams';

let emu: Emulator;
let fw: FreewayProcess;
let key: string;

before(async () => {
  emu = await startOpenAIEmulator({ record: false });
  const dir = tempDir('freeway-many-streams-');
  fw = await startFreewayProcess({
    cwd: dir,
    env: {
      OPENAI_API_KEY: emu.apiKey,
      OPENAI_BASE_URL: `${emu.url}/v1`,
      DATABASE_URL: `${dir}/freeway.db`,
      FREEWAY_ADMIN_KEY: ADMIN,
      FREEWAY_LOG: 'error',
    },
  });
  const res = await fetch(`${fw.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'many streams' }),
  });
  key = ((await res.json()) as { key: string }).key;
});

after(async () => {
  await fw?.stop();
  await emu?.close();
});

/** One streamed request on its own connection; resolves with the status and the whole body. */
function stream(agent: http.Agent, content: string): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] });
  const url = new URL(`${fw.url}/api/v1/chat/completions`);
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (err) => resolve({ status: -1, body: String(err) }));
      },
    );
    req.on('error', (err) => resolve({ status: -1, body: String(err) }));
    req.end(body);
  });
}

/** The streamed answer's text. */
function textOf(sse: string): string {
  let text = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    text += (JSON.parse(line.slice(6)) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? '';
  }
  return text;
}

function peakRss(pid: number): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
}

test(`${STREAMS} concurrent streams through one process all reach the upstream at once and all complete`, {
  timeout: 180_000,
}, async (t) => {
  // Every request on a connection of its own, none kept for reuse.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  gatherStats.peak = 0;
  gatherStats.timedOut = 0;
  const results = await Promise.all(Array.from({ length: STREAMS }, (_, i) => stream(agent, `stream ${i} [[gather:${STREAMS}]]`)));
  agent.destroy();
  assert.equal(gatherStats.timedOut, 0, `the emulator saw at most ${gatherStats.peak} requests at once`);
  assert.equal(gatherStats.peak, STREAMS, 'every request reached the upstream while the others were still waiting');
  const failed = results.filter((r) => r.status !== 200 || !r.body.endsWith('data: [DONE]\n\n') || r.body.includes('"error"'));
  assert.equal(failed.length, 0, `${failed.length} of ${STREAMS} failed; first: ${failed[0]?.status} ${failed[0]?.body.slice(-300)}`);
  for (const [i, r] of results.entries())
    assert.match(textOf(r.body), new RegExp(`You said: stream ${i}$`), `stream ${i} got its own answer`);
  t.diagnostic(`Freeway peak RSS ${(peakRss(fw.child.pid!) / 1024 / 1024).toFixed(0)} MB`);
});
