/** Loading, error and empty states, the same on every page. */
import type { ComponentChildren } from 'preact';
import { ApiError } from '../page.ts';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  const msg =
    error instanceof ApiError ? `${error.status ? `${error.status}: ` : ''}${error.message}` : String((error as Error)?.message ?? error);
  return (
    <p class="error" role="alert">
      {msg}
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p>
        <strong>{title}</strong>
      </p>
      {children}
    </div>
  );
}
