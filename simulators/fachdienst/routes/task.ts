/**
 * The prescription workflow of the Fachdienst (gemSysL_eRp §2.4.3–2.4.6, §3.2–3.4): POST /Task/$create,
 * /Task/{id}/$activate, $accept, $reject, $dispense, $close, $abort and GET /Task/{id}?secret= (pharmacy:
 * the receipt again, A_19125). Order of checks and texts as production (eRP-FD/erp-processing-context,
 * ru-dumps); status transitions from workflow/state-machine.ts (TAB_SYSLERP_006).
 *
 * | status | text                                                             | source |
 * |--------|------------------------------------------------------------------|--------|
 * | 404    | Failed to parse prescription ID from URL parameter               | production TaskHandlerBase::parseId |
 * | 404    | Task not found for prescription id                               | production Close/Abort/RejectTaskHandler |
 * | 410    | Task has already been deleted                                    | production; dump einlösen_…_weil_durch_apotheke_gelöscht |
 * | 410    | Task meanwhile deleted for prescription id ($accept)             | dump e_rezept_durch_verordnenden_löschen |
 * | 403    | AccessCode mismatch (VAU-Error-Code brute_force)                 | production checkAccessCodeMatches |
 * | 403    | Task not in status draft but in status <s>                       | production ActivateTaskHandler, api-erp |
 * | 409    | Task has invalid status <s> [+ Task is processed by requesting institution] | dump zweimaliges_akzeptieren_… |
 * | 403    | Verordnung bis <dd.mm.yyyy> einlösbar.                           | gemSpec_FD_eRp (A_23539) |
 * | 403    | Task not in status in progress, is: <s>                          | production RejectTaskHandler |
 * | 403    | Task has to be in progress, but is: <s>                          | dump einlösen_…_zurückgegeben |
 * | 403    | No or invalid secret provided for Task                           | dump dispensieren_mit_falschem_secret |
 * | 403    | No or invalid secret provided for user pharmacy                  | dump löschen_mit_falschem_secret |
 * | 403    | Task must be in progress for user pharmacy, is: <s>              | dump löschen_…_weil_nicht_akzeptiert |
 * | 403    | Task must not be in progress for users other than pharmacy, but is: in-progress | dump löschen_…_weil_durch_apotheke_reserviert |
 * | 403    | Task must be ready for doctor, but is: <s>                       | production AbortTaskHandler |
 * | 403    | Abort not expected for newly created Task                        | production AbortTaskHandler |
 * | 403    | Medication dispense does not exist.                              | dump zeitnahe_…_vergessen_einzustellen |
 * | 400    | unexpected number of parameters / workflowType Parameter not given / missing workflow system / Invalid workFlowType in incoming parameters | production CreateTaskHandler |
 * | 400    | Failed to get ePrescription from requestBody / Failed to get ePrescription. Document has no data. | production ActivateTaskHandler |
 * | 400    | activate checks: workflow/activate-checks.ts                     | |
 * | 252    | $activate succeeded (Task ready) but a Practitioner LANR/ZANR has a wrong check digit: inner header `Warning: 252 erp-server Ungültige Arztnummer (LANR oder ZANR): Die übergebene Arztnummer entspricht nicht den Prüfziffer-Validierungsregeln.`, outer header `LANR`/`ZANR: <number>`, body the Task | production ActivateTaskHandler (A_23891, A_24033 "warning" mode, A_23090) |
 */
import * as crypto from 'node:crypto';
import { parseSignedData } from '../../lib/cms';
import { buildPrescriptionId, isValidPrescriptionId } from '../../lib/erezept-token';
import { authoredOnOf, parseFhir, parseFhirXml, serializeFhirJson, type FhirJson, type FhirResource } from '../../lib/fhir';
import type { FhirRequest, FhirResponse, FhirRouteContext, FhirRouteModule } from '../fhir-router';
import { FhirError } from '../outcome';
import { OPERATION_ROLES } from '../roles';
import type { TaskRecord } from '../store';
import {
  berlinDay,
  ACTIVATE_TEXT,
  ACTIVATE_WARN_INVALID_ANR,
  checkBundleAgainstTask,
  expiryAndAcceptDates,
  findInvalidAnr,
  parseAndValidateBundle,
  prescriberSignatureDigest,
  verifyPrescriptionSignature,
} from '../workflow/activate-checks';
import { auditWorkflow } from '../workflow/audit';
import { checkMultiplePrescription, checkMvoRedeemable, multiplePrescriptionOf, mvoExpiryAndAcceptDates } from '../workflow/mvo';
import { loadOrIssueFdSigner } from '../workflow/fd-signer';
import { mayAccept } from '../workflow/le-types';
import { buildReceiptBundle, signReceipt } from '../workflow/receipt';
import { isAllowedTransition, targetStatus, type WorkflowActor } from '../workflow/state-machine';
import { abortTaskByInsured, checkInsuredMayAbortFlowType, getTaskForInsured } from './task-insured';
import { documentId, ERP, FLOW_TYPES, renderAcceptBundle, renderBinary, renderTask, serialize, SUPPORTED_FLOW_TYPES } from '../workflow/task-resource';

