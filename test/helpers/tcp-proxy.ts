/**
 * A TCP proxy of the test's own between Freeway and a real server (PostgreSQL, Redis), to
 * simulate that server's outage without touching it (the servers are shared):
 * - `cut('refuse')`: every connection is destroyed and the port stops accepting (ECONNREFUSED);
 * - `cut('blackhole')`: connections stay open and new ones are accepted, but nothing is forwarded
 *   either way (a silent outage: a partition, a frozen server);
 * - `restore()`: forwarding resumes; blackholed connections are reset, as a partition that ends
 *   by timing them out would.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted since start. */
  readonly connections: number;
  /** Bytes clients sent that were dropped by a blackhole. */
  readonly droppedBytes: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  cut(mode: CutMode): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'forward' | CutMode = 'forward';
  let connections = 0;
  let droppedBytes = 0;
  const pairs = new Set<Pair>();
  const blackholed = new Set<Pair>();

  const drop = (p: Pair) => {
    pairs.delete(p);
    blackholed.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  };
  const swallow = (p: Pair) => {
    p.client.unpipe();
    p.upstream?.unpipe();
    p.client.removeAllListeners('data');
    p.upstream?.removeAllListeners('data');
    p.client.on('data', (d: Buffer) => (droppedBytes += d.length));
    p.upstream?.on('data', () => {});
    blackholed.add(p);
  };

  const server: Server = createServer((client) => {
    connections++;
    const p: Pair = { client };
    pairs.add(p);
    client.on('error', () => drop(p));
    client.on('close', () => drop(p));
    if (mode !== 'forward') {
      swallow(p);
      return;
    }
    const upstream = connect(target);
    p.upstream = upstream;
    upstream.on('error', () => drop(p));
    upstream.on('close', () => drop(p));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

  return {
    port,
    get connections() {
      return connections;
    },
    get droppedBytes() {
      return droppedBytes;
    },
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async cut(m: CutMode) {
      mode = m;
      if (m === 'refuse') {
        const closing = stopListening();
        for (const p of [...pairs]) drop(p);
        await closing;
      } else {
        for (const p of pairs) swallow(p);
      }
    },
    async restore() {
      const was = mode;
      mode = 'forward';
      for (const p of [...blackholed]) drop(p);
      if (was === 'refuse') await listen();
    },
    async close() {
      mode = 'refuse';
      const closing = stopListening();
      for (const p of [...pairs]) drop(p);
      await closing;
    },
  };
}
