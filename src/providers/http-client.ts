/**
 * The one way Freeway talks HTTP to an upstream: Node's own http/https client over one keep-alive
 * agent per scheme (upstream-agents.ts), with typed failures and the call's deadlines
 * (deadlines.ts). Adapters never call fetch themselves.
 *
 * Built on node:http rather than undici: loading undici (its WASM HTTP parser) costs ~29 MB of RSS,
 * while node:http's parser is already part of the process.
 */
import http from 'node:http';
import https from 'node:https';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { GatewayError } from '../spec/errors.ts';
import { DEFAULT_TIMEOUTS, EventDeadline, UpstreamTimeoutError } from './deadlines.ts';
import type { StreamWatch, UpstreamTimeouts } from './deadlines.ts';
import { redactSecret } from './redact.ts';
import { connecting, httpAgent, httpsAgent } from './upstream-agents.ts';
import type { ConnectOptions } from './upstream-agents.ts';
import { upstreamHttpError } from './upstream-error.ts';
import type { ErrorBodyParser } from './upstream-error.ts';

export { DEFAULT_TIMEOUTS, UpstreamTimeoutError } from './deadlines.ts';
export type { UpstreamTimeouts } from './deadlines.ts';

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The unread body: an AsyncIterable<Buffer> (`for await`), or whole via `readText`/`readJson`. */
  body: IncomingMessage;
}

export interface UpstreamCall {
  /** Display name of the provider, used in error messages. */
  providerName: string;
  method?: 'GET' | 'POST';
  url: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
  signal: AbortSignal;
  timeouts?: UpstreamTimeouts;
  /**
   * The reader of a streamed answer reports its events here: with a watch, an event-stream
   * answer's first-token and idle deadlines count events (deadlines.ts); without one, bytes.
   */
  watch?: StreamWatch;
  /** The provider's credential, blanked out of any error this call produces. */
  secret?: string;
  /** Reads the protocol's error body of a non-2xx answer (the adapter's `parse-error.ts`). */
  parseError: ErrorBodyParser;
}

interface Target {
  request: (options: https.RequestOptions) => ClientRequest;
  agent: http.Agent;
  hostname: string;
  port: number;
  path: string;
  /** The Host header value (host, plus the port when not the scheme's default). */
  host: string;
  /** TLS SNI name, precomputed so the agent need not work it out per request ('' for an IP). */
  servername: string;
}

/** Parsed URLs by string: providers call a handful of distinct URLs, so parse each once. */
const targets = new Map<string, Target>();
const MAX_TARGETS = 1024;

function targetOf(url: string): Target {
  let t = targets.get(url);
  if (t !== undefined) return t;
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  if (!tls && u.protocol !== 'http:') {
    throw Object.assign(new TypeError(`Unsupported protocol ${u.protocol}`), { code: 'ERR_INVALID_PROTOCOL' });
  }
  const hostname = u.hostname.charCodeAt(0) === 91 /* '[' */ ? u.hostname.slice(1, -1) : u.hostname;
  t = {
    request: tls ? https.request : http.request,
    agent: tls ? httpsAgent : httpAgent,
    hostname,
    port: u.port ? Number(u.port) : tls ? 443 : 80,
    path: u.pathname + u.search,
    host: u.host,
    servername: tls ? (isIP(hostname) ? '' : hostname) : '',
  };
  if (targets.size >= MAX_TARGETS) targets.clear();
  targets.set(url, t);
  return t;
}

/**
 * The request headers in node's flat [name, value, ...] form, which skips the per-header
 * setHeader bookkeeping: Host first, then the caller's (minus any Host / Content-Length of
 * theirs), then the body's Content-Length.
 */
let traceHeader: () => string | undefined = () => undefined;

/**
 * Where an upstream call's `traceparent` comes from (operations sets it when tracing is on): the
 * provider layer carries the header without knowing about traces.
 */
export function setTraceHeader(source: () => string | undefined): void {
  traceHeader = source;
}

function headerList(target: Target, headers: Readonly<Record<string, string>>, body: string | undefined): string[] {
  const list = ['host', target.host];
  // The request's trace continues upstream (W3C trace context), when tracing is on.
  const traceparent = traceHeader();
  if (traceparent) list.push('traceparent', traceparent);
  for (const name in headers) {
    const len = name.length;
    if ((len === 4 || len === 14) && (name.toLowerCase() === 'host' || name.toLowerCase() === 'content-length')) continue;
    list.push(name, headers[name]!);
  }
  if (body !== undefined) list.push('content-length', String(Buffer.byteLength(body)));
  return list;
}

