/**
 * Who a request says it is for, as the generation log keeps it: the end user (`user`), the session
 * (`session_id`, else the `x-session-id` header), the app (`X-OpenRouter-Title`, else the legacy
 * `X-Title`) and its origin (`HTTP-Referer`). Nothing else of the request's headers is kept.
 *
 * Bounds: attribution never fails a request. A value past its bound is kept cut (at a code point);
 * only `session_id` in the body is refused past 256 characters, by the chat and Responses doors'
 * own parsers, as OpenRouter refuses it. (`user` is cut, not refused: the Anthropic door reads it from
 * `metadata.user_id`, whose length clients such as Claude Code choose.)
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { GenerationRecord } from '../store/types.ts';

export type Attribution = Required<Pick<GenerationRecord, 'user' | 'sessionId' | 'appTitle' | 'appReferer'>>;

export const NO_ATTRIBUTION: Attribution = { user: null, sessionId: null, appTitle: null, appReferer: null };

/** Characters kept of each value. */
export const ATTRIBUTION_BOUNDS = { user: 256, sessionId: 256, appTitle: 256, appReferer: 512 } as const;

/** `v` within `max` characters, cut at a code point (never inside a surrogate pair); null when empty. */
function bounded(v: string | null | undefined, max: number): string | null {
  if (!v) return null;
  return v.length <= max ? v : v.slice(0, max).replace(/[\uD800-\uDBFF]$/, '');
}

function header(headers: IncomingHttpHeaders, name: string, max: number): string | null {
  const raw = headers[name];
  return bounded((Array.isArray(raw) ? raw[0] : raw)?.trim(), max);
}

/** The request's attribution, each value within its bound. */
export function attributionOf(headers: IncomingHttpHeaders, body: { user?: string | null; sessionId?: string | null }): Attribution {
  const b = ATTRIBUTION_BOUNDS;
  return {
    user: bounded(body.user, b.user),
    sessionId: bounded(body.sessionId, b.sessionId) ?? header(headers, 'x-session-id', b.sessionId),
    appTitle: header(headers, 'x-openrouter-title', b.appTitle) ?? header(headers, 'x-title', b.appTitle),
    appReferer: header(headers, 'http-referer', b.appReferer),
  };
}
