/**
 * Dispense information for the insured (A_19140, A_19141, A_19406; production
 * GetAllMedicationDispenseHandler / GetMedicationDispenseHandler, api-erp erp_versicherte.adoc
 * "Abgabeinformationen abrufen"): only the MedicationDispenses stored for the KVNR in the token, from
 * $dispense / $close of the pharmacy (deleted again by $reject and every $abort).
 *
 * GET /MedicationDispense: searchset Bundle, MedicationDispense entries (fullUrl
 * <base>/MedicationDispense/<id>, search.mode match) followed by their Medication resources
 * (urn:uuid, search.mode include); search parameters identifier
 * (GEM_ERP_NS_PrescriptionId|<id>, also the old https://gematik.de/fhir/NamingSystem/PrescriptionID),
 * whenhandedover, whenprepared (dates with prefixes), performer (Telematik-ID), _sort (default
 * whenhandedover); no paging (A_24443) and `total` 0 as production answers (api-erp example).
 * GET /MedicationDispense/{id}: the one MedicationDispense (id = PrescriptionID, further ones
 * PrescriptionID-n); 404 "No Medication Dispense found for Id <id>"; 400 "bad path-id parameter".
 * The pharmacy is refused by the router (roles.ts getMedicationDispense): 403 "endpoint is forbidden
 * for professionOID 1.2.276.0.76.4.54". Both write an access protocol entry (GET_MedicationDispense,
 * GET_MedicationDispense_id).
 */
import * as crypto from 'node:crypto';
import { isValidPrescriptionId } from '../../lib/erezept-token';
import type { FhirJson, FhirResource } from '../../lib/fhir';
import type { FhirRequest, FhirResponse, FhirRouteContext, FhirRouteModule } from '../fhir-router';
import { FhirError } from '../outcome';
import { OPERATION_ROLES } from '../roles';
import { auditWorkflow } from '../workflow/audit';
import { matchesDate, parseDateArgument, parseSort, sortBy, type DateCondition } from '../workflow/paging';
import { ERP, fhirInstant, serialize } from '../workflow/task-resource';

const OLD_PRESCRIPTION_ID_SYSTEM = 'https://gematik.de/fhir/NamingSystem/PrescriptionID';

interface StoredDispense {
  taskId: string;
  dispense: FhirResource;
  medications: FhirResource[];
}

function kvnrOf(req: FhirRequest): string {
  const kvnr = req.auth.idNumber;
  if (!kvnr) throw new FhirError(400, 'KvNr not contained in JWT');
  return kvnr;
}

/** All stored dispenses of an insured with the Medication resources they reference. */
function dispensesOf(ctx: FhirRouteContext, kvnr: string): StoredDispense[] {
  const out: StoredDispense[] = [];
  for (const task of ctx.store.tasksOfInsured(kvnr)) {
    const resources = ctx.store.binariesOfTask(task.id, 'medication-dispense').map((b) => JSON.parse(b.data.toString('utf8')) as FhirResource);
    const medications = resources.filter((r) => r.resourceType === 'Medication');
    for (const md of resources.filter((r) => r.resourceType === 'MedicationDispense')) {
      const ref = String(((md.medicationReference as FhirJson | undefined)?.reference as string | undefined) ?? '');
      out.push({ taskId: task.id, dispense: md, medications: medications.filter((m) => ref.endsWith(String(m.id))) });
    }
  }
  return out;
}

function performerOf(md: FhirResource): string | undefined {
  const p = Array.isArray(md.performer) ? (md.performer as FhirJson[])[0] : undefined;
  return ((p?.actor as FhirJson | undefined)?.identifier as FhirJson | undefined)?.value as string | undefined;
}

const DATE_FIELDS: Record<string, string> = { whenhandedover: 'whenHandedOver', whenprepared: 'whenPrepared' };

