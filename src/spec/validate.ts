/**
 * Small, fast validators for client input. Each failure is a 400 naming the offending field
 * (`messages[2].content`) in `error.metadata.param`.
 */
import { GatewayError } from './errors.ts';

export type Obj = Record<string, unknown>;

/** Longest validation message: one that quotes a client's key or value is cut there, not sent back whole. */
const MAX_MESSAGE_CHARS = 1024;

function bounded(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}... (cut at ${MAX_MESSAGE_CHARS} characters)` : text;
}

export function fail(param: string, message: string): never {
  throw new GatewayError('invalid_request', bounded(`${param}: ${message}`), { metadata: { param: bounded(param) } });
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Longest client string an error message repeats: enough to recognise it, never the whole of a huge one. */
const SHOWN_CHARS = 64;

/**
 * A client's value as an error message shows it: a string or number as written (a long string cut
 * short), anything else by its kind. Never JSON.stringify of the value itself, which throws on a
 * value nested thousands deep and would echo a megabyte back.
 */
export function shown(v: unknown): string {
  if (typeof v === 'string')
    return v.length > SHOWN_CHARS ? `${JSON.stringify(v.slice(0, SHOWN_CHARS))}... (${v.length} characters)` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return kind(v);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, param: string): Obj {
  if (!isObj(v)) fail(param, `expected an object, got ${kind(v)}`);
  return v;
}

export function arr(v: unknown, param: string): unknown[] {
  if (!Array.isArray(v)) fail(param, `expected an array, got ${kind(v)}`);
  return v;
}

export function str(v: unknown, param: string): string {
  if (typeof v !== 'string') fail(param, `expected a string, got ${kind(v)}`);
  return v;
}

export function bool(v: unknown, param: string): boolean {
  if (typeof v !== 'boolean') fail(param, `expected a boolean, got ${kind(v)}`);
  return v;
}

export function num(v: unknown, param: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(param, `expected a number, got ${kind(v)}`);
  if (v < min || v > max) fail(param, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

export function int(v: unknown, param: string, min = -Infinity, max = Infinity): number {
  const n = num(v, param, min, max);
  if (!Number.isInteger(n)) fail(param, `expected an integer, got ${n}`);
  return n;
}

export function oneOf<T extends string>(v: unknown, param: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) {
    fail(param, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${shown(v)}`);
  }
  return v as T;
}

/** Reads an optional field: undefined and (when `nullable`) null both mean absent. */
export function opt<T>(o: Obj, key: string, parse: (v: unknown, param: string) => T, prefix = ''): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return parse(v, prefix ? `${prefix}.${key}` : key);
}

/** Rejects keys not in `allowed` (strict objects such as `provider`). */
export function onlyKeys(o: Obj, param: string, allowed: ReadonlySet<string>): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) fail(param, `Unrecognized key(s) in object: '${k}'`);
  }
}

/**
 * How deep client JSON may nest. JSON.parse takes any depth, but what reads a value after it
 * recurses (JSON.stringify of tool arguments, schema walkers, the upstream's own parser) overflows
 * the stack a few thousand levels down; no real request comes near this.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * Whether `value` nests arrays or objects more than `max` levels deep. Iterative, so any depth is
 * safe to measure, and allocation-free per node (every request body passes here: ~20 µs for an
 * 80 KB agent request, a tenth of its JSON.parse).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const values: object[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop() as Obj | unknown[];
    const depth = depths.pop() as number;
    if (depth >= max) return true;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c = v[i];
        if (typeof c === 'object' && c !== null) {
          values.push(c);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const k in v) {
        const c = v[k];
        if (typeof c === 'object' && c !== null) {
          values.push(c);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** `YYYY-MM-DD`, or with `THH:MM[:SS[.fff]]` and `Z` or `±HH:MM` after it: ISO 8601 as APIs write it. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * An ISO 8601 date or date-time, as epoch milliseconds. Date.parse alone takes far more, each with
 * a meaning the client did not intend: `1` and `-1` as 2001, `March 7` in the engine's own
 * formats, and 2024-02-30 rolled over to March 1.
 */
export function isoDate(v: string, param: string, what = 'a date (YYYY-MM-DD) or an ISO 8601 date-time'): number {
  const m = ISO_8601.exec(v);
  const ms = m ? Date.parse(v) : Number.NaN;
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const day = new Date(0);
  day.setUTCFullYear(y, mo - 1, d);
  if (Number.isNaN(ms) || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) fail(param, `must be ${what}`);
  return ms;
}
