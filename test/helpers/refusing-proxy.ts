/**
 * An HTTP(S) proxy on loopback that refuses everything (403, CONNECT included) and records where it
 * was asked to go: a CLI under test is given it for every host but loopback, so anything it tries to
 * reach beyond Freeway shows up in `outbound` instead of leaving the machine.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RefusingProxy {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY / HTTP_PROXY / ALL_PROXY. */
  url: string;
  /** `METHOD url` of plain requests, `CONNECT host:port` of tunnels, in order. */
  outbound: string[];
  close(): Promise<void>;
}

export async function startRefusingProxy(): Promise<RefusingProxy> {
  const outbound: string[] = [];
  const server = createServer((req, res) => {
    outbound.push(`${req.method} ${req.url}`);
    res.writeHead(403).end();
  });
  server.on('connect', (req, socket) => {
    outbound.push(`CONNECT ${req.url}`);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    outbound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
