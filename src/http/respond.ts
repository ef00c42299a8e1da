/**
 * Writing responses: JSON bodies and the error envelope. Every error leaves through sendError.
 */
import { noteError } from '../ops/request-facts.ts';
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../spec/errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  endBody(res, text);
}

/** Bodies past this size leave in slices of it. */
const SLICE_BYTES = 64 * 1024;

/**
 * Ends a response with a whole body. A large one leaves a slice at a time, each once the client
 * has taken the one before ('drain'): one copy of it waits in memory rather than several, and the
 * send deadline (client-limits.ts) sees a slow reader's progress slice by slice.
 */
export function endBody(res: ServerResponse, text: string): void {
  if (text.length <= SLICE_BYTES) {
    res.end(text);
    return;
  }
  const body = Buffer.from(text);
  let at = 0;
  const next = (): void => {
    while (!res.destroyed) {
      const slice = body.subarray(at, (at += SLICE_BYTES));
      if (at >= body.length) {
        res.end(slice);
        return;
      }
      if (!res.write(slice)) {
        res.once('drain', next);
        return;
      }
    }
  };
  next();
}

export function sendError(res: ServerResponse, err: GatewayError, extraHeaders: Record<string, string> = {}): void {
  noteError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...err.headers, ...extraHeaders };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfter)));
  // A client that hung up (499) gets nothing; there is nobody to read it.
  sendJson(res, err.status === 499 ? 400 : err.status, err.toBody(), headers);
}
