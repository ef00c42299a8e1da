/**
 * Who a request says it is for, as the generation log keeps it: the end user (`user`), the session
 * (`session_id`, else the `x-session-id` header), the app (`X-OpenRouter-Title`, else the legacy
 * `X-Title`) and its origin (`HTTP-Referer`). Nothing else of the request's headers is kept.
 *
 * Bounds: body fields are the client's own data, so one past its bound is a 400 (as OpenRouter
 * refuses a `session_id` over 256 characters); headers are attribution an HTTP library or proxy
 * may set, so one past its bound is kept truncated and the request goes on.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { invalidRequest } from '../spec/errors.ts';
import type { GenerationRecord } from '../store/types.ts';

export type Attribution = Required<Pick<GenerationRecord, 'user' | 'sessionId' | 'appTitle' | 'appReferer'>>;

export const NO_ATTRIBUTION: Attribution = { user: null, sessionId: null, appTitle: null, appReferer: null };

/** Characters kept of each value. */
export const ATTRIBUTION_BOUNDS = { user: 256, sessionId: 256, appTitle: 256, appReferer: 512 } as const;

function header(headers: IncomingHttpHeaders, name: string, max: number): string | null {
  const raw = headers[name];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!v) return null;
  // Cut at a code point, never inside a surrogate pair.
  return v.length <= max ? v : v.slice(0, max).replace(/[\uD800-\uDBFF]$/, '');
}

function field(v: string | undefined, param: string, max: number): string | null {
  if (v === undefined || v === '') return null;
  if (v.length > max) throw invalidRequest(`${param}: must be at most ${max} characters`, { param });
  return v;
}

/** The request's attribution; a `user` or `session_id` past its bound is a 400. */
export function attributionOf(headers: IncomingHttpHeaders, body: { user?: string | null; sessionId?: string | null }): Attribution {
  const b = ATTRIBUTION_BOUNDS;
  return {
    user: field(body.user ?? undefined, 'user', b.user),
    sessionId: field(body.sessionId ?? undefined, 'session_id', b.sessionId) ?? header(headers, 'x-session-id', b.sessionId),
    appTitle: header(headers, 'x-openrouter-title', b.appTitle) ?? header(headers, 'x-title', b.appTitle),
    appReferer: header(headers, 'http-referer', b.appReferer),
  };
}