// ------------------------------------------------------------------ helpers

function parseBody(req: FhirRequest): FhirResource {
  if (!req.body.length) throw new FhirError(400, 'request body is missing'); // ours
  try {
    return parseFhir(req.body.toString('utf8'), req.headers['content-type']);
  } catch (e) {
    throw new FhirError(400, 'error parsing request body', { diagnostics: e instanceof Error ? e.message : undefined }); // ours
  }
}

function loadTask(req: FhirRequest, ctx: FhirRouteContext): TaskRecord {
  const id = req.params.id;
  if (!isValidPrescriptionId(id)) throw new FhirError(404, 'Failed to parse prescription ID from URL parameter');
  const task = ctx.store.getTask(id);
  if (!task) throw new FhirError(404, 'Task not found for prescription id');
  return task;
}

function checkAccessCode(req: FhirRequest, task: TaskRecord): void {
  const ac = req.query.get('ac') ?? req.headers['x-accesscode'];
  if (!task.accessCode || ac !== task.accessCode) throw new FhirError(403, 'AccessCode mismatch', { vauErrorCode: 'brute_force' });
}

function checkSecret(req: FhirRequest, task: TaskRecord, text: string): void {
  const secret = req.query.get('secret');
  if (!task.secret || secret !== task.secret) throw new FhirError(403, text, { vauErrorCode: 'brute_force' });
}

function respond(status: number, resource: FhirResource, req: FhirRequest): FhirResponse {
  const s = serialize(resource, req.format);
  return { status, body: s.body, contentType: s.contentType };
}

function actorOf(req: FhirRequest): WorkflowActor {
  const c = req.auth.caller;
  if (c === 'prescriber' || c === 'pharmacy' || c === 'insured') return c;
  throw new FhirError(403, `endpoint is forbidden for professionOID ${req.auth.professionOID}`);
}

function rejectIfCancelled(task: TaskRecord, text = 'Task has already been deleted'): void {
  if (task.status === 'cancelled') throw new FhirError(410, text);
}

function parameters(res: FhirResource): FhirJson[] {
  if (res.resourceType !== 'Parameters') throw new FhirError(400, `expected a Parameters resource, got ${String(res.resourceType)}`); // ours
  return Array.isArray(res.parameter) ? (res.parameter as FhirJson[]) : [];
}

/** MedicationDispense (+ Medication) resources of a $dispense/$close body: Parameters rxDispensation, a Bundle or one MedicationDispense. */
function dispenseResources(body: FhirResource, task: TaskRecord): FhirResource[] {
  let resources: FhirResource[];
  if (body.resourceType === 'Parameters') {
    resources = parameters(body).flatMap((p) => (Array.isArray(p.part) ? (p.part as FhirJson[]) : [p])).map((p) => p.resource as FhirResource).filter(Boolean);
  } else if (body.resourceType === 'Bundle') {
    resources = (Array.isArray(body.entry) ? (body.entry as FhirJson[]) : []).map((e) => e.resource as FhirResource).filter(Boolean);
  } else {
    resources = [body];
  }
  const dispenses = resources.filter((r) => r.resourceType === 'MedicationDispense');
  if (!dispenses.length) throw new FhirError(400, 'no MedicationDispense in request body'); // ours
  for (const md of dispenses) {
    const ids = Array.isArray(md.identifier) ? (md.identifier as FhirJson[]) : md.identifier ? [md.identifier as FhirJson] : [];
    const pid = ids.find((i) => i.system === ERP.prescriptionId)?.value;
    if (pid !== task.id) throw new FhirError(400, 'Prescription ID and Task ID do not match', { diagnostics: String(pid) }); // production text of A_19248? ours
    const kvnr = ((md.subject as FhirJson | undefined)?.identifier as FhirJson | undefined)?.value;
    if (task.kvnr && kvnr !== task.kvnr) throw new FhirError(400, 'KVNR mismatch between MedicationDispense and Task', { diagnostics: String(kvnr) }); // ours
  }
  return resources.filter((r) => r.resourceType === 'MedicationDispense' || r.resourceType === 'Medication');
}

