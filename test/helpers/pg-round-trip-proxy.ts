/**
 * A TCP proxy of the test's own between Freeway and the real PostgreSQL that counts round trips:
 * it forwards every byte unchanged, and reads the wire protocol on the side to see each
 * *flight* — what the client sends from the moment it has nothing outstanding until the server
 * answers ReadyForQuery ('Z'). node-postgres sends the next query of a connection only after the
 * last one's ReadyForQuery, so a flight is exactly one round trip: a simple query ('Q', one or many
 * statements, pg-batch.ts) or an extended one (Parse/Bind/Describe/Execute/Sync, one write).
 * A connection's start-up (StartupMessage and any authentication, up to its first 'Z') is one
 * flight of kind 'connect'.
 *
 * Each flight records the query text the client sent ('Q' or 'P'), so a test can say which
 * statements it counted.
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export interface Flight {
  /** Which of the proxy's connections (numbered from 1 in the order they were accepted). */
  connection: number;
  kind: 'connect' | 'query';
  /** The SQL text of each 'Q' or 'P' message in the flight, whitespace collapsed. */
  sql: string[];
  /** The message types the client sent, e.g. 'Q' or 'PBDES'. */
  messages: string;
  /** The server has answered it (ReadyForQuery). */
  done: boolean;
}

export interface RoundTripProxy {
  readonly port: number;
  /** Every flight so far, in the order they started. */
  readonly flights: readonly Flight[];
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Resolves once no flight is open and none started for `quietMs` (or after `maxMs`). */
  idle(quietMs?: number, maxMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Untyped first messages (their int32 code where a typed message has its type byte). */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** A one-line description of a flight, for assertion messages. */
export function describeFlight(f: Flight): string {
  if (f.kind === 'connect') return `#${f.connection} connect (start-up and authentication)`;
  const text = f.sql.length ? f.sql.map((s) => (s.length > 160 ? `${s.slice(0, 160)}…` : s)).join(' | ') : '(no query text)';
  return `#${f.connection} [${f.messages}] ${text}`;
}

const cstring = (buf: Buffer, from: number): { text: string; end: number } => {
  const end = buf.indexOf(0, from);
  return { text: buf.toString('utf8', from, end < 0 ? buf.length : end), end: end < 0 ? buf.length : end + 1 };
};

export async function startRoundTripProxy(target: { host: string; port: number }): Promise<RoundTripProxy> {
  const flights: Flight[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let lastStart = 0;

  const server: Server = createServer((client) => {
    const id = ++connections;
    const upstream = connect(target);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      if (open) open.done = true;
      open = undefined;
    };
    client.on('error', drop);
    client.on('close', drop);
    upstream.on('error', drop);
    upstream.on('close', drop);

    let open: Flight | undefined;
    let started = false;
    /** The server answers an SSL or GSSAPI request with one untyped byte. */
    let rawByteExpected = false;
    let fromClient = Buffer.alloc(0);
    let fromServer = Buffer.alloc(0);

    const flight = (kind: Flight['kind']): Flight => {
      if (!open) {
        open = { connection: id, kind, sql: [], messages: '', done: false };
        flights.push(open);
        lastStart = performance.now();
      }
      return open;
    };

    client.on('data', (chunk: Buffer) => {
      fromClient = Buffer.concat([fromClient, chunk]);
      for (;;) {
        if (!started) {
          if (fromClient.length < 8) break;
          const len = fromClient.readInt32BE(0);
          if (fromClient.length < len) break;
          const code = fromClient.readInt32BE(4);
          fromClient = fromClient.subarray(len);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) rawByteExpected = true;
          else if (code === CANCEL_REQUEST) flight('connect').messages += 'cancel';
          else {
            started = true;
            flight('connect').messages += 'startup';
          }
          continue;
        }
        if (fromClient.length < 5) break;
        const len = fromClient.readInt32BE(1);
        if (fromClient.length < 1 + len) break;
        const type = String.fromCharCode(fromClient[0]);
        const body = fromClient.subarray(5, 1 + len);
        fromClient = fromClient.subarray(1 + len);
        // Terminate is answered by nothing: not a round trip.
        if (type === 'X') continue;
        const f = flight('query');
        f.messages += type;
        if (type === 'Q') f.sql.push(cstring(body, 0).text.replace(/\s+/g, ' ').trim());
        else if (type === 'P') f.sql.push(cstring(body, cstring(body, 0).end).text.replace(/\s+/g, ' ').trim());
      }
      upstream.write(chunk);
    });

    upstream.on('data', (chunk: Buffer) => {
      fromServer = Buffer.concat([fromServer, chunk]);
      if (rawByteExpected && fromServer.length > 0) {
        rawByteExpected = false;
        fromServer = fromServer.subarray(1);
      }
      for (;;) {
        if (fromServer.length < 5) break;
        const len = fromServer.readInt32BE(1);
        if (fromServer.length < 1 + len) break;
        const type = String.fromCharCode(fromServer[0]);
        fromServer = fromServer.subarray(1 + len);
        if (type === 'Z' && open) {
          open.done = true;
          open = undefined;
        }
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    flights,
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async idle(quietMs = 50, maxMs = 2_000) {
      const deadline = performance.now() + maxMs;
      while (performance.now() < deadline) {
        if (flights.every((f) => f.done) && performance.now() - lastStart >= quietMs) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closing;
    },
  };
}
