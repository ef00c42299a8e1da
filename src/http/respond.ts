/**
 * Writing responses: JSON bodies and the error envelope. Every error leaves through sendError.
 */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../spec/errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: GatewayError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...err.headers, ...extraHeaders };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfter)));
  // A client that hung up (499) gets nothing; there is nobody to read it.
  sendJson(res, err.status === 499 ? 400 : err.status, err.toBody(), headers);
}
