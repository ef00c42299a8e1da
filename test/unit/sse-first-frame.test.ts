/**
 * A streamed answer's first frame leaves with the headers at once, not when the callback that
 * queued it returns: an upstream read can hold a whole short answer (many events handled in one
 * callback), and time to first byte is what a streaming client feels. The server runs in a child
 * process and spends 400 ms of synchronous work between the first frame and the rest, as a long
 * read would; the client, here, must have the first frame long before the rest.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SSE = fileURLToPath(new URL('../../src/http/sse-response.ts', import.meta.url));

const SERVER = `
import { createServer } from 'node:http';
import { SseResponse } from ${JSON.stringify(SSE)};
const server = createServer((req, res) => {
  const sse = new SseResponse(res, {}, { keepAliveMs: 60_000 });
  sse.write('data: first\\n\\n');
  const until = Date.now() + 400;
  while (Date.now() < until) {}
  sse.write('data: second\\n\\n');
  sse.write('data: [DONE]\\n\\n');
  sse.end();
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

test('the first frame leaves before the rest of the callback that queued it has run', async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const arrivals: Array<{ at: number; text: string }> = [];
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
        res.on('data', (b: Buffer) => arrivals.push({ at: performance.now(), text: b.toString() }));
        res.on('end', resolve);
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(arrivals.map((a) => a.text).join(''), 'data: first\n\ndata: second\n\ndata: [DONE]\n\n');
    assert.equal(arrivals[0].text, 'data: first\n\n', 'the first frame arrived alone');
    const gap = arrivals[arrivals.length - 1].at - arrivals[0].at;
    assert.ok(gap > 250, `the first frame came ${gap.toFixed(0)} ms before the rest (the server worked 400 ms in between)`);
  } finally {
    child.kill();
  }
});
