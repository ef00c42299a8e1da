/**
 * `GET /providers`: the providers Freeway routes to, in OpenRouter's shape, each with how many
 * models it serves and how it is doing. Public, like the catalog it is read from. Freeway keeps no
 * policy or status pages for them: those links are null.
 *
 * `status` (a Freeway field; OpenRouter's SDK ignores it) sums up the circuits of the provider's
 * endpoints: `operational` when none is open, `degraded` when some are, `down` when all are.
 * `model_count` counts the models `/models?output_modalities=all` lists that it serves.
 */
import { servable } from '../doors/openai/model-query.ts';
import type { ProviderInstance } from '../providers/types.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import { invalidRequest } from '../spec/errors.ts';
import { sendJson } from './respond.ts';
import type { RouteContext } from './server.ts';

interface Tally {
  provider: ProviderInstance;
  models: Set<string>;
  endpoints: number;
  open: number;
}

export async function handleProviders(ctx: RouteContext): Promise<void> {
  const unknown = [...ctx.url.searchParams.keys()][0];
  if (unknown !== undefined) throw invalidRequest(`${unknown}: unknown query parameter`, { param: unknown });
  const { app } = ctx;
  const tallies = new Map<string, Tally>();
  // Every live provider is listed, also one whose models are all unpriced (count 0).
  for (const p of app.settings.providers) tallies.set(p.id, { provider: p, models: new Set(), endpoints: 0, open: 0 });
  for (const m of app.catalog.all()) {
    const listed = servable(m);
    for (const e of m.endpoints) {
      let t = tallies.get(e.provider.id);
      if (!t) tallies.set(e.provider.id, (t = { provider: e.provider, models: new Set(), endpoints: 0, open: 0 }));
      if (e.unpriced) continue;
      if (listed) t.models.add(m.id);
      t.endpoints++;
      if (app.health.circuit(endpointKey(e)) === 'open') t.open++;
    }
  }
  const data = [...tallies.values()]
    .sort((a, b) => a.provider.id.localeCompare(b.provider.id))
    .map((t) => ({
      name: t.provider.name,
      slug: t.provider.id,
      privacy_policy_url: null,
      terms_of_service_url: null,
      status_page_url: null,
      status: t.open === 0 ? 'operational' : t.open < t.endpoints ? 'degraded' : 'down',
      model_count: t.models.size,
    }));
  sendJson(ctx.res, 200, { data });
}
