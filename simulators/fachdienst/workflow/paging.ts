/**
 * FHIR search arguments and paging of the Fachdienst's list endpoints as production implements them
 * (eRP-FD/erp-processing-context UrlArguments, PagingArgument, SearchArgument):
 *
 * - date parameters with the prefixes eq, ne, gt, ge, lt, le, sa, eb; the search value is a period
 *   (year, month, day, minute or second precision; dates without zone are German local time) and
 *   the stored value a point in time T: eq B <= T < E, ne T < B || T >= E, gt/sa T >= E, ge T >= B,
 *   lt/eb T < B, le T < E (B = begin, E = exclusive end of the period). Several values of one
 *   parameter (comma separated) are ORed, repeated parameters ANDed.
 * - `_sort=<name>` / `_sort=-<name>` (comma separated, first wins; default per endpoint).
 * - `_count` (default and maximum 50, A_19534; 0 "_count zero is not supported", negative "_count can
 *   not be negative", garbage "invalid numeric format in _count") and `__offset` (0 allowed).
 * - links: self (the search arguments, plus _count/__offset when paging was given), prev (when
 *   __offset > 0: _count=N&__offset=max(0, offset-N)), next (when more results exist:
 *   __offset=offset+N), first (__offset=0), last (offset mode and total > 0: the last page's offset).
 * Parameters the endpoint does not know are ignored, as production does.
 */
import { FhirError } from '../outcome';

export const DEFAULT_PAGE_SIZE = 50;

export type SearchPrefix = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'sa' | 'eb';
const PREFIXES: readonly SearchPrefix[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sa', 'eb'];

export interface Period {
  /** Inclusive begin, epoch ms. */
  begin: number;
  /** Exclusive end, epoch ms. */
  end: number;
}

export interface DateCondition {
  prefix: SearchPrefix;
  period: Period;
}

/** Offset of Europe/Berlin from UTC at an instant, in ms. */
function berlinOffsetMs(utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Berlin',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(utcMs / 1000) * 1000;
}

/** Epoch ms of a German local wall-clock time. */
function berlinLocalToUtc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const guess = Date.UTC(y, mo, d, h, mi, s);
  const first = guess - berlinOffsetMs(guess);
  return guess - berlinOffsetMs(first);
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** A FHIR search date value as a period; undefined when malformed. */
export function parseSearchPeriod(value: string): Period | undefined {
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? undefined : Number(x)));
  const zone = m[7];
  if (mo !== undefined && (mo < 1 || mo > 12)) return undefined;
  if (d !== undefined && (d < 1 || d > 31)) return undefined;
  if (h !== undefined && (h > 23 || (mi as number) > 59 || (s ?? 0) > 59)) return undefined;
  const at = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0): number => {
    if (zone === undefined) return berlinLocalToUtc(yy, mm, dd, hh, mn, ss);
    const off = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    return Date.UTC(yy, mm, dd, hh, mn, ss) - off;
  };
  const Y = y as number;
  if (mo === undefined) return { begin: at(Y, 0, 1), end: at(Y + 1, 0, 1) };
  if (d === undefined) return { begin: at(Y, mo - 1, 1), end: at(Y, mo, 1) };
  if (h === undefined) return { begin: at(Y, mo - 1, d), end: at(Y, mo - 1, d + 1) };
  if (s === undefined) return { begin: at(Y, mo - 1, d, h, mi), end: at(Y, mo - 1, d, h, (mi as number) + 1) };
  return { begin: at(Y, mo - 1, d, h, mi, s), end: at(Y, mo - 1, d, h, mi, s + 1) };
}

/** Conditions of one date parameter value ("ge2025-01-01" or "2025-01-01,2025-02-01"; ORed). */
export function parseDateArgument(name: string, raw: string): DateCondition[] {
  return raw.split(',').map((v) => {
    const prefix = (PREFIXES as readonly string[]).includes(v.slice(0, 2)) ? (v.slice(0, 2) as SearchPrefix) : 'eq';
    const value = PREFIXES.includes(v.slice(0, 2) as SearchPrefix) ? v.slice(2) : v;
    const period = parseSearchPeriod(value);
    if (!period) throw new FhirError(400, `invalid date format in search parameter ${name}`, { diagnostics: raw }); // ours
    return { prefix, period };
  });
}

