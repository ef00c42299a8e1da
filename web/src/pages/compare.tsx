/** The Compare page (playground): one prompt to up to six models, streamed side by side with timings and cost. */
import type { PageModule } from '../page.ts';
import { ComparePage } from './compare/compare-page.tsx';
import './models.css';
import './compare.css';

// Management keys cannot call models, so the playground is an inference key's page.
export const page: PageModule = { path: '/compare', title: 'Compare', forKinds: ['inference'], component: ComparePage };
