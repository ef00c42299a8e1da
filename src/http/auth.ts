/**
 * Who is calling: an inference key (from the database, cached) or the management key.
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { App } from '../app.ts';
import { hashKey } from '../accounting/keys.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import { GatewayError } from '../spec/errors.ts';

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    if (m) return m[1].trim();
  }
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x.length > 0 ? x.trim() : undefined;
}

const unauthorized = (message: string) => new GatewayError('authentication', message, { retryable: false });

/** The calling inference key, or a 401 that says what is wrong. */
export async function requireInferenceKey(app: App, req: IncomingMessage): Promise<ApiKeyRecord> {
  const token = bearerToken(req);
  if (!token) throw unauthorized('Missing Authentication header: send Authorization: Bearer <your Freeway API key>');
  const hash = hashKey(token);
  if (app.adminKeyHash && hash === app.adminKeyHash) {
    throw new GatewayError('permission_denied', 'The management key cannot call models; create an inference key with POST /api/v1/keys', {
      retryable: false,
    });
  }
  const rec = await app.keys.lookup(hash);
  if (!rec) throw unauthorized('Invalid API key');
  if (rec.disabled) throw unauthorized('This API key is disabled');
  if (rec.kind !== 'inference') {
    throw new GatewayError('permission_denied', 'Management keys cannot call models', { retryable: false });
  }
  return rec;
}

export function requireManagementKey(app: App, req: IncomingMessage): void {
  const token = bearerToken(req);
  if (!token) throw unauthorized('Missing Authentication header: send Authorization: Bearer <management key>');
  if (!app.adminKeyHash) {
    throw new GatewayError('permission_denied', 'Key management is disabled: set FREEWAY_ADMIN_KEY to enable it', { retryable: false });
  }
  const given = Buffer.from(hashKey(token), 'hex');
  const expected = Buffer.from(app.adminKeyHash, 'hex');
  if (!timingSafeEqual(given, expected)) throw unauthorized('Invalid management key');
}