/**
 * Sends one request. Resolves with a 2xx response (body unread); throws a GatewayError for a
 * non-2xx status (body read and parsed loosely), a network failure or a timeout.
 */
export function callUpstream(call: UpstreamCall): Promise<UpstreamResponse> {
  return send(call).catch((err: unknown) => {
    throw redactSecret(err, call.secret);
  });
}

function noop(): void {}

function isEventStream(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
}

function send(call: UpstreamCall): Promise<UpstreamResponse> {
  const { signal, providerName } = call;
  if (signal.aborted) return Promise.reject(networkError(providerName, signal.reason, signal));
  let target: Target;
  try {
    target = targetOf(call.url);
  } catch (err) {
    return Promise.reject(networkError(providerName, err, signal));
  }
  const timeouts = call.timeouts ?? DEFAULT_TIMEOUTS;
  const body = call.body;

  return new Promise<UpstreamResponse>((resolve, reject) => {
    let res: IncomingMessage | undefined;
    let settled = false;
    let req: ClientRequest;
    /** When the request reached the upstream (performance.now()); 0 while it connects. */
    let reachedAt = 0;
    let firstTokenTimer: NodeJS.Timeout | undefined;
    let events: EventDeadline | undefined;

    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      const err = reason instanceof Error ? reason : new Error('The operation was aborted');
      if (res !== undefined) res.destroy(err);
      req.destroy(err);
    };
    const release = (): void => {
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(firstTokenTimer);
      release();
      reject(networkError(providerName, err, signal));
    };
    const expire = (err: UpstreamTimeoutError): void => {
      if (res !== undefined) res.destroy(err);
      req.destroy(err);
    };
    // The first-token deadline starts once the request is on a connected socket: a new
    // connection has its own (connect) deadline, and nothing else makes a request wait here.
    const reached = (): void => {
      if (settled || reachedAt !== 0) return;
      reachedAt = performance.now();
      firstTokenTimer = setTimeout(
        () => expire(new UpstreamTimeoutError('first-token', timeouts.firstTokenMs, 'no response headers')),
        timeouts.firstTokenMs,
      );
    };
    const onSocket = (socket: Duplex): void => {
      const ready = connecting.get(socket);
      if (ready === undefined) reached();
      else socket.once(ready, reached);
    };
    // Byte-level idle for a whole body (or a stream nobody reports events of); armed once the
    // headers are in, since before them the first-token timer rules.
    const onIdle = (): void => {
      if (res !== undefined && !res.complete) expire(new UpstreamTimeoutError('idle', timeouts.idleMs, 'no data'));
    };
    const onResponse = (r: IncomingMessage): void => {
      clearTimeout(firstTokenTimer);
      if (settled) {
        r.destroy();
        return;
      }
      settled = true;
      res = r;
      const socket = r.socket;
      const status = r.statusCode ?? 0;
      const watch = call.watch;
      if (watch !== undefined && status >= 200 && status < 300 && isEventStream(r.headers)) {
        // An event stream: the first-token deadline runs on until real content, then idle
        // counts complete events; the reader reports them through the watch.
        const d = new EventDeadline(timeouts, reachedAt || performance.now(), expire);
        events = d;
        watch.attach(d);
      } else {
        // The agent puts its own idle-pool timeout back when the socket returns to the pool.
        socket.setTimeout(timeouts.idleMs);
        socket.on('timeout', onIdle);
      }
      r.once('close', () => {
        if (events !== undefined) watch?.detach(events);
        else socket.off('timeout', onIdle);
        release();
      });
      // Keeps an error from destroy() recorded on the stream (node only records it when someone
      // listens); the reader sees it through iteration or readText.
      r.on('error', noop);
      if (status >= 200 && status < 300) {
        resolve({ status, headers: r.headers, body: r });
        return;
      }
      readText(r).then(
        (text) => reject(upstreamHttpError(providerName, status, r.headers, text, call.parseError)),
        // A body that dies while we read an error is still an error with the status we have.
        () => reject(upstreamHttpError(providerName, status, r.headers, '', call.parseError)),
      );
    };

    try {
      const options: https.RequestOptions & ConnectOptions = {
        agent: target.agent,
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        servername: target.servername,
        method: call.method ?? 'POST',
        headers: headerList(target, call.headers, body),
      };
      if (timeouts.connectMs !== undefined) options.connectTimeoutMs = timeouts.connectMs;
      req = target.request(options);
    } catch (err) {
      // Invalid header values and the like are thrown synchronously.
      settled = true;
      reject(networkError(providerName, err, signal));
      return;
    }
    // Stays attached for the request's life: a socket error after the headers is also emitted
    // here (the body stream gets its own), and an unhandled 'error' would crash the process.
    req.on('error', fail);
    req.once('socket', onSocket);
    req.on('response', onResponse);
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}

/** Reads a whole body as UTF-8. */
export function readText(body: AsyncIterable<Uint8Array | string>): Promise<string> {
  if (body instanceof Readable) return readStream(body);
  return (async () => {
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of body) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    return text + decoder.decode();
  })();
}

