/** Keys (being written). */
import type { PageModule } from '../page.ts';

export const page: PageModule = {
  path: '/keys',
  title: 'Keys',
  forKinds: ['inference', 'management'],
  component: () => <p class="empty">Keys</p>,
};