function storeDispenses(ctx: FhirRouteContext, task: TaskRecord, resources: FhirResource[]): void {
  ctx.store.deleteBinaries(task.id, 'medication-dispense');
  let n = 0;
  for (const r of resources) {
    const copy: FhirResource = { ...r };
    if (r.resourceType === 'MedicationDispense') {
      const index = n++; // production: <id>, <id>-1, <id>-2, …
      copy.id = index === 0 ? task.id : `${task.id}-${index}`;
    }
    ctx.store.putBinary({ taskId: task.id, kind: 'medication-dispense', contentType: 'application/fhir+json', data: Buffer.from(serializeFhirJson(copy)) });
  }
}

function dispenseBundle(ctx: FhirRouteContext, task: TaskRecord): FhirResource {
  const stored = ctx.store.binariesOfTask(task.id, 'medication-dispense').map((b) => JSON.parse(b.data.toString('utf8')) as FhirResource);
  return {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    type: 'searchset',
    timestamp: ctx.clock.now().toISOString().replace(/Z$/, '+00:00'),
    total: 0,
    entry: stored.map((r) => ({ fullUrl: r.resourceType === 'MedicationDispense' ? `${ctx.baseUrl}/MedicationDispense/${String(r.id)}` : `urn:uuid:${String(r.id)}`, resource: r })),
  };
}

function requireDeps(ctx: FhirRouteContext) {
  if (!ctx.pki || !ctx.dataDir) throw new Error('the workflow needs the PKI and the data directory in the route context');
  return { pki: ctx.pki, dataDir: ctx.dataDir };
}

/** The KBV bundle inside a stored signed prescription (CMS, verified at $activate). */
function signedBundle(cms: Buffer): FhirResource {
  const content = parseSignedData(cms).content;
  if (!content) throw new Error('stored prescription without content');
  return parseFhirXml(content.toString('utf8'));
}

function formatGermanDate(ymd: string): string {
  const [y, m, d] = ymd.split('-');
  return `${d}.${m}.${y}`;
}

// ------------------------------------------------------------------ handlers

async function createTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const params = parameters(parseBody(req));
  if (params.length !== 1) throw new FhirError(400, 'unexpected number of parameters');
  const p = params[0];
  if (p.name !== 'workflowType') throw new FhirError(400, 'workflowType Parameter not given');
  const coding = p.valueCoding as FhirJson | undefined;
  if (!coding || coding.system !== ERP.flowTypeCs) throw new FhirError(400, 'missing workflow system');
  const flowType = Number(coding.code);
  if (typeof coding.code !== 'string' || !SUPPORTED_FLOW_TYPES.includes(flowType)) throw new FhirError(400, 'Invalid workFlowType in incoming parameters');
  const task = ctx.store.transaction(() => {
    const id = buildPrescriptionId(flowType, ctx.store.nextPrescriptionNumber(flowType));
    return ctx.store.createTask({ id, flowType, status: targetStatus('create', 'prescriber'), accessCode: crypto.randomBytes(32).toString('hex'), prescriberId: req.auth.idNumber });
  });
  return respond(201, renderTask(task), req);
}

