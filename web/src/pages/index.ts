/**
 * Every page of the dashboard, in navigation order. A module may export `page` (one PageModule)
 * or `pages` (several, e.g. a list and its detail view).
 */
import type { PageModule } from '../page.ts';
import * as activity from './activity.tsx';
import * as compare from './compare.tsx';
import * as credits from './credits.tsx';
import * as generations from './generations.tsx';
import * as keys from './keys.tsx';
import * as models from './models.tsx';

type Mod = { page?: PageModule; pages?: PageModule[] };

function collect(...mods: Mod[]): PageModule[] {
  return mods.flatMap((m) => [...(m.page ? [m.page] : []), ...(m.pages ?? [])]);
}

export const PAGES: PageModule[] = collect(activity, keys, credits, models, generations, compare);
