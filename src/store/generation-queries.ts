/**
 * SQL for reading the generation log (a page of it, and OpenRouter's daily activity), in the
 * subset both engines speak; each store passes its placeholder style. Newest first in
 * (created_at, id) order, paged by keyset (the last row's pair) rather than offset, so rows
 * written while a client pages never shift a page (see GenerationQuery).
 */
import type { ActivityQuery, GenerationQuery } from './types.ts';

export interface Sql {
  sql: string;
  params: Array<string | number>;
}

/** The WHERE clause of a status: what the record says happened. */
const STATUS: Record<NonNullable<GenerationQuery['status']>, string> = {
  success: 'error IS NULL AND cancelled = 0',
  error: 'error IS NOT NULL',
  cancelled: 'error IS NULL AND cancelled = 1',
};

export function listGenerationsSql(q: GenerationQuery, ph: (i: number) => string): Sql {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const eq = (column: string, v: string | undefined) => {
    if (v === undefined) return;
    params.push(v);
    where.push(`${column} = ${ph(params.length)}`);
  };
  eq('account_id', q.accountId);
  eq('key_hash', q.keyHash);
  eq('model', q.model);
  eq('provider_id', q.providerId);
  eq('app_title', q.appTitle);
  eq('user_id', q.user);
  if (q.status) where.push(STATUS[q.status]);
  if (q.from !== undefined) {
    params.push(q.from);
    where.push(`created_at >= ${ph(params.length)}`);
  }
  if (q.to !== undefined) {
    params.push(q.to);
    where.push(`created_at < ${ph(params.length)}`);
  }
  if (q.before) {
    params.push(q.before.createdAt, q.before.createdAt, q.before.id);
    const n = params.length;
    // Spelled out rather than as a row comparison (which not every planner turns into an index
    // range), with `created_at <=` alone as the bound the index range starts from.
    where.push(`created_at <= ${ph(n - 2)} AND (created_at < ${ph(n - 1)} OR id < ${ph(n)})`);
  }
  params.push(q.limit);
  return {
    sql:
      `SELECT * FROM generations${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ` +
      `ORDER BY created_at DESC, id DESC LIMIT ${ph(params.length)}`,
    params,
  };
}

export function activitySql(q: ActivityQuery, ph: (i: number) => string): Sql {
  const params: Array<string | number> = [q.accountId, q.from, q.to];
  const where = [`account_id = ${ph(1)}`, `created_at >= ${ph(2)}`, `created_at < ${ph(3)}`];
  if (q.keyHash !== undefined) {
    params.push(q.keyHash);
    where.push(`key_hash = ${ph(params.length)}`);
  }
  if (q.user !== undefined) {
    params.push(q.user);
    where.push(`user_id = ${ph(params.length)}`);
  }
  const group = 'substr(created_at, 1, 10), model, provider_id, provider_name, upstream_model';
  return {
    sql:
      `SELECT substr(created_at, 1, 10) AS day, model, provider_id, provider_name, upstream_model, COUNT(*) AS requests, ` +
      `SUM(tokens_prompt) AS tokens_prompt, SUM(tokens_completion) AS tokens_completion, SUM(tokens_reasoning) AS tokens_reasoning, ` +
      `SUM(cost_nanos) AS cost_nanos FROM generations WHERE ${where.join(' AND ')} GROUP BY ${group} ORDER BY ${group}`,
    params,
  };
}
