/**
 * The dashboard's shell: sign in, then a header with the pages this key may open (and, for the
 * operator's admin key, the account being viewed), and the page matching the URL.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { callApi, fetchWithKey } from './api.ts';
import { ApiError } from './page.ts';
import type { PageContext } from './page.ts';
import { PAGES } from './pages/index.ts';
import { findPage } from './router.ts';
import { identify, storeAccount, storedAccount, storedKey, storeKey } from './session.ts';
import type { Session } from './session.ts';
import { SignIn } from './sign-in.tsx';
import { AccountPicker } from './account-picker.tsx';
import './styles.css';

function usePath(): [string, (p: string) => void] {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => setPath(location.pathname + location.search);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  const navigate = (p: string) => {
    if (p === location.pathname + location.search) return;
    history.pushState(null, '', p);
    setPath(p);
    scrollTo(0, 0);
    // A screen reader or keyboard user lands on the new page's content, as after a full load.
    requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }));
  };
  return [path, navigate];
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  /** Why the last session ended, shown on the sign-in form. */
  const [ended, setEnded] = useState<string | null>(null);
  const [checking, setChecking] = useState(() => storedKey() !== null);
  const [account, setAccount] = useState<string | null>(null);
  const [path, navigate] = usePath();

  useEffect(() => {
    const key = storedKey();
    if (key === null) return;
    identify(key).then(
      (s) => {
        setSession(s);
        setAccount(s.account ?? (s.isAdmin ? (storedAccount() ?? 'default') : null));
        setChecking(false);
      },
      () => {
        storeKey(null);
        setChecking(false);
      },
    );
  }, []);

  const ctx = useMemo<PageContext | null>(() => {
    if (!session) return null;
    return {
      api: async <T,>(p: string, init?: RequestInit) => {
        try {
          return await callApi<T>(session.key, p, init);
        } catch (err) {
          // The key was disabled, deleted or expired meanwhile: back to the sign-in form, saying so.
          if (err instanceof ApiError && err.status === 401) {
            storeKey(null);
            setEnded(`Signed out: ${err.message}.`);
            setSession(null);
          }
          throw err;
        }
      },
      fetchRaw: (p: string, init?: RequestInit) => fetchWithKey(session.key, p, init),
      key: { kind: session.kind, isAdmin: session.isAdmin, label: session.label },
      accountId: session.kind === 'management' ? account : null,
      navigate,
    };
  }, [session, account]);

  if (checking) return <p class="muted center">Signing in…</p>;
  if (!session || !ctx) {
    return (
      <SignIn
        notice={ended}
        onSignedIn={(s) => {
          setEnded(null);
          storeKey(s.key);
          setSession(s);
          setAccount(s.account ?? (s.isAdmin ? 'default' : null));
        }}
      />
    );
  }

  const visible = PAGES.filter((p) => p.forKinds.includes(session.kind));
  const pathname = path.split('?')[0];
  const home = visible.find((p) => p.nav !== false)?.path ?? '/';
  const found = pathname === '/' ? findPage(visible, home) : findPage(visible, pathname);
  const Page = found?.page.component;

  return (
    <div class="layout">
      <Title text={found ? found.page.title : 'Not found'} />
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a
          class="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate('/');
          }}
        >
          Freeway
        </a>
        <nav aria-label="Pages">
          <ul>
            {visible
              .filter((p) => p.nav !== false)
              .map((p) => {
                const current = found?.page.path === p.path || found?.page.path.startsWith(p.path + '/');
                return (
                  <li key={p.path}>
                    <a
                      href={p.path}
                      aria-current={current ? 'page' : undefined}
                      onClick={(e) => {
                        e.preventDefault();
                        navigate(p.path);
                      }}
                    >
                      {p.title}
                    </a>
                  </li>
                );
              })}
          </ul>
        </nav>
        <div class="who">
          {session.isAdmin && (
            <AccountPicker
              ctx={ctx}
              value={account ?? 'default'}
              onChange={(id) => {
                storeAccount(id);
                setAccount(id);
              }}
            />
          )}
          <span class="badge" title="The signed-in key">
            {session.isAdmin ? 'admin' : session.kind === 'management' ? `management · ${session.label}` : session.label}
          </span>
          <button
            type="button"
            class="link"
            onClick={() => {
              storeKey(null);
              storeAccount(null);
              setSession(null);
              navigate('/');
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {Page ? (
          <Page key={`${found!.page.path}|${ctx.accountId ?? ''}`} ctx={ctx} params={found!.params} />
        ) : (
          <div class="empty">
            <p>
              <strong>No such page.</strong>
            </p>
            <p>
              <a
                href={home}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(home);
                }}
              >
                Go to the start page
              </a>
            </p>
          </div>
        )}
      </main>
    </div>
  );
}

function Title({ text }: { text: string }) {
  useEffect(() => {
    document.title = `${text} · Freeway`;
  }, [text]);
  return null;
}

render(<App />, document.getElementById('app')!);
