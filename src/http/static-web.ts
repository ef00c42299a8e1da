/**
 * The dashboard's files (web/dist, built by scripts/build-web.ts) served at `/`. Hashed assets
 * under /assets/ are cached for a year; every other GET a browser makes for a page (Accept:
 * text/html) gets index.html, so /keys or /models/openai/gpt-4o reload into the app. A request
 * that does not ask for HTML (curl, a load balancer on `/`) is not the dashboard's: it falls
 * through to the health answer or the API's 404. Nothing under /v1 or /api ever reaches here.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * The page holds a key in sessionStorage: it runs only its own script, talks only to this origin
 * and is framed by no one.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface File {
  body: Buffer;
  gzip: Buffer;
  type: string;
}

/** From src/http (sources) or dist/src/http (the built server), web/dist at the package's root. */
export function findWebRoot(from = import.meta.dirname): string | null {
  for (const up of [
    ['..', '..'],
    ['..', '..', '..'],
  ]) {
    const dir = join(from, ...up, 'web', 'dist');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

export interface StaticWeb {
  /** Answers the request when it is the dashboard's; false to let the caller go on. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export function createStaticWeb(given?: string): StaticWeb {
  // Looked for again while missing: a build that lands after start-up is served without a restart.
  let root = given ?? findWebRoot();
  // Built files do not change under a running process (a rebuild names new hashed assets); what is missing is not kept.
  const cache = new Map<string, File>();
  const load = (rel: string): File | null => {
    root ??= findWebRoot();
    if (!root) return null;
    const hit = cache.get(rel);
    if (hit) return hit;
    const full = normalize(join(root, rel));
    if (!full.startsWith(root + sep) || !existsSync(full)) return null;
    const body = readFileSync(full);
    const f = { body, gzip: gzipSync(body), type: TYPES[extname(full)] ?? 'application/octet-stream' };
    // index.html is read afresh: after a rebuild it names the new assets.
    if (rel !== 'index.html') cache.set(rel, f);
    return f;
  };
  const send = (req: IncomingMessage, res: ServerResponse, f: File, cacheControl: string, extra: Record<string, string> = {}) => {
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? f.gzip : f.body;
    res.writeHead(200, {
      'content-type': f.type,
      'content-length': body.length,
      'cache-control': cacheControl,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
      ...(gz ? { 'content-encoding': 'gzip' } : {}),
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  return {
    serve(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (path === '/v1' || path.startsWith('/v1/') || path === '/api' || path.startsWith('/api/') || path === '/health') return false;
      if (path.startsWith('/assets/')) {
        // Hashed names are plain ASCII: anything encoded is not one of ours.
        const f = /^\/assets\/[\w.-]+$/.test(path) ? load(path.slice(1)) : null;
        if (!f) return false;
        send(req, res, f, 'public, max-age=31536000, immutable');
        return true;
      }
      if (!String(req.headers.accept ?? '').includes('text/html')) return false;
      const index = load('index.html');
      if (!index) return false;
      send(req, res, index, 'no-cache', PAGE_HEADERS);
      return true;
    },
  };
}
