/** The Models pages: the catalog (search, filters, sort, paging) and one model's endpoints and code. */
import type { PageModule } from '../page.ts';
import { ModelDetail } from './models/model-detail.tsx';
import { ModelList } from './models/model-list.tsx';
import './models.css';

export const pages: PageModule[] = [
  { path: '/models', title: 'Models', forKinds: ['inference', 'management'], component: ModelList },
  { path: '/models/:author/:slug', title: 'Model', forKinds: ['inference', 'management'], nav: false, component: ModelDetail },
];
