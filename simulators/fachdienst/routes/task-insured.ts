/**
 * The insured's side of the Task resource (gemSysL_eRp §3.5, A_18564, A_18565, A_18781; issue 7):
 * GET /Task/{id} for the insured and, with X-AccessCode, for a representative; $abort by the insured
 * or a representative. task.ts delegates here when the caller's professionOID is the insured's.
 * Order of checks and texts as production (eRP-FD/erp-processing-context GetTaskHandler,
 * AbortTaskHandler) and the ru-dumps (Versicherter/*):
 *
 * | status | text                                                                         | source |
 * |--------|------------------------------------------------------------------------------|--------|
 * | 404    | Failed to parse prescription ID from URL parameter                           | production TaskHandlerBase::parseId |
 * | 404    | Task not found in DB (GET)                                                   | production GetTaskHandler::checkTaskState |
 * | 403    | Status draft is not allowed for this operation (GET)                         | production GetTaskHandler::checkTaskState |
 * | 410    | Task has already been deleted (A_18952)                                      | production; dump löschen_möglich_nach_der_dispensierung |
 * | 403    | AccessCode mismatch (VAU-Error-Code brute_force; representative)             | dump löschen_des_e_rezepts_als_vertreter_nur_mit_accesscode_möglich |
 * | 400    | KVNR verification identities may not access information from insurants and vice versa (A_20756) | production GetTaskHandler (A_20753) |
 * | 403    | Insurant representatives may not access directly assigned tasks (169/209)    | production GetTaskHandler (A_26148) |
 * | 403    | Abort for patient in workflow types 169 / 209 only allowed for completed Task | dump löschen_nicht_möglich_bis_nach_der_dispensierung |
 *
 * The AccessCode is answered only to the insured's FdV (A_20702-03, A_20555–A_20557): production's VAU
 * proxy removes it for clients it does not recognise as an E-Rezept-FdV; here a client is an FdV when
 * the access token's client_id is one of FDV_CLIENT_IDS (the IDP registration of the FdV). Other
 * insured clients get the Task without AccessCode. Flow types 169/209 never show it (A_21360).
 */
import * as crypto from 'node:crypto';
import { isValidPrescriptionId } from '../../lib/erezept-token';
import { parseFhirXml, type FhirJson, type FhirResource } from '../../lib/fhir';
import { parseSignedData } from '../../lib/cms';
import { isPruefidentitaetKvnr } from '../../lib/pruefkarte';
import type { AuthContext, FhirRequest, FhirResponse, FhirRouteContext } from '../fhir-router';
import { FhirError } from '../outcome';
import type { TaskRecord } from '../store';
import { auditWorkflow } from '../workflow/audit';
import { documentId, fhirInstant, renderTask, serialize } from '../workflow/task-resource';

/** client_id values of the insured's E-Rezept-FdV (config/environments/*.yaml idp.clients "eRezeptApp"). */
export const FDV_CLIENT_IDS: readonly string[] = ['eRezeptApp'];

/** Flow types of the direct assignment (Direkte Zuweisung): no representative access, no AccessCode for the insured. */
export const DIRECT_ASSIGNMENT_FLOW_TYPES: readonly number[] = [169, 209];

export const LAST_MEDICATION_DISPENSE_EX = 'https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_EX_LastMedicationDispense';

export function isFdvClient(auth: AuthContext): boolean {
  return !!auth.clientId && FDV_CLIENT_IDS.includes(auth.clientId);
}

/** May the insured's client see the AccessCode of this task? */
export function showsAccessCode(auth: AuthContext, task: Pick<TaskRecord, 'flowType'>): boolean {
  return isFdvClient(auth) && !DIRECT_ASSIGNMENT_FLOW_TYPES.includes(task.flowType);
}

/** Time of the last dispense data of a task (GEM_ERP_EX_LastMedicationDispense), if any. */
export function lastMedicationDispense(ctx: FhirRouteContext, taskId: string): string | undefined {
  const times = ctx.store.binariesOfTask(taskId, 'medication-dispense').map((b) => b.createdAt);
  return times.length ? times.sort()[times.length - 1] : undefined;
}

/**
 * The Task as the insured sees it: no Secret, only the patient confirmation (input type 2), the
 * AccessCode only for the FdV (and not for 169/209), and the time of the last dispense.
 */
export function renderTaskForInsured(task: TaskRecord, auth: AuthContext, ctx: FhirRouteContext): FhirResource {
  const res = renderTask(task, { withAccessCode: showsAccessCode(auth, task) });
  if (Array.isArray(res.input)) res.input = (res.input as FhirJson[]).filter((i) => JSON.stringify(i.type).includes('"code":"2"'));
  const last = lastMedicationDispense(ctx, task.id);
  if (last) (res.extension as FhirJson[]).push({ url: LAST_MEDICATION_DISPENSE_EX, valueInstant: fhirInstant(last) });
  return res;
}

function loadTaskForInsured(req: FhirRequest, ctx: FhirRouteContext): TaskRecord {
  const id = req.params.id;
  if (!isValidPrescriptionId(id)) throw new FhirError(404, 'Failed to parse prescription ID from URL parameter');
  const task = ctx.store.getTask(id);
  if (!task) throw new FhirError(404, 'Task not found in DB');
  if (task.status === 'draft') throw new FhirError(403, 'Status draft is not allowed for this operation');
  if (task.status === 'cancelled') throw new FhirError(410, 'Task has already been deleted');
  return task;
}

function checkAccessCode(req: FhirRequest, task: TaskRecord): void {
  const ac = req.headers['x-accesscode'] ?? req.query.get('ac') ?? undefined;
  if (!task.accessCode || ac !== task.accessCode) throw new FhirError(403, 'AccessCode mismatch', { vauErrorCode: 'brute_force' });
}

