/** The sign-in form: a Freeway key (inference, management or the admin key), checked against GET /key. */
import { useState } from 'preact/hooks';
import { ApiError } from './page.ts';
import { identify } from './session.ts';
import type { Session } from './session.ts';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice?: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin" id="main">
      <h1>Freeway</h1>
      {notice && (
        <p class="error" role="status">
          {notice}
        </p>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const k = key.trim();
          if (!k) return setError('Paste a Freeway key.');
          setBusy(true);
          setError(null);
          try {
            onSignedIn(await identify(k));
          } catch (err) {
            setError(
              err instanceof ApiError && err.status === 401
                ? 'Freeway does not know this key (or it is disabled or expired).'
                : String((err as Error).message),
            );
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="key">Freeway key</label>
        <input
          id="key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-describedby="key-help"
          aria-invalid={error !== null}
          // biome-ignore lint/a11y/noAutofocus: the page's one field, opened to be filled in
          autoFocus
        />
        <p id="key-help" class="muted">
          An inference key shows its own usage, limits and generations; a management key its account; the operator's admin key
          (FREEWAY_ADMIN_KEY) every account. The key stays in this browser tab only.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
