/**
 * Reads a request body with a size cap (413 past it) and parses JSON (400 with the parser's own
 * words, or for JSON nested deeper than anything after the parser can take). Never buffers more
 * than the cap.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../spec/errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../spec/validate.ts';

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    // Compressed bodies are not decoded: said so, rather than a JSON error quoting gzip bytes (or a
    // body labelled gzip that is not, read as if the label were absent).
    req.resume();
    return Promise.reject(
      new GatewayError('invalid_request', `Content-Encoding ${encoding} is not supported; send the request body uncompressed`, {
        status: 415,
        metadata: { content_encoding: encoding },
        retryable: false,
      }),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(new GatewayError('invalid_request', 'Request body could not be read', { cause: err, status: 400 }));
    });
  });
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError('payload_too_large', `Request body exceeds the ${Math.floor(maxBytes / 1024 / 1024)} MiB limit`, {
    metadata: { limit_bytes: maxBytes },
    retryable: false,
  });
}

export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const buf = await readBody(req, maxBytes);
  if (buf.length === 0) throw new GatewayError('invalid_request', 'Request body is empty; expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new GatewayError('invalid_request', `Request body is not valid JSON: ${(err as Error).message}`);
  }
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
    throw new GatewayError('invalid_request', `Request body is nested more than ${MAX_JSON_DEPTH} levels deep`, {
      metadata: { max_depth: MAX_JSON_DEPTH },
    });
  }
  return value;
}