async function getAllMedicationDispenses(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const kvnr = kvnrOf(req);
  const dateFilters: Array<{ field: string; conditions: DateCondition[] }> = [];
  const idFilters: string[][] = [];
  const performerFilters: string[][] = [];
  for (const [name, value] of req.query) {
    if (name in DATE_FIELDS) dateFilters.push({ field: DATE_FIELDS[name], conditions: parseDateArgument(name, value) });
    else if (name === 'identifier') {
      idFilters.push(
        value.split(',').map((v) => {
          const bar = v.lastIndexOf('|');
          const system = bar >= 0 ? v.slice(0, bar) : undefined;
          const id = bar >= 0 ? v.slice(bar + 1) : v;
          if ((system !== undefined && system !== ERP.prescriptionId && system !== OLD_PRESCRIPTION_ID_SYSTEM) || !isValidPrescriptionId(id)) {
            throw new FhirError(400, 'invalid identifier in search parameter identifier', { diagnostics: v }); // ours
          }
          return id;
        }),
      );
    } else if (name === 'performer') performerFilters.push(value.split(','));
  }
  const sort = parseSort(req.query, Object.keys(DATE_FIELDS), 'whenhandedover');
  let hits = dispensesOf(ctx, kvnr)
    .filter((d) => idFilters.every((ids) => ids.includes(d.taskId)))
    .filter((d) => performerFilters.every((ps) => ps.includes(performerOf(d.dispense) ?? '')))
    .filter((d) => dateFilters.every((f) => matchesDate(f.conditions, d.dispense[f.field] as string | undefined)));
  hits = sortBy(hits, sort, (d, key) => d.dispense[DATE_FIELDS[key]] as string | undefined);

  const entry: FhirJson[] = [];
  for (const d of hits) entry.push({ fullUrl: `${ctx.baseUrl}/MedicationDispense/${String(d.dispense.id)}`, resource: d.dispense, search: { mode: 'match' } });
  for (const d of hits) for (const m of d.medications) entry.push({ fullUrl: `urn:uuid:${String(m.id)}`, resource: m, search: { mode: 'include' } });
  const bundle: FhirResource = { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'searchset', timestamp: fhirInstant(ctx.clock.now()), total: 0 };
  if (entry.length) bundle.entry = entry;

  const single = idFilters.length === 1 && idFilters[0].length === 1 ? idFilters[0][0] : undefined;
  ctx.store.transaction(() => auditWorkflow(ctx.store, { event: 'GET_MedicationDispense', kvnr, ...(single ? { taskId: single } : {}), auth: req.auth }));
  const s = serialize(bundle, req.format);
  return { status: 200, body: s.body, contentType: s.contentType };
}

async function getMedicationDispense(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const kvnr = kvnrOf(req);
  const id = req.params.id;
  const m = /^(.+?)(?:-(\d+))?$/.exec(id);
  if (!m || !isValidPrescriptionId(m[1])) throw new FhirError(400, 'bad path-id parameter', { diagnostics: id });
  const hit = dispensesOf(ctx, kvnr).find((d) => d.dispense.id === id);
  if (!hit) throw new FhirError(404, `No Medication Dispense found for Id ${id}`);
  ctx.store.transaction(() => auditWorkflow(ctx.store, { event: 'GET_MedicationDispense_id', kvnr, taskId: hit.taskId, auth: req.auth }));
  const s = serialize(hit.dispense, req.format);
  return { status: 200, body: s.body, contentType: s.contentType };
}

export const medicationDispenseRoutes: FhirRouteModule = (router) => {
  router.register(
    { method: 'GET', pattern: '/MedicationDispense', roles: OPERATION_ROLES.getMedicationDispense, operation: 'MedicationDispense.search', handler: getAllMedicationDispenses },
    { method: 'GET', pattern: '/MedicationDispense/:id', roles: OPERATION_ROLES.getMedicationDispense, operation: 'MedicationDispense.read', handler: getMedicationDispense },
  );
};
