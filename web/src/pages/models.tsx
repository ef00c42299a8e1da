/** Placeholder: the Models page is written on the dashpages branch. */
import type { PageModule } from '../page.ts';

export const page: PageModule = {
  path: '/models',
  title: 'Models',
  forKinds: ['inference', 'management'],
  component: () => <p class="empty">Models: coming soon.</p>,
};
