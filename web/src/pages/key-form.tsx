/** The fields of a key (create and edit): name, kind, limit, reset period, expiry, rpm, tpm. */
import { useState } from 'preact/hooks';

export interface KeyFields {
  name: string;
  kind?: 'inference' | 'management';
  limit: number | null;
  limit_reset: 'daily' | 'weekly' | 'monthly' | null;
  expires_at: string | null;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
}

interface Initial {
  name: string;
  limit: number | null;
  limit_reset: KeyFields['limit_reset'];
  expires_at: string | null;
  rate_limit: { requests_per_minute: number | null; tokens_per_minute: number | null };
}

/** 'YYYY-MM-DDTHH:MM' in local time, for <input type="datetime-local">. */
function localInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * Only what the form changed: the shown rpm/tpm may be the gateway's default, which sending back
 * would pin on the key; an untouched expiry keeps its seconds.
 */
function changed(f: KeyFields, i: Initial): Partial<KeyFields> {
  const out: Partial<KeyFields> = {};
  if (f.name !== i.name) out.name = f.name;
  if (f.limit !== i.limit) out.limit = f.limit;
  if (f.limit_reset !== i.limit_reset) out.limit_reset = f.limit_reset;
  if (localInput(f.expires_at) !== localInput(i.expires_at)) out.expires_at = f.expires_at;
  if (f.requests_per_minute !== i.rate_limit.requests_per_minute) out.requests_per_minute = f.requests_per_minute;
  if (f.tokens_per_minute !== i.rate_limit.tokens_per_minute) out.tokens_per_minute = f.tokens_per_minute;
  return out;
}

const numOrNull = (s: string): number | null => (s.trim() === '' ? null : Number(s));

export function KeyForm(props: {
  title: string;
  submitLabel: string;
  initial?: Initial;
  withKind?: boolean;
  onSubmit: (f: Partial<KeyFields>) => void | Promise<void>;
  onCancel: () => void;
}) {
  const i = props.initial;
  const [name, setName] = useState(i?.name ?? '');
  const [kind, setKind] = useState<'inference' | 'management'>('inference');
  const [limit, setLimit] = useState(i?.limit === null || i?.limit === undefined ? '' : String(i.limit));
  const [reset, setReset] = useState<string>(i?.limit_reset ?? '');
  const [expires, setExpires] = useState(localInput(i?.expires_at ?? null));
  const [rpm, setRpm] = useState(i?.rate_limit.requests_per_minute?.toString() ?? '');
  const [tpm, setTpm] = useState(i?.rate_limit.tokens_per_minute?.toString() ?? '');
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="panel"
      aria-label={props.title}
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          const fields: KeyFields = {
            name: name.trim(),
            ...(props.withKind ? { kind } : {}),
            limit: numOrNull(limit),
            limit_reset: reset === '' ? null : (reset as KeyFields['limit_reset']),
            expires_at: expires === '' ? null : new Date(expires).toISOString(),
            requests_per_minute: numOrNull(rpm),
            tokens_per_minute: numOrNull(tpm),
          };
          await props.onSubmit(i ? changed(fields, i) : fields);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>{props.title}</h2>
      <div class="form-grid">
        <label>
          Name
          <input required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        {props.withKind && (
          <label>
            Kind
            <select value={kind} onChange={(e) => setKind(e.currentTarget.value as 'inference' | 'management')}>
              <option value="inference">inference (calls models)</option>
              <option value="management">management (manages this account)</option>
            </select>
          </label>
        )}
        <label>
          Credit limit (USD)
          <input type="number" min="0" step="any" placeholder="no limit" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
        </label>
        <label>
          Limit resets
          <select value={reset} onChange={(e) => setReset(e.currentTarget.value)}>
            <option value="">never</option>
            <option value="daily">daily</option>
            <option value="weekly">weekly</option>
            <option value="monthly">monthly</option>
          </select>
        </label>
        <label>
          Expires
          <input type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        </label>
        <label>
          Requests per minute
          <input type="number" min="1" step="1" placeholder="default" value={rpm} onInput={(e) => setRpm(e.currentTarget.value)} />
        </label>
        <label>
          Tokens per minute
          <input type="number" min="1" step="1" placeholder="default" value={tpm} onInput={(e) => setTpm(e.currentTarget.value)} />
        </label>
      </div>
      <div class="toolbar">
        <button type="submit" class="primary" disabled={busy}>
          {props.submitLabel}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
