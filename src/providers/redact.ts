/**
 * Keeps provider credentials out of anything a client or a log can see, even when an upstream
 * echoes the key back in its error body.
 */
import { GatewayError } from '../spec/errors.ts';

/** The same error with every occurrence of `secret` replaced; untouched when it has none. */
export function redactSecret<T>(err: T, secret: string | undefined): T | GatewayError {
  if (!(err instanceof GatewayError) || !secret || secret.length < 4) return err;
  const metadata = JSON.stringify(err.metadata);
  if (!err.message.includes(secret) && !metadata.includes(secret)) return err;
  const hide = (s: string): string => s.split(secret).join('[REDACTED]');
  return new GatewayError(err.type, hide(err.message), {
    status: err.status,
    retryable: err.retryable,
    retryAfter: err.retryAfter,
    headers: err.headers,
    metadata: JSON.parse(hide(metadata)) as Record<string, unknown>,
  });
}
