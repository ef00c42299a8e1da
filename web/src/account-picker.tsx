/** The admin's choice of account to view (GET /accounts). */
import type { PageContext } from './page.ts';
import { useLoad } from './ui/use-api.ts';

export function AccountPicker({ ctx, value, onChange }: { ctx: PageContext; value: string; onChange: (id: string) => void }) {
  const accounts = useLoad(() => ctx.api<{ data: Array<{ id: string; name: string }> }>('/accounts'), []);
  const list = accounts.data?.data ?? [{ id: value, name: value }];
  return (
    <label class="account">
      <span class="sr-only">Account</span>
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)} aria-label="Account">
        {list.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name === a.id ? a.id : `${a.name} (${a.id})`}
          </option>
        ))}
      </select>
    </label>
  );
}