async function activateTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const deps = requireDeps(ctx);
  const task = loadTask(req, ctx);
  rejectIfCancelled(task);
  checkAccessCode(req, task);
  if (!isAllowedTransition('activate', task.status, 'prescriber')) throw new FhirError(403, `Task not in status draft but in status ${task.status}`);
  const params = parameters(parseBody(req));
  if (params.length !== 1) throw new FhirError(400, 'unexpected number of parameters');
  const binary = params.find((x) => x.name === 'ePrescription')?.resource as FhirJson | undefined;
  if (!binary || binary.resourceType !== 'Binary') throw new FhirError(400, 'Failed to get ePrescription from requestBody');
  if (typeof binary.data !== 'string' || !binary.data) throw new FhirError(400, 'Failed to get ePrescription. Document has no data.');

  const now = ctx.clock.now();
  const signed = await verifyPrescriptionSignature(binary.data, { pki: deps.pki, now });
  const bundle = parseAndValidateBundle(signed.content);
  const mvo = multiplePrescriptionOf(bundle);
  checkMultiplePrescription(mvo, bundle, authoredOnOf(bundle)); // production: right after the bundle validation
  const facts = checkBundleAgainstTask(bundle, signed, task);
  const invalidAnr = findInvalidAnr(bundle); // warning mode: activated anyway, answered with 252
  const dates = mvo?.isMvo ? mvoExpiryAndAcceptDates(mvo, facts.signingDay) : expiryAndAcceptDates(facts.signingDay, task.flowType);
  const fdSigner = loadOrIssueFdSigner(deps.pki, deps.dataDir, ctx.log);
  const confirmation = fdSigner.sign(signed.content, now);

  const updated = ctx.store.transaction(() => {
    const current = ctx.store.getTask(task.id);
    if (!current || current.status !== 'draft') throw new FhirError(403, `Task not in status draft but in status ${current?.status ?? 'cancelled'}`);
    ctx.store.putBinary({ id: documentId(task, 1), taskId: task.id, kind: 'signed-prescription', contentType: 'application/pkcs7-mime', data: signed.cms });
    ctx.store.putBinary({ id: documentId(task, 2), taskId: task.id, kind: 'server-signed-prescription', contentType: 'application/pkcs7-mime', data: confirmation });
    const t = ctx.store.updateTask(task.id, { status: targetStatus('activate', 'prescriber'), kvnr: facts.kvnr, expiryDate: dates.expiryDate, acceptDate: dates.acceptDate, authoredOn: facts.signingDay });
    auditWorkflow(ctx.store, { event: 'POST_Task_activate', kvnr: facts.kvnr, taskId: task.id, auth: req.auth });
    return t;
  });
  const answer = respond(200, renderTask(updated), req);
  if (!invalidAnr) return answer;
  return {
    ...answer,
    status: ACTIVATE_WARN_INVALID_ANR,
    // production writes the German text as UTF-8 bytes into the header (the inner HTTP head is serialized as latin1 code units)
    headers: { Warning: Buffer.from(`${ACTIVATE_WARN_INVALID_ANR} erp-server ${ACTIVATE_TEXT.anrChecksum}`, 'utf8').toString('latin1') },
    outerHeaders: { [invalidAnr.kind]: invalidAnr.value },
  };
}

async function acceptTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const task = loadTask(req, ctx);
  if (task.status === 'cancelled' || !task.accessCode) throw new FhirError(410, 'Task meanwhile deleted for prescription id');
  checkAccessCode(req, task);
  if (!isAllowedTransition('accept', task.status, 'pharmacy')) {
    const more = task.status === 'in-progress' && task.owner && task.owner === req.auth.idNumber ? [{ severity: 'error' as const, code: 'conflict' as const, text: 'Task is processed by requesting institution' }] : [];
    throw new FhirError(409, `Task has invalid status ${task.status}`, { moreIssues: more });
  }
  if (!mayAccept(task.flowType, req.auth.professionOID)) throw new FhirError(403, `flowtype ${task.flowType} may not be accepted by professionOID ${req.auth.professionOID}`); // ours (A_20055)
  if (task.expiryDate && task.expiryDate < berlinDay(ctx.clock.now())) throw new FhirError(403, `Verordnung bis ${formatGermanDate(task.expiryDate)} einlösbar.`);
  const prescription = ctx.store.getBinary(documentId(task, 1));
  if (!prescription) throw new Error(`task ${task.id} in status ready without prescription`);
  checkMvoRedeemable(multiplePrescriptionOf(signedBundle(prescription.data)), berlinDay(ctx.clock.now())); // A_22635 (production: after the status checks)
  const updated = ctx.store.transaction(() => {
    const t = ctx.store.updateTask(task.id, { status: targetStatus('accept', 'pharmacy'), secret: crypto.randomBytes(32).toString('hex'), owner: req.auth.idNumber ?? null });
    auditWorkflow(ctx.store, { event: 'POST_Task_accept', kvnr: task.kvnr, taskId: task.id, auth: req.auth });
    return t;
  });
  return respond(200, renderAcceptBundle(updated, prescription.data, ctx.baseUrl, crypto.randomUUID(), ctx.clock.now()), req);
}

