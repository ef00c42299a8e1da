/**
 * The dashboard's static handler on its own, over loopback against a folder of its own: which
 * requests it answers (a browser's page loads, the hashed assets) and which it leaves to the API
 * and the health check.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createStaticWeb } from '../../src/http/static-web.ts';

describe('static web handler', () => {
  let dir: string;
  let server: Server;
  let base: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'freeway-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'assets', 'main-ABCD1234.js'), 'console.log("hi");'.repeat(50));
    writeFileSync(join(dir, '..', 'secret.txt'), 'nope');
    const web = createStaticWeb(dir);
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (web.serve(req, res, path)) return;
      res.writeHead(418).end('not mine');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(dir, '..', 'secret.txt'), { force: true });
  });

  const html = { accept: 'text/html,application/xhtml+xml' };

  test('a page load of any app route gets index.html, uncached, with a strict CSP', async () => {
    for (const path of ['/', '/keys', '/models/openai/gpt-4o']) {
      const r = await fetch(base + path, { headers: html });
      assert.equal(r.status, 200, path);
      assert.equal(await r.text(), '<!doctype html><title>app</title>');
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'.*frame-ancestors 'none'/);
    }
  });

  test('hashed assets are cached for a year and gzipped when asked', async () => {
    const raw = await fetch(`${base}/assets/main-ABCD1234.js`);
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type') ?? '', /text\/javascript/);
    assert.equal(raw.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    // node's fetch decompresses: ask over raw http to see the encoding.
    const { get } = await import('node:http');
    const gz = await new Promise<{ enc: string | undefined; body: Buffer }>((resolve) =>
      get(`${base}/assets/main-ABCD1234.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const parts: Buffer[] = [];
        res
          .on('data', (c: Buffer) => parts.push(c))
          .on('end', () => resolve({ enc: res.headers['content-encoding'], body: Buffer.concat(parts) }));
      }),
    );
    assert.equal(gz.enc, 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), 'console.log("hi");'.repeat(50));
  });

  test('API paths, /health, non-browser requests, other methods, missing and escaping assets are left alone', async () => {
    const leftAlone = async (path: string, init: RequestInit = {}) => {
      const r = await fetch(base + path, init);
      assert.equal(r.status, 418, `${init.method ?? 'GET'} ${path}`);
    };
    await leftAlone('/api/v1/models', { headers: html });
    await leftAlone('/v1/keys', { headers: html });
    await leftAlone('/health', { headers: html });
    await leftAlone('/');
    await leftAlone('/keys', { headers: { accept: 'application/json' } });
    await leftAlone('/', { method: 'POST', headers: html });
    await leftAlone('/assets/missing-00000000.js');
    await leftAlone('/assets/..%2f..%2fsecret.txt');
    await leftAlone('/assets/../secret.txt');
  });

  test('with no build there is nothing to serve: everything falls through', async () => {
    const web = createStaticWeb(join(dir, 'does-not-exist'));
    const s = createServer((req, res) => (web.serve(req, res, req.url ?? '/') ? undefined : res.writeHead(418).end()));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const r = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`, { headers: html });
    assert.equal(r.status, 418);
    await new Promise((r2) => s.close(r2));
  });
});
