/** Credits (being written). */
import type { PageModule } from '../page.ts';

export const page: PageModule = {
  path: '/credits',
  title: 'Credits',
  forKinds: ['inference', 'management'],
  component: () => <p class="empty">Credits</p>,
};