/** A_20756 (production A_20753): no access between a Prüfidentität and a real insured, either direction. */
export function checkPruefkarte(callerKvnr: string | undefined, taskKvnr: string): void {
  if (callerKvnr !== undefined && isPruefidentitaetKvnr(callerKvnr) !== isPruefidentitaetKvnr(taskKvnr)) {
    throw new FhirError(400, 'KVNR verification identities may not access information from insurants and vice versa');
  }
}

/** The patient confirmation: the KBV bundle the prescriber signed, with the Fachdienst's signature (C.FD.SIG, stored at $activate). */
function patientConfirmation(ctx: FhirRouteContext, task: TaskRecord): FhirResource | undefined {
  const stored = ctx.store.getBinary(documentId(task, 2));
  if (!stored) return undefined;
  const content = parseSignedData(stored.data).content;
  if (!content) throw new Error(`server-signed prescription of ${task.id} has no content`);
  const bundle = parseFhirXml(content.toString('utf8'));
  bundle.id = documentId(task, 2);
  bundle.signature = {
    type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5' }],
    when: fhirInstant(stored.createdAt),
    who: { reference: `${ctx.baseUrl}/Device/1` },
    sigFormat: 'application/pkcs7-mime',
    data: stored.data.toString('base64'),
  };
  return bundle;
}

/** `_include=output` (TAB_SYSLERP_058) or the FHIR spelling `_include=Task:output`. */
function includesOutput(req: FhirRequest): boolean {
  return req.query.getAll('_include').some((v) => v.split(',').some((x) => x.trim() === 'output' || x.trim() === 'Task:output'));
}

export async function getTaskForInsured(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const task = loadTaskForInsured(req, ctx);
  const kvnr = task.kvnr;
  if (!kvnr) throw new Error(`task ${task.id} in status ${task.status} has no KVNR`);
  const representative = req.auth.idNumber !== kvnr;
  if (representative) {
    checkAccessCode(req, task);
    checkPruefkarte(req.auth.idNumber, kvnr);
    if (DIRECT_ASSIGNMENT_FLOW_TYPES.includes(task.flowType)) throw new FhirError(403, 'Insurant representatives may not access directly assigned tasks');
  }
  const self = `${ctx.baseUrl}/Task/${task.id}`;
  const entry: FhirJson[] = [{ fullUrl: self, resource: renderTaskForInsured(task, req.auth, ctx) }];
  const confirmation = patientConfirmation(ctx, task);
  if (confirmation) entry.push({ fullUrl: `urn:uuid:${documentId(task, 2)}`, resource: confirmation });
  // A_19141: GET /Task/<id>?_include=output adds the dispensing information (MedicationDispense, Medication)
  if (includesOutput(req)) {
    for (const b of ctx.store.binariesOfTask(task.id, 'medication-dispense')) {
      const resource = JSON.parse(b.data.toString('utf8')) as FhirJson;
      // as GET /MedicationDispense: the dispense by its URL, the Medication as urn:uuid (its medicationReference)
      const fullUrl = resource.resourceType === 'Medication' ? `urn:uuid:${String(resource.id)}` : `${ctx.baseUrl}/${String(resource.resourceType)}/${String(resource.id)}`;
      entry.push({ fullUrl, resource });
    }
  }
  ctx.store.transaction(() => auditWorkflow(ctx.store, { event: representative ? 'GET_Task_id_representative' : 'GET_Task_id_insurant', kvnr, taskId: task.id, auth: req.auth }));
  const bundle: FhirResource = { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'collection', timestamp: fhirInstant(ctx.clock.now()), link: [{ relation: 'self', url: self }], entry };
  const s = serialize(bundle, req.format);
  return { status: 200, body: s.body, contentType: s.contentType };
}

/** The insured's flow-type rule of $abort; task.ts calls it before its in-progress rule (production's order). */
export function checkInsuredMayAbortFlowType(task: TaskRecord): void {
  if (DIRECT_ASSIGNMENT_FLOW_TYPES.includes(task.flowType) && task.status !== 'completed') {
    throw new FhirError(403, 'Abort for patient in workflow types 169 / 209 only allowed for completed Task');
  }
}

/**
 * Called by task.ts after its common checks (task exists, not cancelled, not draft, not in-progress).
 * Insured with the task's KVNR: no AccessCode needed; anyone else (representative): X-AccessCode
 * (A_20547). 169/209 only when completed (A_22102). Deletes personal and medical data as the
 * prescriber's abort does (A_18820, A_19027): binaries, KVNR, AccessCode, Secret, owner, prescriber.
 */
export async function abortTaskByInsured(req: FhirRequest, ctx: FhirRouteContext, task: TaskRecord): Promise<FhirResponse> {
  checkInsuredMayAbortFlowType(task);
  const kvnr = task.kvnr;
  if (!kvnr) throw new Error(`task ${task.id} in status ${task.status} has no KVNR`);
  const representative = req.auth.idNumber !== kvnr;
  if (representative) checkAccessCode(req, task); // production checks no Prüfidentität here (only GET, A_20753)
  ctx.store.transaction(() => {
    ctx.store.deleteBinaries(task.id);
    ctx.store.updateTask(task.id, { status: 'cancelled', kvnr: null, accessCode: null, secret: null, owner: null, prescriberId: null });
    auditWorkflow(ctx.store, { event: representative ? 'POST_Task_abort_representative' : 'POST_Task_abort_insurant', kvnr, taskId: task.id, auth: req.auth });
  });
  return { status: 204 };
}
