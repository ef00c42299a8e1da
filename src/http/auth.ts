/**
 * Who is calling: an inference key (from the database, cached) or the management key.
 */
import { noteKey } from '../ops/request-facts.ts';
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { App } from '../app.ts';
import { DEFAULT_ACCOUNT, hashKey } from '../accounting/keys.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import { GatewayError } from '../spec/errors.ts';
import { fail } from '../spec/validate.ts';

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
  if (isExpired(rec)) throw unauthorized(`This API key expired at ${rec.expiresAt}`);
  if (rec.kind !== 'inference') {
    throw new GatewayError('permission_denied', 'Management keys cannot call models', { retryable: false });
  }
  noteKey({ hash: rec.hash, name: rec.name, accountId: rec.accountId });
  return rec;
}

/** Who may manage what: the instance admin (FREEWAY_ADMIN_KEY) any account, a management key its own. */
export interface ManagementScope {
  admin: boolean;
  /** The account a management key belongs to; unset for the admin. */
  accountId?: string;
}

export async function requireManagementKey(app: App, req: IncomingMessage): Promise<ManagementScope> {
  const token = bearerToken(req);
  if (!token) throw unauthorized('Missing Authentication header: send Authorization: Bearer <management key>');
  const hash = hashKey(token);
  if (app.adminKeyHash && timingSafeEqual(Buffer.from(hash, 'hex'), Buffer.from(app.adminKeyHash, 'hex'))) return { admin: true };
  const rec = await app.keys.lookup(hash);
  if (rec && rec.kind === 'management' && !rec.disabled && !isExpired(rec)) return { admin: false, accountId: rec.accountId };
  if (rec && rec.kind === 'inference') {
    throw new GatewayError('permission_denied', 'Inference keys cannot manage keys or credits; use a management key', { retryable: false });
  }
  if (!app.adminKeyHash && !rec) {
    throw new GatewayError(
      'authentication',
      'Invalid management key (set FREEWAY_ADMIN_KEY, or create one with `freeway keys create --management`)',
      {
        retryable: false,
      },
    );
  }
  throw unauthorized('Invalid management key');
}

/** The account a management call acts on: the admin picks any (default `default`), a management key only its own. */
export function accountInScope(scope: ManagementScope, requested: string | null | undefined): string {
  // Empty is a client's slip (an unset variable), not a choice of the default account: taken as
  // one, a top-up or a new key would land silently in the wrong account.
  if (requested === '') fail('account', 'must not be empty (leave it out for the default account)');
  if (scope.admin) return requested ?? DEFAULT_ACCOUNT;
  if (requested && requested !== scope.accountId) {
    throw new GatewayError('permission_denied', `This management key cannot act on account ${requested}`, { retryable: false });
  }
  return scope.accountId!;
}

export function isExpired(rec: ApiKeyRecord, now = Date.now()): boolean {
  return rec.expiresAt !== null && Date.parse(rec.expiresAt) <= now;
}
