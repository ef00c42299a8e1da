/**
 * What a slow or greedy client may cost the server: how long it may take to send its headers and
 * its body, how long an idle keep-alive connection stays, how many connections are open at once,
 * and how long a response may wait for a client that reads nothing.
 *
 * node:http enforces the header and request deadlines itself, but only from a periodic check of
 * open connections (`connectionsCheckingInterval`, 30 s by default: a 1 s header deadline would
 * fire after up to 31 s); the check runs every second here. The connection cap and the send
 * deadline are ours: node's own `maxConnections` drops a socket without a word, and node has no
 * send deadline (a client that never reads would hold its unsent answer in memory for ever).
 */
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientLimits } from '../config/client-limits.ts';
import { GatewayError } from '../spec/errors.ts';

/** How long a refused connection may stay open, idle, after its 503. */
const REFUSED_GRACE_MS = 2_000;

/** How often deadlines are checked: they fire at most this late. */
const CHECK_EVERY_MS = 1_000;

/** node:http's options for the deadlines node itself enforces. */
export function serverOptions(limits: ClientLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(CHECK_EVERY_MS, limits.headersTimeoutMs),
  };
}

/** The answer to a client past the connection cap, in the error envelope, before the socket closes. */
function refusal(max: number): string {
  const err = new GatewayError('provider_overloaded', `Freeway is serving its maximum of ${max} connections; try again shortly`, {
    metadata: { max_connections: max },
  });
  const body = JSON.stringify(err.toBody());
  return (
    'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 1\r\ncontent-type: application/json\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Progress of a socket's unsent bytes, for the send deadline. */
interface SendProgress {
  /** Bytes the kernel has taken so far. */
  taken: number;
  /** When `taken` last moved, or bytes started waiting. */
  since: number;
}

/**
 * Gates new connections by the cap and watches every open one for a stalled send. Must be called
 * before the server listens: it wraps node:http's own connection listener.
 */
export function enforceClientLimits(server: Server, limits: ClientLimits): void {
  const open = new Map<Socket, SendProgress | undefined>();
  // node:http handles a connection with one 'connection' listener installed by the constructor;
  // it only sees the sockets admitted here.
  const httpListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const turnedAway = refusal(limits.maxConnections);
  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections) {
      socket.on('error', () => socket.destroy());
      // Whatever the client sends is read and dropped, so the answer is not lost to a reset; a
      // client that keeps the socket open past a short grace is not waited for.
      socket.resume();
      socket.setTimeout(REFUSED_GRACE_MS, () => socket.destroy());
      socket.end(turnedAway);
      return;
    }
    open.set(socket, undefined);
    socket.once('close', () => open.delete(socket));
    for (const l of httpListeners) l.call(server, socket);
  });

  const timer = setInterval(() => {
    const now = performance.now();
    for (const [socket, progress] of open) {
      const waiting = socket.writableLength;
      if (waiting === 0) {
        if (progress) open.set(socket, undefined);
        continue;
      }
      // bytesWritten counts queued bytes too; those still queued are not taken yet.
      const taken = socket.bytesWritten - waiting;
      if (!progress || progress.taken !== taken) open.set(socket, { taken, since: now });
      // A reset, not a close: the kernel drops what is still unsent instead of trying to deliver it.
      else if (now - progress.since >= limits.sendTimeoutMs) socket.resetAndDestroy();
    }
  }, CHECK_EVERY_MS);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}

/** The status and words for a request node:http itself rejects (bad syntax, a missed deadline). */
export function clientErrorResponse(code: string | undefined): string {
  const [status, reason, err] =
    code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', new GatewayError('timeout', 'The request did not arrive in time', { status: 408, retryable: false })]
      : code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', new GatewayError('invalid_request', 'Request headers are too large', { status: 431 })]
        : [400, 'Bad Request', new GatewayError('invalid_request', 'Malformed HTTP request')];
  const body = JSON.stringify(err.toBody());
  return `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
