/**
 * Management API for keys (OpenRouter's provisioning shape). Needs the management key.
 */
import { createKey } from '../accounting/keys.ts';
import { nanosToUsd, parseScaledDecimal } from '../accounting/money.ts';
import { requireManagementKey } from './auth.ts';
import { readJson } from './body.ts';
import { sendJson } from './respond.ts';
import type { RouteContext } from './server.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import { fail, obj, str } from '../doors/validate.ts';

export function renderKey(k: ApiKeyRecord): Record<string, unknown> {
  return {
    hash: k.hash,
    name: k.name,
    label: k.label,
    disabled: k.disabled,
    limit: k.limitNanos === null ? null : nanosToUsd(k.limitNanos),
    usage: 0,
    created_at: k.createdAt,
    updated_at: null,
  };
}

export async function handleCreateKey(ctx: RouteContext): Promise<void> {
  requireManagementKey(ctx.app, ctx.req);
  const body = obj(await readJson(ctx.req, 64 * 1024), 'body');
  const name = str(body.name, 'name').trim();
  if (name.length === 0 || name.length > 200) fail('name', 'must be 1-200 characters');
  let limitNanos: number | null = null;
  if (body.limit !== undefined && body.limit !== null) {
    if (typeof body.limit !== 'number' || !Number.isFinite(body.limit) || body.limit < 0) fail('limit', 'must be a non-negative number of USD');
    limitNanos = Number(parseScaledDecimal(body.limit, 9));
  }
  const { key, record } = await createKey(ctx.app.store, { name, kind: 'inference', limitNanos });
  sendJson(ctx.res, 201, { key, data: renderKey(record) });
}
