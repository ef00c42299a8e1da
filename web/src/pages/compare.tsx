/** Placeholder: the Compare page is written on the dashpages branch. */
import type { PageModule } from '../page.ts';

export const page: PageModule = {
  path: '/compare',
  title: 'Compare',
  forKinds: ['inference', 'management'],
  component: () => <p class="empty">Compare: coming soon.</p>,
};
