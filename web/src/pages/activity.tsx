/** Activity (being written). */
import type { PageModule } from '../page.ts';

export const page: PageModule = {
  path: '/activity',
  title: 'Activity',
  forKinds: ['inference', 'management'],
  component: () => <p class="empty">Activity</p>,
};
