/**
 * `GET /providers`: the providers Freeway routes to, in OpenRouter's shape. Public, like the
 * catalog it is read from. Freeway keeps no policy or status pages for them: those links are null.
 */
import type { ProviderInstance } from '../providers/types.ts';
import { sendJson } from './respond.ts';
import type { RouteContext } from './server.ts';

export async function handleProviders(ctx: RouteContext): Promise<void> {
  const seen = new Map<string, ProviderInstance>();
  for (const m of ctx.app.catalog.all()) for (const e of m.endpoints) if (!seen.has(e.provider.id)) seen.set(e.provider.id, e.provider);
  const data = [...seen.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((p) => ({ name: p.name, slug: p.id, privacy_policy_url: null, terms_of_service_url: null, status_page_url: null }));
  sendJson(ctx.res, 200, { data });
}
