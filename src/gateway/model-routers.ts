/**
 * Where a request names a model router (`openrouter/auto`, `freeway/auto`, `openrouter/free`), the
 * router's choice replaces it in the request's model list before routing (router/auto.ts), so the
 * planner, fallbacks, billing and the answer all see a real model: the answer's `model` and the
 * generation record name the model that served.
 *
 * A router's choice is sticky per conversation (the same conversation key as endpoint stickiness,
 * router/plan/sticky.ts, scoped to the router), for `routing.stickyMinutes`.
 */
import type { App } from '../app.ts';
import { chooseModels, routerOf } from '../router/auto.ts';
import type { RouteNeeds, RoutePreferences } from '../router/plan/index.ts';
import { stickyKeyOf } from '../router/plan/index.ts';
import type { ChatRequest } from '../spec/request.ts';

export interface RoutedRefs {
  refs: string[];
  /** The name each ref's answer carries (a router's picks carry their own ids). */
  asked: string[];
  /** Tells the routers which model served, so the conversation's next turn goes back to it. */
  served: (modelId: string) => void;
  /** The router the request named (the first, when it named several), for the generation record. */
  router?: string;
}

export function applyModelRouters(
  app: App,
  keyHash: string,
  request: ChatRequest,
  r: { refs: readonly string[]; asked?: readonly string[]; preferences: RoutePreferences; sessionId?: string },
  needs: RouteNeeds,
): RoutedRefs {
  const refs: string[] = [];
  const asked: string[] = [];
  const picks: Array<{ stickyKey?: string; chosen: ReadonlySet<string> }> = [];
  let named: string | undefined;
  r.refs.forEach((ref, i) => {
    const router = routerOf(ref);
    if (!router) {
      refs.push(ref);
      asked.push(r.asked?.[i] ?? ref);
      return;
    }
    named ??= ref;
    const stickyKey = app.settings.routing.stickyMs > 0 ? stickyKeyOf(keyHash, `router:${router}`, request, r.sessionId) : undefined;
    const chosen = chooseModels({
      catalog: app.catalog,
      router,
      needs,
      prefs: r.preferences,
      health: app.health,
      markupBp: app.billing.settings.markupBp,
      ...(app.settings.routing.auto ? { policy: app.settings.routing.auto } : {}),
      ...(stickyKey !== undefined ? { sticky: app.sticky.get(stickyKey) } : {}),
    });
    for (const id of chosen) {
      if (refs.includes(id)) continue;
      refs.push(id);
      asked.push(id);
    }
    picks.push({ stickyKey, chosen: new Set(chosen) });
  });
  return {
    refs,
    asked,
    ...(named !== undefined ? { router: named } : {}),
    served: (modelId) => {
      for (const p of picks) if (p.stickyKey !== undefined && p.chosen.has(modelId)) app.sticky.set(p.stickyKey, modelId);
    },
  };
}
