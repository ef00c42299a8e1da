/**
 * The contract between the dashboard's shell and its pages. A page is a module that exports a
 * PageModule; the shell signs in, builds the PageContext and mounts the page matching the URL.
 * Pages reach Freeway only through ctx (the public and management APIs, like any other client).
 */
import type { JSX } from 'preact';

export type KeyKind = 'inference' | 'management';

/** A non-2xx answer from the API: the status and the message from the error envelope. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | number | undefined;
  constructor(status: number, message: string, code?: string | number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface PageContext {
  /** fetch against the API (paths like '/models', prefixed with /api/v1) with the signed-in key; throws ApiError on non-2xx */
  api<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  /** raw fetch with auth (for streaming); the same /api/v1 prefixing, no status check */
  fetchRaw(path: string, init?: RequestInit): Promise<Response>;
  key: { kind: KeyKind; isAdmin: boolean; label: string };
  /** the account id being viewed (admin can switch); null for an inference key or when not known */
  accountId: string | null;
  navigate(path: string): void;
}

export interface PageModule {
  /** the route, e.g. '/models' or '/models/:author/:slug' (":name" segments become params) */
  path: string;
  title: string;
  /** which key kinds see this page in the navigation and may open it */
  forKinds: Array<KeyKind>;
  /** false: a sub-page (e.g. a model's detail) that is routed but not listed in the navigation */
  nav?: boolean;
  component: (props: { ctx: PageContext; params: Record<string, string> }) => JSX.Element;
}
