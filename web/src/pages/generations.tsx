/** Placeholder: the Generations page is written on the dashpages branch. */
import type { PageModule } from '../page.ts';

export const page: PageModule = {
  path: '/generations',
  title: 'Generations',
  forKinds: ['inference', 'management'],
  component: () => <p class="empty">Generations: coming soon.</p>,
};
