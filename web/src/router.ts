/** Page routes: '/models/:author/:slug' patterns against location.pathname, and history navigation. */
import type { PageModule } from './page.ts';

export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) {
      try {
        params[a[i].slice(1)] = decodeURIComponent(b[i]);
      } catch {
        return null;
      }
    } else if (a[i] !== b[i]) return null;
  }
  return params;
}

export function findPage(pages: readonly PageModule[], path: string): { page: PageModule; params: Record<string, string> } | null {
  for (const page of pages) {
    const params = matchRoute(page.path, path);
    if (params) return { page, params };
  }
  return null;
}
