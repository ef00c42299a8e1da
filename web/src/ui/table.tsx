/**
 * A data table: columns with a header, a cell renderer and an optional sort value; click (or
 * Enter on) a header to sort. Wide tables scroll sideways inside their box on a phone.
 */
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';

export interface Column<T> {
  key: string;
  header: string;
  cell: (row: T) => ComponentChildren;
  /** What the column sorts by; without it the column does not sort. */
  sort?: (row: T) => number | string;
  numeric?: boolean;
}

export function DataTable<T>(props: {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  caption?: string;
  initialSort?: { key: string; desc: boolean };
  footer?: ComponentChildren;
}) {
  const [sort, setSort] = useState(props.initialSort ?? null);
  const rows = useMemo(() => {
    const col = sort && props.columns.find((c) => c.key === sort.key);
    if (!col?.sort) return props.rows;
    const by = col.sort;
    return [...props.rows].sort((a, b) => {
      const x = by(a);
      const y = by(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort!.desc ? -c : c;
    });
  }, [props.rows, props.columns, sort]);
  const toggle = (key: string) => setSort((s) => (s && s.key === key ? { key, desc: !s.desc } : { key, desc: true }));
  return (
    <div class="table-wrap">
      <table>
        {props.caption && <caption>{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => {
              const active = sort?.key === c.key;
              const aria = active ? (sort!.desc ? 'descending' : 'ascending') : undefined;
              return (
                <th key={c.key} scope="col" class={c.numeric ? 'num' : undefined} aria-sort={aria}>
                  {c.sort ? (
                    <button type="button" class="th-sort" onClick={() => toggle(c.key)}>
                      {c.header}
                      <span aria-hidden="true">{active ? (sort!.desc ? ' ▾' : ' ▴') : ''}</span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td key={c.key} class={c.numeric ? 'num' : undefined}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        {props.footer && <tfoot>{props.footer}</tfoot>}
      </table>
    </div>
  );
}
