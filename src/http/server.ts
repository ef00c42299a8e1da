/**
 * The HTTP server: node:http with a route table read once per request (a map lookup), every route
 * mounted under both `/v1` and `/api/v1`. Public routes, inference routes and management routes
 * are separate groups; none of them can crash the process.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { App } from '../app.ts';
import { asGatewayError, GatewayError } from '../spec/errors.ts';
import { clientErrorResponse, enforceClientLimits, serverOptions } from './client-limits.ts';
import { sendHealth, sendLive, sendReady } from './health.ts';
import { sendMetrics } from './metrics-route.ts';
import { withRequest } from '../ops/request-facts.ts';
import type { RequestFacts } from '../ops/request-facts.ts';
import { sendError } from './respond.ts';
import { createStaticWeb } from './static-web.ts';

export interface RouteContext {
  app: App;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters (`{hash}`) for parameterised routes. */
  params: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => Promise<void>;

export type ErrorRenderer = (res: ServerResponse, err: GatewayError) => void;

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under the API root, e.g. `/chat/completions` or `/keys/{hash}`. */
  path: string;
  handler: Handler;
  /** How this route's door writes errors the server itself raises (wrong method); default: OpenRouter's envelope. */
  renderError?: ErrorRenderer;
}

const PREFIXES = ['/v1', '/api/v1'];

interface Compiled {
  exact: Map<string, Handler>;
  patterns: Array<{ method: string; path: string; regex: RegExp; names: string[]; handler: Handler; renderError?: ErrorRenderer }>;
  /** Every exact path, with its door's error renderer when it has its own. */
  paths: Map<string, ErrorRenderer | undefined>;
}

function compile(routes: readonly Route[]): Compiled {
  const c: Compiled = { exact: new Map(), patterns: [], paths: new Map() };
  for (const r of routes) {
    for (const prefix of PREFIXES) {
      const full = prefix + r.path;
      if (!full.includes('{')) {
        c.exact.set(`${r.method} ${full}`, r.handler);
        if (!c.paths.has(full) || r.renderError) c.paths.set(full, r.renderError);
        continue;
      }
      const names: string[] = [];
      const regex = new RegExp(
        '^' +
          full.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, n: string) => {
            names.push(n);
            return '([^/]+)';
          }) +
          '$',
      );
      c.patterns.push({ method: r.method, path: r.path, regex, names, handler: r.handler, renderError: r.renderError });
    }
  }
  return c;
}

export function createHttpServer(app: App, routes: readonly Route[]): Server {
  const table = compile(routes);
  const web = createStaticWeb();

  const handle = async (req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<void> => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q === -1 ? raw : raw.slice(0, q);
    const method = req.method ?? 'GET';
    let handler = table.exact.get(`${method} ${path}`);
    const params: Record<string, string> = {};
    // The route (not the path, which carries ids) names the request in logs and metrics.
    if (handler) facts.route = path.startsWith('/api/v1') ? path.slice(7) : path.slice(3);
    else {
      for (const p of table.patterns) {
        if (p.method !== method) continue;
        const m = p.regex.exec(path);
        if (!m) continue;
        facts.route = p.path;
        const bad = p.names.find((n, i) => {
          const v = decodeParam(m[i + 1]);
          if (v !== undefined) params[n] = v;
          return v === undefined;
        });
        if (bad !== undefined) {
          // `%ZZ` is the client's typo, not a server failure: a 400 in the route's own envelope.
          const err = new GatewayError('invalid_request', `${bad}: the path segment is not valid percent-encoding`, {
            metadata: { param: bad },
            retryable: false,
          });
          if (!p.renderError) throw err;
          p.renderError(res, err);
          return;
        }
        handler = p.handler;
        break;
      }
    }
    if (!handler) {
      // The dashboard: a browser's page loads and the hashed assets (never an API path).
      if (web.serve(req, res, path)) return;
      if (path === '/' || path === '/health') {
        facts.route = '/health';
        await sendHealth(app, res);
        return;
      }
      if (path === '/health/live' || path === '/health/ready' || path === '/metrics') {
        facts.route = path;
        await (path === '/metrics' ? sendMetrics(app, req, res, 'public') : path === '/health/live' ? sendLive(res) : sendReady(app, res));
        return;
      }
      const pattern = table.patterns.find((p) => p.regex.test(path));
      const known = table.paths.has(path) || pattern !== undefined;
      if (method === 'OPTIONS') {
        res.writeHead(204, CORS_HEADERS);
        res.end();
        return;
      }
      if (!known) throw new GatewayError('not_found', `No route for ${method} ${path}`, { retryable: false });
      const wrongMethod = new GatewayError('invalid_request', `Method ${method} is not allowed on ${path}`, {
        status: 405,
        retryable: false,
      });
      const render = table.paths.get(path) ?? pattern?.renderError;
      if (!render) throw wrongMethod;
      render(res, wrongMethod);
      return;
    }
    // Parsed only for the handlers that read the query string.
    let url: URL | undefined;
    await handler({
      app,
      req,
      res,
      params,
      get url() {
        return (url ??= new URL(raw, 'http://freeway'));
      },
    });
  };

  const limits = app.settings.clientLimits;
  const server = createServer(serverOptions(limits), (req, res) => {
    for (const [k, v] of CORS_ENTRIES) res.setHeader(k, v);
    const facts = app.ops.begin(req, res, 'unmatched');
    void withRequest(facts, () =>
      handle(req, res, facts).catch((err: unknown) => {
        const e = asGatewayError(err);
        if (e.type === 'server') app.log.error(`unhandled error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
        if (e.type === 'payload_too_large') {
          sendError(res, e, { connection: 'close' });
          return;
        }
        sendError(res, e);
      }),
    );
  });
  // Malformed requests, and those node:http cuts off for missing the header or request deadline.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (socket.writable && !answering) socket.end(clientErrorResponse(err.code));
    else socket.destroy();
  });
  enforceClientLimits(server, limits);
  return server;
}

/** A path segment decoded, or undefined when its percent-encoding is broken (`%`, `%ZZ`, a cut UTF-8 sequence). */
function decodeParam(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers':
    'authorization, content-type, x-api-key, http-referer, x-title, x-openrouter-title, anthropic-version, anthropic-beta, x-anthropic-beta',
  'access-control-allow-methods': 'GET, POST, PATCH, DELETE, OPTIONS',
  'access-control-expose-headers': 'x-generation-id, x-request-id, retry-after',
};
const CORS_ENTRIES = Object.entries(CORS_HEADERS);