export function matchesDate(conditions: readonly DateCondition[], value: string | undefined): boolean {
  if (value === undefined) return false;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return false;
  return conditions.some(({ prefix, period: { begin: b, end: e } }) => {
    switch (prefix) {
      case 'eq':
        return b <= t && t < e;
      case 'ne':
        return t < b || t >= e;
      case 'gt':
      case 'sa':
        return t >= e;
      case 'ge':
        return t >= b;
      case 'lt':
      case 'eb':
        return t < b;
      case 'le':
        return t < e;
    }
    return false;
  });
}

function toCount(raw: string, field: string, zeroAllowed: boolean): number {
  const m = /^[+-]?\d+/.exec(raw);
  if (!m) throw new FhirError(400, `invalid numeric format in ${field}`);
  if (m[0].length !== raw.length) throw new FhirError(400, `trailing characters are not permitted in a numerical argument: ${field}`);
  const n = Number(m[0]);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 31 - 1) throw new FhirError(400, `${field} value out of range`);
  if (n < 0) throw new FhirError(400, `${field} can not be negative`);
  if (n === 0 && !zeroAllowed) throw new FhirError(400, `${field} zero is not supported`);
  return n;
}

export interface Paging {
  count: number;
  offset: number;
  /** _count or __offset given (then the self link repeats them). */
  isSet: boolean;
}

/** `_count` (max 50) and `__offset` of a request, production's checks and texts. */
export function parsePaging(query: URLSearchParams): Paging {
  const c = query.get('_count');
  const o = query.get('__offset');
  const count = c === null ? DEFAULT_PAGE_SIZE : Math.min(toCount(c, '_count', false), DEFAULT_PAGE_SIZE);
  const offset = o === null ? 0 : toCount(o, '__offset', true);
  return { count, offset, isSet: count !== DEFAULT_PAGE_SIZE || offset > 0 };
}

export interface SortKey {
  name: string;
  descending: boolean;
}

/** `_sort` among the known names; default when absent. Unknown names: 400 (ours). */
export function parseSort(query: URLSearchParams, known: readonly string[], fallback: string): SortKey[] {
  const raw = query.get('_sort');
  const items = (raw ?? fallback).split(',').filter(Boolean);
  return items.map((item) => {
    const descending = item.startsWith('-');
    const name = descending ? item.slice(1) : item;
    if (!known.includes(name)) throw new FhirError(400, `unsupported sort parameter ${name}`); // ours
    return { name, descending };
  });
}

export function sortBy<T>(items: T[], keys: readonly SortKey[], valueOf: (item: T, key: string) => string | undefined): T[] {
  return [...items].sort((a, b) => {
    for (const k of keys) {
      const va = valueOf(a, k.name) ?? '';
      const vb = valueOf(b, k.name) ?? '';
      const c = va < vb ? -1 : va > vb ? 1 : 0;
      if (c) return k.descending ? -c : c;
    }
    return 0;
  });
}

export type LinkRelation = 'self' | 'prev' | 'next' | 'first' | 'last';

/**
 * Bundle links as production builds them. `searchArgs` are the request's recognised search
 * arguments in request order (name, raw value), `_sort` included.
 * `total` undefined: no last link, next when `hasNext`.
 */
export function bundleLinks(opts: {
  base: string;
  path: string;
  searchArgs: ReadonlyArray<[string, string]>;
  paging: Paging;
  total?: number;
  hasNext?: boolean;
}): Array<{ relation: LinkRelation; url: string }> {
  const { base, path, searchArgs, paging, total } = opts;
  const head = searchArgs.map(([k, v]) => `${k}=${v}`);
  const url = (extra: string[]) => {
    const all = [...head, ...extra];
    return `${base}${path}${all.length ? `?${all.join('&')}` : ''}`;
  };
  const page = (offset: number) => [`_count=${paging.count}`, `__offset=${offset}`];
  const hasNext = total === undefined ? !!opts.hasNext : total > paging.offset + paging.count;
  const links: Array<{ relation: LinkRelation; url: string }> = [{ relation: 'self', url: url(paging.isSet ? page(paging.offset) : []) }];
  if (paging.offset > 0) links.push({ relation: 'prev', url: url(page(Math.max(0, paging.offset - paging.count))) });
  if (hasNext) links.push({ relation: 'next', url: url(page(paging.offset + paging.count)) });
  links.push({ relation: 'first', url: url(page(0)) });
  if (total !== undefined && total > 0) {
    let last = Math.floor(total / paging.count) * paging.count;
    if (last === total) last -= paging.count;
    links.push({ relation: 'last', url: url(page(last)) });
  }
  return links;
}
