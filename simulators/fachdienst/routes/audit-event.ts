/**
 * The access protocol for the insured (A_18871, A_18510, A_19396–A_19399; production
 * GetAllAuditEventsHandler / GetAuditEventHandler, api-erp erp_versicherte.adoc "Einsicht in das
 * Zugriffsprotokoll"): only the entries of the KVNR in the token, texts in the language of
 * Accept-Language (de default, en), rendering in workflow/audit.ts.
 *
 * GET /AuditEvent: searchset Bundle without `total` (production does not count, for performance);
 * parameters date (recorded, prefixes as workflow/paging.ts), subtype (create|read|update|delete|
 * operation or the action letter; comma = OR), entity (PrescriptionID), _sort (date / -date; default
 * date ascending), _count (max 50), __offset. Entries recorded after today (German day) are never
 * returned (production's hidden "le today"). Links self, prev (offset > 0), next (when the page is
 * full — production does not look ahead), first; no last. Production pages by entry time
 * (_count + id=lt…); the simulation pages by __offset (see docs/fachdienst-insured.md).
 * GET /AuditEvent/{id}: 400 "Invalid format of AuditEvent id", 404 "No AuditEvent found for id".
 * Reading the protocol is not itself protocolled (as production).
 */
import * as crypto from 'node:crypto';
import type { FhirJson, FhirResource } from '../../lib/fhir';
import type { FhirRequest, FhirResponse, FhirRouteContext, FhirRouteModule } from '../fhir-router';
import { FhirError } from '../outcome';
import { OPERATION_ROLES } from '../roles';
import type { AuditEventRecord } from '../store';
import { actionOfSubtype, auditLanguage, isAuditEventId, renderAuditEvent } from '../workflow/audit';
import { bundleLinks, matchesDate, parseDateArgument, parsePaging, parseSearchPeriod, parseSort, sortBy, type DateCondition } from '../workflow/paging';
import { berlinDay } from '../workflow/activate-checks';
import { fhirInstant, serialize } from '../workflow/task-resource';

function kvnrOf(req: FhirRequest): string {
  const kvnr = req.auth.idNumber;
  if (!kvnr) throw new Error('JWT does not contain Kvnr'); // production: Expect → 500
  return kvnr;
}

function respond(resource: FhirResource, req: FhirRequest): FhirResponse {
  const s = serialize(resource, req.format);
  return { status: 200, body: s.body, contentType: s.contentType };
}

async function getAllAuditEvents(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const kvnr = kvnrOf(req);
  const language = auditLanguage(req.headers['accept-language']);
  const searchArgs: Array<[string, string]> = [];
  const dateFilters: DateCondition[][] = [];
  const subtypeFilters: string[][] = [];
  const entityFilters: string[][] = [];
  for (const [name, value] of req.query) {
    if (name === 'date') dateFilters.push(parseDateArgument(name, value));
    else if (name === 'subtype') subtypeFilters.push(value.split(',').map(actionOfSubtype));
    else if (name === 'entity') entityFilters.push(value.split(',').map((v) => v.slice(v.lastIndexOf('|') + 1)));
    else continue;
    searchArgs.push([name, value]);
  }
  const sort = parseSort(req.query, ['date'], 'date');
  if (req.query.has('_sort')) searchArgs.push(['_sort', req.query.get('_sort') as string]);
  const paging = parsePaging(req.query);
  const today = parseSearchPeriod(berlinDay(ctx.clock.now())) as { begin: number; end: number };

  let events = ctx.store
    .auditEventsOfInsured(kvnr)
    .filter((e) => isAuditEventId(e.description))
    .filter((e) => Date.parse(e.recorded) < today.end)
    .filter((e) => dateFilters.every((c) => matchesDate(c, e.recorded)))
    .filter((e) => subtypeFilters.every((allowed) => allowed.includes(e.action)))
    .filter((e) => entityFilters.every((ids) => !!e.taskId && ids.includes(e.taskId)));
  events = sortBy(events, sort, (e: AuditEventRecord) => e.recorded);
  const page = events.slice(paging.offset, paging.offset + paging.count);

  const bundle: FhirResource = {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    type: 'searchset',
    timestamp: fhirInstant(ctx.clock.now()),
    link: bundleLinks({ base: ctx.baseUrl, path: '/AuditEvent', searchArgs, paging, hasNext: page.length >= paging.count }),
  };
  const entry: FhirJson[] = [];
  for (const e of page) {
    const r = renderAuditEvent(e, { language, reader: req.auth });
    if (r) entry.push({ fullUrl: `${ctx.baseUrl}/AuditEvent/${e.id}`, resource: r, search: { mode: 'match' } });
  }
  if (entry.length) bundle.entry = entry;
  return respond(bundle, req);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function getAuditEvent(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const kvnr = kvnrOf(req);
  if (!UUID_RE.test(req.params.id)) throw new FhirError(400, 'Invalid format of AuditEvent id');
  const rec = ctx.store.auditEventsOfInsured(kvnr).find((e) => e.id === req.params.id);
  const rendered = rec && renderAuditEvent(rec, { language: auditLanguage(req.headers['accept-language']), reader: req.auth });
  if (!rendered) throw new FhirError(404, 'No AuditEvent found for id');
  return respond(rendered, req);
}

export const auditEventRoutes: FhirRouteModule = (router) => {
  router.register(
    { method: 'GET', pattern: '/AuditEvent', roles: OPERATION_ROLES.getAuditEvent, operation: 'AuditEvent.search', handler: getAllAuditEvents },
    { method: 'GET', pattern: '/AuditEvent/:id', roles: OPERATION_ROLES.getAuditEvent, operation: 'AuditEvent.read', handler: getAuditEvent },
  );
};
