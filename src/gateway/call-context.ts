/**
 * The life of one upstream call: it ends when the client goes away, or at the request's total time
 * limit; each attempt also has a first-token and an idle deadline.
 */
import type { App } from '../app.ts';
import type { RouteContext } from '../http/server.ts';
import type { CallContext } from '../providers/types.ts';

const totalTimers = new WeakMap<AbortController, NodeJS.Timeout>();

/** An AbortController that fires when the client goes away before the response is complete. */
export function clientAbort(ctx: RouteContext): AbortController {
  const abort = new AbortController();
  ctx.res.on('close', () => {
    const timer = totalTimers.get(abort);
    if (timer) clearTimeout(timer);
    if (!ctx.res.writableFinished) abort.abort();
  });
  return abort;
}

/**
 * The call's deadlines. The total limit aborts the same controller with a TimeoutError (which
 * becomes a 504), and its one timer is cleared as soon as the response closes, so a busy gateway
 * holds no timers for finished requests.
 */
export function callContext(app: App, abort: AbortController): CallContext {
  const t = app.settings.routing.timeouts;
  const timer = setTimeout(() => abort.abort(new DOMException('The request exceeded its total time limit', 'TimeoutError')), t.totalMs);
  timer.unref();
  totalTimers.set(abort, timer);
  return { signal: abort.signal, timeouts: { firstByteMs: t.firstTokenMs, idleMs: t.idleMs } };
}