function readStream(s: Readable): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    if (s.errored) {
      reject(s.errored);
      return;
    }
    if (s.destroyed || s.readableEnded) {
      reject(Object.assign(new Error('The body was already consumed or destroyed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      return;
    }
    // Fast path: the whole message already arrived (typical for a JSON answer, parsed in the same
    // read as its headers) — take the buffered bytes at once; read() still ends the stream, which
    // hands the socket back to the pool.
    if ((s as IncomingMessage).complete === true && s.readableFlowing !== true && s.readableEncoding === null) {
      const all = s.read() as Buffer | null;
      resolve(all === null ? '' : all.toString('utf8'));
      return;
    }
    const chunks: Buffer[] = [];
    const onData = (c: Buffer | string): void => {
      chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      done();
      reject(s.errored ?? Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    };
    const done = (): void => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('error', onError);
      s.off('close', onClose);
    };
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('error', onError);
    s.on('close', onClose);
  });
}

/** Reads a whole 2xx JSON body; a body that is not JSON is a 502 naming the provider. */
export async function readJson(providerName: string, res: UpstreamResponse, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await readText(res.body);
  } catch (err) {
    throw networkError(providerName, err, signal);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('provider_unavailable', `${providerName} returned a response that is not JSON`, {
      metadata: { provider_name: providerName, raw: text.slice(0, 2000) },
    });
  }
}

export function networkError(providerName: string, err: unknown, signal?: AbortSignal): GatewayError {
  // The request's total deadline (AbortSignal.timeout) is a timeout, not a client hanging up.
  if (signal?.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError') {
    return new GatewayError('timeout', `${providerName} did not finish within the request's total time limit (routing.timeouts.totalMs)`, {
      retryable: false,
      cause: err,
      metadata: { provider_name: providerName, deadline: 'total' },
    });
  }
  if (signal?.aborted) {
    return new GatewayError('timeout', `Request to ${providerName} was cancelled`, {
      status: 499,
      retryable: false,
      cause: err,
      metadata: { provider_name: providerName },
    });
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof UpstreamTimeoutError) {
    // Retryable: before any content the next endpoint takes over.
    return new GatewayError('timeout', `${providerName} did not respond in time: ${err.message}`, {
      cause: err,
      metadata: { provider_name: providerName, deadline: err.phase },
    });
  }
  if (code === 'ETIMEDOUT' || code === 'ERR_SOCKET_CONNECTION_TIMEOUT') {
    return new GatewayError('timeout', `${providerName} did not respond in time`, {
      cause: err,
      metadata: { provider_name: providerName },
    });
  }
  return new GatewayError('provider_unavailable', `Could not reach ${providerName}${codeSuffix(err)}`, {
    cause: err,
    metadata: { provider_name: providerName },
  });
}

/**
 * An upstream's connection lost while its answer was streaming: not "could not reach" (it was
 * reached, and part of the answer may already be with the client). Cancellation and timeouts keep
 * their own types.
 */
export function streamDroppedError(providerName: string, err: unknown, signal: AbortSignal): GatewayError {
  const failure = networkError(providerName, err, signal);
  if (failure.type !== 'provider_unavailable') return failure;
  return new GatewayError('provider_unavailable', `${providerName} closed the connection mid-stream${codeSuffix(err)}`, {
    cause: err,
    metadata: { provider_name: providerName },
  });
}

/** ` (ECONNRESET)`: the socket error's code, when it has one, for a message. */
function codeSuffix(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code ? ` (${code})` : '';
}
