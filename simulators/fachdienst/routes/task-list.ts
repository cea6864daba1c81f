/**
 * GET /Task for the insured (A_18868, A_19115, A_19129, A_18952; production GetAllTasksHandler):
 * the tasks of the KVNR in the token (idNummer), without draft and cancelled, as a searchset Bundle of
 * Task resources only (since C_10499 no prescriptions or receipts in the list), each entry with
 * search.mode match.
 *
 * Search parameters (production's list; unknown ones are ignored): status (token, comma = OR),
 * authored-on, modified (dates with prefixes), expiry-date, accept-date (dates), _sort (default
 * authored-on, ascending; names as the parameters), _count (max 50) and __offset. total = number of
 * matches; links self/prev/next/first/last (workflow/paging.ts).
 * Production writes no access protocol entry for this list (ERP-8507).
 *
 * Pharmacies (GET /Task?kvnr=&pnw=, VSDM proof of presence) are not simulated: 501 (ours).
 */
import * as crypto from 'node:crypto';
import type { FhirJson, FhirResource } from '../../lib/fhir';
import type { FhirRequest, FhirResponse, FhirRouteContext, FhirRouteModule } from '../fhir-router';
import { FhirError } from '../outcome';
import { OPERATION_ROLES } from '../roles';
import type { TaskRecord, TaskStatus } from '../store';
import { bundleLinks, matchesDate, parseDateArgument, parsePaging, parseSort, sortBy, type DateCondition } from '../workflow/paging';
import { fhirInstant, serialize } from '../workflow/task-resource';
import { renderTaskForInsured } from './task-insured';

const DATE_PARAMS: Record<string, (t: TaskRecord) => string | undefined> = {
  'authored-on': (t) => t.createdAt,
  modified: (t) => t.lastModified,
  'expiry-date': (t) => t.expiryDate,
  'accept-date': (t) => t.acceptDate,
};
const STATUSES: readonly TaskStatus[] = ['draft', 'ready', 'in-progress', 'completed', 'cancelled'];

async function getAllTasks(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  if (req.auth.caller !== 'insured') throw new FhirError(501, 'GET /Task for pharmacies (proof of presence) is not simulated'); // ours
  const kvnr = req.auth.idNumber;
  if (!kvnr) throw new FhirError(400, 'Missing claim in ACCESS_TOKEN: idNummer');

  const searchArgs: Array<[string, string]> = [];
  const dateFilters: Array<{ get: (t: TaskRecord) => string | undefined; conditions: DateCondition[] }> = [];
  const statusFilters: TaskStatus[][] = [];
  for (const [name, value] of req.query) {
    if (name in DATE_PARAMS) {
      dateFilters.push({ get: DATE_PARAMS[name], conditions: parseDateArgument(name, value) });
      searchArgs.push([name, value]);
    } else if (name === 'status') {
      const values = value.split(',');
      const bad = values.find((v) => !(STATUSES as readonly string[]).includes(v));
      if (bad !== undefined) throw new FhirError(400, `invalid status value in search parameter status`, { diagnostics: bad }); // ours
      statusFilters.push(values as TaskStatus[]);
      searchArgs.push([name, value]);
    }
  }
  const sort = parseSort(req.query, Object.keys(DATE_PARAMS), 'authored-on');
  if (req.query.has('_sort')) searchArgs.push(['_sort', req.query.get('_sort') as string]);
  const paging = parsePaging(req.query);

  let tasks = ctx.store
    .tasksOfInsured(kvnr)
    .filter((t) => t.status !== 'draft' && t.status !== 'cancelled')
    .filter((t) => statusFilters.every((allowed) => allowed.includes(t.status)))
    .filter((t) => dateFilters.every((f) => matchesDate(f.conditions, f.get(t))));
  tasks = sortBy(tasks, sort, (t, key) => DATE_PARAMS[key]?.(t));
  const total = tasks.length;
  const page = tasks.slice(paging.offset, paging.offset + paging.count);

  const bundle: FhirResource = {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    type: 'searchset',
    timestamp: fhirInstant(ctx.clock.now()),
    total,
    link: bundleLinks({ base: ctx.baseUrl, path: '/Task', searchArgs, paging, total }),
  };
  if (page.length) bundle.entry = page.map((t): FhirJson => ({ fullUrl: `${ctx.baseUrl}/Task/${t.id}`, resource: renderTaskForInsured(t, req.auth, ctx), search: { mode: 'match' } }));
  const s = serialize(bundle, req.format);
  return { status: 200, body: s.body, contentType: s.contentType };
}

export const taskListRoutes: FhirRouteModule = (router) => {
  router.register({ method: 'GET', pattern: '/Task', roles: OPERATION_ROLES.getAllTasks, operation: 'Task.search', handler: getAllTasks });
};
