/**
 * The dashboard's budget and its independence from the network: the first load (index.html's
 * script and stylesheet) under 250 KB gzip-compressed, and nothing fetched from another origin
 * (no CDN scripts, no web fonts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildWeb, webIsStale } from '../../scripts/build-web.ts';

const DIST = join(import.meta.dirname, '..', '..', 'web', 'dist');
const BUDGET = 250 * 1024;

test('the first load of the dashboard is under 250 KB of compressed JS and CSS, and names no other origin', async () => {
  // `npm test` built it (pretest); a lone run of this file builds it when the sources are newer.
  if (webIsStale()) await buildWeb();
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(assets.map((a) => a.split('.').at(-1)).sort(), ['css', 'js'], html);
  let total = 0;
  for (const a of assets) {
    const body = readFileSync(join(DIST, a));
    total += gzipSync(body, { level: 9 }).length;
    // Every module is in the one bundle: nothing loaded later from anywhere.
    assert.doesNotMatch(body.toString('utf8'), /\bimport\s*\(\s*["']https?:|@import\s+url\(\s*["']?https?:|@font-face/, a);
  }
  assert.ok(total < BUDGET, `first load is ${total} bytes gzipped; the budget is ${BUDGET}`);
  assert.doesNotMatch(html, /(?:src|href)="(?:https?:)?\/\//, 'index.html loads nothing from another origin');
  // Hashed names: a rebuild is a new URL, so the year-long cache is safe.
  for (const f of readdirSync(join(DIST, 'assets'))) assert.match(f, /^main-[A-Z0-9]{8}\.(js|css)$/);
  console.log(`# dashboard first load: ${(total / 1024).toFixed(1)} KB gzipped`);
});
