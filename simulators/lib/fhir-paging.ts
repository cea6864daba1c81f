/**
 * Paging through FHIR search results (Bundle searchset with `link` relation "next", as the
 * E-Rezept-Fachdienst pages GET /Task, /Communication, /AuditEvent, /MedicationDispense with
 * `_count` and `__offset`). The next link is an absolute URL of the public host; a client behind the
 * VAU sends its path and query as the inner request target. Shared by the FdV and the AVS.
 */
import type { FhirJson } from './fhir';

export class PagingError extends Error {
  override name = 'PagingError';
}

/** Path and query of a link URL (absolute or already a path). */
export function innerTarget(link: string): string {
  if (link.startsWith('/')) return link;
  let u: URL;
  try {
    u = new URL(link);
  } catch {
    throw new PagingError(`next link ${JSON.stringify(link)} is no URL`);
  }
  return `${u.pathname}${u.search}`;
}

/** The inner target of a Bundle's next link, or undefined on the last page. */
export function nextTarget(bundle: FhirJson): string | undefined {
  const links = Array.isArray(bundle.link) ? (bundle.link as FhirJson[]) : [];
  const next = links.find((l) => l.relation === 'next')?.url;
  return typeof next === 'string' && next.length > 0 ? innerTarget(next) : undefined;
}

export interface PagedResult {
  /** entry.resource of every page, in order. */
  resources: FhirJson[];
  pages: number;
  /** Bundle.total of the first page, when given. */
  total?: number;
}

/**
 * Fetches `first` and every next page with `fetchPage` (which returns the page's Bundle or throws).
 * A repeated link or more than `maxPages` pages is a PagingError (a server that keeps paging).
 */
export async function fetchAllPages(first: string, fetchPage: (target: string) => Promise<FhirJson>, maxPages = 50): Promise<PagedResult> {
  const resources: FhirJson[] = [];
  const seen = new Set<string>();
  let target: string | undefined = first;
  let pages = 0;
  let total: number | undefined;
  while (target !== undefined) {
    if (seen.has(target)) throw new PagingError(`the next link repeats ${target}`);
    if (pages >= maxPages) throw new PagingError(`more than ${maxPages} pages`);
    seen.add(target);
    const bundle = await fetchPage(target);
    if (bundle.resourceType !== 'Bundle') throw new PagingError(`expected a Bundle, got ${String(bundle.resourceType)}`);
    if (pages === 0 && typeof bundle.total === 'number') total = bundle.total;
    pages++;
    for (const e of Array.isArray(bundle.entry) ? (bundle.entry as FhirJson[]) : []) {
      const r = e.resource as FhirJson | undefined;
      if (r && typeof r === 'object') resources.push(r);
    }
    target = nextTarget(bundle);
  }
  return { resources, pages, ...(total !== undefined ? { total } : {}) };
}