async function rejectTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const task = loadTask(req, ctx);
  rejectIfCancelled(task);
  if (!isAllowedTransition('reject', task.status, 'pharmacy')) throw new FhirError(403, `Task not in status in progress, is: ${task.status}`);
  checkSecret(req, task, 'No or invalid secret provided for Task');
  ctx.store.transaction(() => {
    ctx.store.updateTask(task.id, { status: targetStatus('reject', 'pharmacy'), secret: null, owner: null });
    ctx.store.deleteBinaries(task.id, 'medication-dispense');
    auditWorkflow(ctx.store, { event: 'POST_Task_reject', kvnr: task.kvnr, taskId: task.id, auth: req.auth });
  });
  return { status: 204 };
}

async function dispenseTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const task = loadTask(req, ctx);
  // production DispenseTaskHandler: the secret first (a cancelled or not accepted task has none), then the status
  checkSecret(req, task, 'No or invalid secret provided for Task');
  if (!isAllowedTransition('dispense', task.status, 'pharmacy')) throw new FhirError(403, 'Task not in-progress.');
  const resources = dispenseResources(parseBody(req), task);
  ctx.store.transaction(() => {
    storeDispenses(ctx, task, resources);
    ctx.store.updateTask(task.id, {});
    auditWorkflow(ctx.store, { event: 'POST_Task_dispense', kvnr: task.kvnr, taskId: task.id, auth: req.auth });
  });
  return respond(200, dispenseBundle(ctx, task), req);
}

async function closeTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const deps = requireDeps(ctx);
  const task = loadTask(req, ctx);
  rejectIfCancelled(task);
  if (!isAllowedTransition('close', task.status, 'pharmacy')) throw new FhirError(403, `Task has to be in progress, but is: ${task.status}`);
  checkSecret(req, task, 'No or invalid secret provided for Task');
  const resources = req.body.length ? dispenseResources(parseBody(req), task) : undefined;
  if (!resources && ctx.store.binariesOfTask(task.id, 'medication-dispense').length === 0) throw new FhirError(403, 'Medication dispense does not exist.');
  const prescription = ctx.store.getBinary(documentId(task, 1));
  if (!prescription) throw new Error(`task ${task.id} in progress without prescription`);
  const now = ctx.clock.now();
  const fdSigner = loadOrIssueFdSigner(deps.pki, deps.dataDir, ctx.log);
  const unsigned = buildReceiptBundle({
    taskId: task.id,
    pharmacyId: req.auth.idNumber ?? task.owner ?? 'unknown',
    inProgressSince: task.lastStatusChange,
    completedAt: now,
    prescriberSignatureDigest: prescriberSignatureDigest(prescription.data),
    baseUrl: ctx.baseUrl,
  });
  const receipt = signReceipt(unsigned, fdSigner, now);
  ctx.store.transaction(() => {
    if (resources) storeDispenses(ctx, task, resources);
    ctx.store.deleteBinaries(task.id, 'receipt');
    ctx.store.putBinary({ id: documentId(task, 3), taskId: task.id, kind: 'receipt', contentType: 'application/fhir+json', data: Buffer.from(serializeFhirJson(receipt.bundle)) });
    ctx.store.updateTask(task.id, { status: targetStatus('close', 'pharmacy') });
    auditWorkflow(ctx.store, { event: 'POST_Task_close', kvnr: task.kvnr, taskId: task.id, auth: req.auth });
  });
  return respond(200, receipt.bundle, req);
}

