/**
 * The life of one request's upstream calls: they end when the client goes away, or at the
 * request's total deadline; each attempt also has connect, first-token and idle deadlines
 * (providers/deadlines.ts, where the whole model is described).
 */
import type { App } from '../app.ts';
import type { RouteContext } from '../http/server.ts';
import { StreamWatch } from '../providers/deadlines.ts';
import type { CallContext } from '../providers/types.ts';

const totalTimers = new WeakMap<AbortController, NodeJS.Timeout>();

/** The abort reason of the total deadline. */
const TOTAL = 'TimeoutError';

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
 * becomes a 504, or the door's in-band error once the answer has started), and its one timer is
 * cleared as soon as the response closes, so a busy gateway holds no timers for finished requests.
 */
export function callContext(app: App, abort: AbortController): CallContext {
  const t = app.settings.routing.timeouts;
  const timer = setTimeout(() => abort.abort(new DOMException('The request exceeded its total time limit', TOTAL)), t.totalMs);
  timer.unref();
  totalTimers.set(abort, timer);
  return {
    signal: abort.signal,
    timeouts: { connectMs: t.connectMs, firstTokenMs: t.firstTokenMs, idleMs: t.idleMs },
    watch: new StreamWatch(),
  };
}

/** Whether the request's total deadline ended it (rather than the client going away). */
export function pastTotalDeadline(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: unknown } | undefined)?.name === TOTAL;
}

/** Whether the client went away: nobody is left to tell anything. */
export function clientGone(signal: AbortSignal): boolean {
  return signal.aborted && !pastTotalDeadline(signal);
}
