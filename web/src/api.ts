/**
 * The dashboard's one way to the API: the signed-in key as a bearer token, paths under /api/v1,
 * errors from the envelope as ApiError.
 */
import { ApiError } from './page.ts';

export const API_ROOT = '/api/v1';

export function apiUrl(path: string): string {
  return path.startsWith('/api/') || path.startsWith('/v1/') ? path : API_ROOT + (path.startsWith('/') ? path : `/${path}`);
}

export function fetchWithKey(key: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return fetch(apiUrl(path), { ...init, headers });
}

export async function callApi<T>(key: string, path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetchWithKey(key, path, init);
  } catch (err) {
    throw new ApiError(0, `Freeway did not answer (${(err as Error).message})`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the status says enough.
  }
  if (!res.ok) {
    const e = (body as { error?: { message?: string; code?: string | number } } | undefined)?.error;
    throw new ApiError(res.status, e?.message ?? `${res.status} ${res.statusText}`, e?.code);
  }
  return body as T;
}
