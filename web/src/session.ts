/**
 * Who is signed in. The key lives in sessionStorage only (gone when the tab closes); what kind of
 * key it is comes from GET /key: an inference key, a management key, or the operator's admin key.
 */
import { callApi } from './api.ts';
import type { KeyKind } from './page.ts';

const STORAGE = 'freeway.key';
const ACCOUNT = 'freeway.account';

export interface Session {
  key: string;
  kind: KeyKind;
  isAdmin: boolean;
  label: string;
  /** The key's own account (its workspace); null for the admin, who picks one. */
  account: string | null;
}

interface KeySelf {
  data: { label?: string; name?: string; is_management_key?: boolean; is_admin?: boolean; workspace_id?: string | null };
}

export async function identify(key: string): Promise<Session> {
  const { data } = await callApi<KeySelf>(key, '/key');
  const isAdmin = data.is_admin === true;
  return {
    key,
    kind: data.is_management_key ? 'management' : 'inference',
    isAdmin,
    label: data.name || data.label || (isAdmin ? 'admin' : 'key'),
    account: isAdmin ? null : (data.workspace_id ?? null),
  };
}

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(STORAGE);
    else sessionStorage.setItem(STORAGE, key);
  } catch {
    // Storage refused (private mode): the session lasts as long as the page.
  }
}

/** The account the admin is viewing, kept for the tab like the key. */
export function storedAccount(): string | null {
  try {
    return sessionStorage.getItem(ACCOUNT);
  } catch {
    return null;
  }
}

export function storeAccount(id: string | null): void {
  try {
    if (id === null) sessionStorage.removeItem(ACCOUNT);
    else sessionStorage.setItem(ACCOUNT, id);
  } catch {
    // As storeKey.
  }
}
