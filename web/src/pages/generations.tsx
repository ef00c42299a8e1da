/** The Generations page: the generation log with filters and paging, and each generation's detail. */
import type { PageModule } from '../page.ts';
import { GenerationList } from './generations/generation-list.tsx';
import './models.css';
import './generations.css';

export const page: PageModule = {
  path: '/generations',
  title: 'Generations',
  forKinds: ['inference', 'management'],
  component: GenerationList,
};