async function getTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  if (req.auth.caller === 'insured') return getTaskForInsured(req, ctx);
  const task = loadTask(req, ctx);
  rejectIfCancelled(task);
  const self = `${ctx.baseUrl}/Task/${task.id}`;
  const entry: FhirJson[] = [];
  if (req.query.get('secret') !== null) {
    checkSecret(req, task, 'No or invalid secret provided for user pharmacy');
    if (task.status === 'completed') {
      const receipt = ctx.store.getBinary(documentId(task, 3));
      entry.push({ fullUrl: self, resource: renderTask(task, { withSecret: true, withReceipt: true, withAccessCode: false }) });
      if (receipt) entry.push({ fullUrl: `urn:uuid:${documentId(task, 3)}`, resource: JSON.parse(receipt.data.toString('utf8')) as FhirJson });
    } else if (task.status === 'in-progress') {
      entry.push({ fullUrl: self, resource: renderTask(task, { withSecret: true, withAccessCode: false }) });
    } else {
      throw new FhirError(412, 'Task not in-progress.');
    }
  } else {
    // secret recovery after data loss (production GetTaskHandler, gemSpec_FD_eRp A_24177/A_24178/A_24176/A_24179):
    // GET /Task/<id>?ac=<AccessCode> by the pharmacy that accepted the task: Task with Secret and the prescription again
    if (req.query.get('ac') === null && req.headers['x-accesscode'] === undefined) throw new FhirError(403, 'Neither AccessCode(ac) nor secret provided as URI-Parameter.');
    checkAccessCode(req, task);
    if (task.status !== 'in-progress') throw new FhirError(412, 'Task not in-progress.');
    if (!task.owner || task.owner !== req.auth.idNumber) throw new FhirError(412, "Task.owner doesn't match idNumberClaim in ACCESS_TOKEN");
    const prescription = ctx.store.getBinary(documentId(task, 1));
    if (!prescription) throw new Error(`task ${task.id} in progress without prescription`);
    entry.push({ fullUrl: self, resource: renderTask(task, { withSecret: true, withAccessCode: false, onlyPrescriptionInput: true }) });
    entry.push({ fullUrl: `urn:uuid:${documentId(task, 1)}`, resource: renderBinary(documentId(task, 1), 'application/pkcs7-mime', prescription.data) });
  }
  auditWorkflow(ctx.store, { event: 'GET_Task_id_pharmacy', kvnr: task.kvnr, taskId: task.id, auth: req.auth });
  return respond(200, { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'collection', link: [{ relation: 'self', url: self }], entry }, req);
}

async function abortTask(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const actor = actorOf(req);
  const task = loadTask(req, ctx);
  rejectIfCancelled(task);
  if (task.status === 'draft') throw new FhirError(403, 'Abort not expected for newly created Task');
  if (actor === 'pharmacy') {
    if (!isAllowedTransition('abort', task.status, 'pharmacy')) throw new FhirError(403, `Task must be in progress for user pharmacy, is: ${task.status}`);
    checkSecret(req, task, 'No or invalid secret provided for user pharmacy');
  } else {
    // production checks the insured's flow-type rule (169/209 only when completed) before the in-progress rule
    if (actor === 'insured') checkInsuredMayAbortFlowType(task);
    if (task.status === 'in-progress') throw new FhirError(403, `Task must not be in progress for users other than pharmacy, but is: ${task.status}`);
    if (actor === 'insured') return abortTaskByInsured(req, ctx, task);
    if (!isAllowedTransition('abort', task.status, 'prescriber')) throw new FhirError(403, `Task must be ready for doctor, but is: ${task.status}`);
    checkAccessCode(req, task);
  }
  ctx.store.transaction(() => {
    // A_18820 / A_19027: delete personal and medical data; the Task row stays as cancelled (410 afterwards)
    ctx.store.deleteBinaries(task.id);
    ctx.store.updateTask(task.id, { status: 'cancelled', kvnr: null, accessCode: null, secret: null, owner: null, prescriberId: null });
    auditWorkflow(ctx.store, { event: actor === 'pharmacy' ? 'POST_Task_abort_pharmacy' : 'POST_Task_abort_doctor', kvnr: task.kvnr, taskId: task.id, auth: req.auth });
  });
  return { status: 204 };
}

export const taskRoutes: FhirRouteModule = (router) => {
  router.register(
    { method: 'POST', pattern: '/Task/$create', roles: OPERATION_ROLES.createTask, operation: 'Task.$create', handler: createTask },
    { method: 'POST', pattern: '/Task/:id/$activate', roles: OPERATION_ROLES.activateTask, operation: 'Task.$activate', handler: activateTask },
    { method: 'POST', pattern: '/Task/:id/$accept', roles: OPERATION_ROLES.acceptTask, operation: 'Task.$accept', handler: acceptTask },
    { method: 'POST', pattern: '/Task/:id/$reject', roles: OPERATION_ROLES.rejectTask, operation: 'Task.$reject', handler: rejectTask },
    { method: 'POST', pattern: '/Task/:id/$dispense', roles: OPERATION_ROLES.dispenseTask, operation: 'Task.$dispense', handler: dispenseTask },
    { method: 'POST', pattern: '/Task/:id/$close', roles: OPERATION_ROLES.closeTask, operation: 'Task.$close', handler: closeTask },
    { method: 'POST', pattern: '/Task/:id/$abort', roles: OPERATION_ROLES.abortTask, operation: 'Task.$abort', handler: abortTask },
    { method: 'GET', pattern: '/Task/:id', roles: OPERATION_ROLES.getTask, operation: 'Task.read', handler: getTask },
  );
};

export { FLOW_TYPES };
