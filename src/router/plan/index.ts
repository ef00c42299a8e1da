/**
 * The route planner's public surface: request → needs, `provider` → preferences, and
 * (catalog, refs, needs, preferences, health, sticky) → ordered candidates.
 */
export { planRoute, NO_HEALTH } from './plan.ts';
export { providerMatches } from './filters.ts';
export { pickByInversePriceSquared } from './order.ts';
export type { PlanInput, RoutePlan, RouteHealth } from './plan.ts';
export { needsOf, NO_NEEDS } from './needs.ts';
export type { RouteNeeds } from './needs.ts';
export { parseProviderPreferences, QUANTIZATIONS } from './preferences.ts';
export type { RoutePreferences, Sort } from './preferences.ts';
export { supportedParameters, modelSupportedParameters, parametersOf } from './parameters.ts';
export { stickyKeyOf, hasCacheDiscount } from './sticky.ts';
export { seededRandom } from './random.ts';
