/**
 * One webhook POST, pinned to addresses already checked: the connection goes to those addresses
 * (a custom `lookup`, so no second DNS answer can send it elsewhere) while the Host header and TLS
 * name stay the URL's. Redirects are not followed (a 3xx is an answer like any other), the answer's
 * headers and body are read only up to fixed caps, and the whole exchange ends with the signal.
 */
import type { LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export interface PinnedPost {
  url: URL;
  /** Where to connect: the addresses the URL's host was checked to resolve to. */
  addresses: LookupAddress[];
  headers: Record<string, string>;
  body: string;
  /** Ends the exchange (connect, send, answer): the caller's deadline and shutdown. */
  signal: AbortSignal;
  /** How much of the answer's body is read before the connection is dropped. */
  maxResponseBytes: number;
}

/** The answer's headers are capped too (Node's default, stated): a receiver cannot feed us megabytes. */
const MAX_HEADER_BYTES = 16 * 1024;

function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    // With happy eyeballs (autoSelectFamily) Node asks for every address; otherwise for one.
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
}

/**
 * POSTs once and resolves with the answer's status, after reading at most `maxResponseBytes` of
 * its body (then the connection is dropped: only the status matters). Rejects if no answer came
 * before the signal, or the connection failed.
 */
export function postPinned(p: PinnedPost): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let status: number | undefined;
    const request = p.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(p.url, {
      method: 'POST',
      headers: { ...p.headers, 'content-length': String(Buffer.byteLength(p.body)) },
      lookup: pinnedLookup(p.addresses),
      // A fresh connection each time: a pooled one could have been opened to another address.
      agent: false,
      maxHeaderSize: MAX_HEADER_BYTES,
      signal: p.signal,
    });
    // Once the status is known the delivery's outcome is; whatever ends the body after that ends it.
    const settle = (err: unknown) => (status === undefined ? reject(err) : resolve(status));
    req.on('error', settle);
    req.on('response', (res: IncomingMessage) => {
      status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= p.maxResponseBytes) res.destroy();
      });
      res.on('error', settle);
      res.on('close', () => settle(undefined));
    });
    req.end(p.body);
  });
}
