/**
 * Messages (Communication) of the Fachdienst: POST /Communication (DispReq insured → pharmacy, Reply
 * pharmacy → insured, Representative insured ↔ insured), GET /Communication (own sent and received,
 * search and paging), GET /Communication/{id}, DELETE /Communication/{id} (sender only, Warning when
 * already received). Order of checks, status codes and texts as production's CommunicationPostHandler,
 * CommunicationGetHandler and CommunicationDeleteHandler (texts: workflow/communication-rules.ts;
 * rules and sources: docs/fachdienst-messages.md). Production writes no AuditEvent for messages.
 *
 * A task's messages are deleted when it is completed or cancelled (triggers of store migration 3) and
 * 100 days after sending (retention.ts, A_18788).
 */
import * as crypto from 'node:crypto';
import { parseFhir, serializeFhirJson, validateResource, errorsOf, type FhirJson, type FhirResource } from '../../lib/fhir';
import type { FhirRequest, FhirResponse, FhirRouteContext, FhirRouteModule } from '../fhir-router';
import { FhirError } from '../outcome';
import { OPERATION_ROLES } from '../roles';
import type { CommunicationRecord } from '../store';
import { berlinDay } from '../workflow/activate-checks';
import {
  COMMUNICATION_LOCATION,
  COMMUNICATION_PROFILES,
  COMMUNICATION_TEXT as T,
  MAX_REPRESENTATIVE_MESSAGES,
  NAMING,
  isCommunicationId,
  isKvnrFormat,
  isTelematikIdFormat,
  messageTypeOf,
  newCommunicationId,
  parseTaskReference,
  recipientOf,
  sameVerificationKind,
  verifyPayload,
} from '../workflow/communication-rules';
import { fhirInstant, serialize } from '../workflow/task-resource';
import { bundleLinks, DEFAULT_PAGE_SIZE, matchesDate, parsePaging, parseSearchPeriod, parseSort, sortBy, type Period, type SearchPrefix } from '../workflow/paging';

/** Page size of GET /Communication (production: _count default and maximum 50). */
export const COMMUNICATION_PAGE_SIZE = DEFAULT_PAGE_SIZE;

function parseBody(req: FhirRequest): FhirResource {
  if (!req.body.length) throw new FhirError(400, T.validation, { diagnostics: 'request body is missing' });
  let res: FhirResource;
  try {
    res = parseFhir(req.body.toString('utf8'), req.headers['content-type']);
  } catch (e) {
    throw new FhirError(400, T.validation, { diagnostics: e instanceof Error ? e.message : String(e) });
  }
  if (res.resourceType !== 'Communication') throw new FhirError(400, T.validation, { diagnostics: `expected a Communication, got ${String(res.resourceType)}` });
  return res;
}

/**
 * Validation against the workflow package's profile (1.6.1; 1.4/1.5 requests are validated against it).
 * `sender`, `sent`, `received` and `id` are set by the server and left out (the package validator
 * reads Reply.sender.identifier's two allowed profiles as both required).
 */
function validateAgainstProfile(res: FhirResource, url: string): void {
  const copy: FhirResource = JSON.parse(JSON.stringify(res)) as FhirResource;
  delete copy.sender;
  delete copy.sent;
  delete copy.received;
  delete copy.id;
  copy.meta = { ...(copy.meta as FhirJson), profile: [`${url}|1.6`] };
  const errors = errorsOf(validateResource(copy));
  if (errors.length) {
    throw new FhirError(400, T.validation, {
      diagnostics: errors.slice(0, 20).map((i) => `${i.location}: ${i.message}`).join('; '),
      moreIssues: errors.slice(0, 20).map((i) => ({ severity: 'error' as const, code: 'invalid' as const, diagnostics: i.message, expression: i.location ? [i.location] : [] })),
    });
  }
}

function identityJson(value: string): FhirJson {
  return { identifier: { system: isKvnrFormat(value) ? NAMING.kvid10 : NAMING.telematikId, value } };
}

/** The resource as answered: stored JSON, `received` when set, and production's basedOn forms. */
function render(rec: CommunicationRecord, form: 'post' | 'read'): FhirResource {
  const res = JSON.parse(rec.resource) as FhirResource;
  if (rec.received) {
    // element order as production: … sent, received, recipient …
    const out: FhirResource = { resourceType: 'Communication' };
    for (const [k, v] of Object.entries(res)) {
      if (k === 'received') continue;
      out[k] = v;
      if (k === 'sent') out.received = fhirInstant(rec.received);
    }
    return rewriteReference(out, form);
  }
  return rewriteReference(res, form);
}

/**
 * Production answers a "$accept?ac=" reference as "<id>/$accept?ac=…" in the POST response and as
 * "/Task/<id>/$accept?ac=…" when read (ru-dumps 009_Response_Communication.json, 010_Response_Bundle.xml).
 */
function rewriteReference(res: FhirResource, form: 'post' | 'read'): FhirResource {
  const basedOn = Array.isArray(res.basedOn) ? (res.basedOn as FhirJson[]) : undefined;
  const ref = basedOn?.[0]?.reference;
  if (!basedOn || typeof ref !== 'string') return res;
  const m = /(?:^|\/)Task\/([^/?]+)\/\$accept(\?.*)?$/.exec(ref);
  if (!m) return res;
  const reference = form === 'post' ? `${m[1]}/$accept${m[2] ?? ''}` : `/Task/${m[1]}/$accept${m[2] ?? ''}`;
  return { ...res, basedOn: [{ ...basedOn[0], reference }, ...basedOn.slice(1)] };
}

function respond(status: number, resource: FhirResource, req: FhirRequest, headers?: Record<string, string>): FhirResponse {
  const s = serialize(resource, req.format);
  return { status, body: s.body, contentType: s.contentType, ...(headers ? { headers } : {}) };
}

// ------------------------------------------------------------------ POST /Communication

async function postCommunication(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const resource = parseBody(req);
  const { type } = messageTypeOf(resource);
  validateAgainstProfile(resource, COMMUNICATION_PROFILES[type]);
  const ref = parseTaskReference(resource);
  const recipient = recipientOf(resource);

  // A_19448-01: sender and sent from the token and the clock
  const senderClaim = req.auth.idNumber;
  if (!senderClaim) throw new FhirError(400, T.noSenderClaim);
  if (!req.auth.professionOID) throw new FhirError(400, T.noProfessionClaim);
  if (type === 'Reply') {
    if (req.auth.caller !== 'pharmacy') throw new FhirError(400, T.replySenderOid);
    if (!isTelematikIdFormat(senderClaim)) throw new FhirError(400, T.telematikIdFormat);
  } else {
    if (req.auth.caller !== 'insured') throw new FhirError(400, T.senderOid);
    if (!isKvnrFormat(senderClaim)) throw new FhirError(400, T.invalidKvnr);
  }
  const sender = senderClaim;

  // A_21371-02: the task exists; DispReq only for ready, unexpired tasks (A_26320, A_26321)
  const task = ctx.store.getTask(ref.prescriptionId);
  if (!task) throw new FhirError(400, T.taskMissing(ref.prescriptionId));
  if (type === 'DispReq') {
    if (task.status !== 'ready') throw new FhirError(400, T.taskInvalidStatus);
    if (task.expiryDate && task.expiryDate < berlinDay(ctx.clock.now())) throw new FhirError(400, T.taskExpired);
  }
  if (!task.kvnr) throw new FhirError(400, T.taskWithoutKvnr);
  const taskKvnr = task.kvnr;

  // recipient form per message type
  if (type === 'DispReq') {
    if (recipient.kind !== 'telematikId') throw new FhirError(400, T.expectedTelematikId);
    if (!isTelematikIdFormat(recipient.value)) throw new FhirError(400, T.telematikIdFormat);
  } else {
    if (recipient.kind !== 'kvnr') throw new FhirError(400, T.expectedKvnr);
    if (!isKvnrFormat(recipient.value)) throw new FhirError(400, T.invalidKvnr);
  }

  // A_20229-01: at most 10 Representative messages per task between the two KVNRs
  if (type === 'Representative' && ctx.store.countRepresentativeCommunications(task.id, sender, recipient.value) >= MAX_REPRESENTATIVE_MESSAGES) {
    throw new FhirError(429, T.tooMany(MAX_REPRESENTATIVE_MESSAGES));
  }

  // A_20885-03: eligibility of the insured (AccessCode in basedOn or, for a representative, in X-AccessCode)
  if (type === 'DispReq' || type === 'Representative') {
    if (type === 'DispReq' && ref.accessCode === undefined) throw new FhirError(400, T.dispReqAccessCode);
    if (type === 'Representative' && sender === taskKvnr && ref.accessCode === undefined) throw new FhirError(400, T.representativeAccessCode);
    if (sender !== taskKvnr) {
      const headerAc = req.headers['x-accesscode'];
      if (headerAc === undefined) throw new FhirError(400, T.headerAccessCode);
      if (headerAc !== task.accessCode) throw new FhirError(400, T.headerAccessCodeMismatch);
    }
  }

  // A_20230-01
  if (type === 'Representative' && task.status !== 'ready' && task.status !== 'in-progress') throw new FhirError(400, T.representativeStatus);
  // A_20231
  if (recipient.value === sender) throw new FhirError(400, T.toSelf);
  // A_20752 / A_20755: no messages between Prüfidentitäten and insured, in either direction
  if (type === 'Representative' && !sameVerificationKind(sender, recipient.value)) throw new FhirError(400, T.verificationIdentity);
  // A_20753
  if (type === 'DispReq' && !sameVerificationKind(sender, taskKvnr)) throw new FhirError(400, T.verificationIdentity);
  if (type === 'Reply' && !sameVerificationKind(recipient.value, taskKvnr)) throw new FhirError(400, T.verificationIdentity);
  if (type === 'Representative' && (!sameVerificationKind(sender, taskKvnr) || !sameVerificationKind(recipient.value, taskKvnr))) {
    throw new FhirError(400, T.verificationIdentity);
  }

  // A_19450-01, A_23878, A_23879
  verifyPayload(resource, type);

  const now = ctx.clock.now();
  const id = newCommunicationId(now, crypto.randomBytes(10));
  const stored: FhirResource = { resourceType: 'Communication', id };
  for (const [k, v] of Object.entries(resource)) {
    if (k === 'resourceType' || k === 'id' || k === 'sent' || k === 'received' || k === 'sender') continue;
    if (k === 'recipient') stored.sent = fhirInstant(now);
    stored[k] = v;
    if (k === 'recipient') stored.sender = identityJson(sender);
  }
  if (!stored.sent) stored.sent = fhirInstant(now);
  if (!stored.sender) stored.sender = identityJson(sender);
  const rec = ctx.store.insertCommunication({
    id,
    messageType: type,
    taskId: task.id,
    sender,
    recipient: recipient.value,
    sent: now.toISOString(),
    resource: serializeFhirJson(stored),
  });
  return respond(201, render(rec, 'post'), req, { Location: `${COMMUNICATION_LOCATION}${id}` });
}

// ------------------------------------------------------------------ GET /Communication

/** A `sent`/`received` search criterion: a FHIR date period (workflow/paging.ts), or NULL (no period). */
interface DateCriterion {
  param: 'sent' | 'received';
  prefix: SearchPrefix;
  /** undefined = NULL */
  period?: Period;
}

const DATE_PREFIXES: readonly SearchPrefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'];

function parseDateCriterion(param: 'sent' | 'received', raw: string): DateCriterion {
  const prefix = DATE_PREFIXES.find((p) => raw.startsWith(p)) ?? 'eq';
  const value = DATE_PREFIXES.some((p) => raw.startsWith(p)) ? raw.slice(2) : raw;
  if (value === 'NULL') {
    if (prefix !== 'eq' && prefix !== 'ne') throw new FhirError(400, `invalid search argument ${param}=${raw}`); // ours
    return { param, prefix };
  }
  const period = parseSearchPeriod(value);
  if (!period) throw new FhirError(400, `invalid search argument ${param}=${raw}`); // ours
  return { param, prefix, period };
}

function matchesCriterion(c: DateCriterion, iso: string | undefined): boolean {
  if (!c.period) return c.prefix === 'eq' ? iso === undefined : iso !== undefined;
  return matchesDate([{ prefix: c.prefix, period: c.period }], iso);
}

const SORT_KEYS: Record<string, (r: CommunicationRecord) => string> = {
  sent: (r) => r.sent,
  received: (r) => r.received ?? '',
  sender: (r) => r.sender,
  recipient: (r) => r.recipient,
};

async function getCommunications(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const caller = req.auth.idNumber;
  if (!caller) throw new Error('JWT does not contain a claim for the caller'); // production: Expect → 500
  const dates: DateCriterion[] = [];
  const identities: Array<{ param: 'sender' | 'recipient'; value: string }> = [];
  const searchArgs: Array<[string, string]> = [];
  for (const [k, v] of req.query) {
    if (k === 'sent' || k === 'received') dates.push(parseDateCriterion(k, v));
    else if (k === 'sender' || k === 'recipient') identities.push({ param: k, value: v });
    else if (k !== '_sort') continue; // production ignores unknown parameters; _count/__offset: parsePaging
    searchArgs.push([k, v]);
  }
  const sort = parseSort(req.query, Object.keys(SORT_KEYS), 'sent');
  const paging = parsePaging(req.query);
  const matching = ctx.store
    .communicationsOf(caller)
    .filter((r) => dates.every((d) => matchesCriterion(d, d.param === 'sent' ? r.sent : r.received)))
    .filter((r) => identities.every((i) => (i.param === 'sender' ? r.sender : r.recipient) === i.value));
  const all = sortBy(matching, sort, (r, key) => SORT_KEYS[key](r));
  const page = all.slice(paging.offset, paging.offset + paging.count);

  // A_19521: mark what the recipient fetched
  const now = ctx.clock.now().toISOString();
  const toMark = page.filter((r) => r.recipient === caller && !r.received);
  ctx.store.markCommunicationsReceived(toMark.map((r) => r.id), now);
  for (const r of toMark) r.received = now;

  const link = bundleLinks({ base: ctx.baseUrl, path: '/Communication', searchArgs, paging, total: all.length });
  const bundle: FhirResource = {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    type: 'searchset',
    timestamp: fhirInstant(ctx.clock.now()),
    total: all.length,
    link,
    entry: page.map((r) => ({ fullUrl: `${ctx.baseUrl}/Communication/${r.id}`, resource: render(r, 'read'), search: { mode: 'match' } })),
  };
  return respond(200, bundle, req);
}

async function getCommunication(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const caller = req.auth.idNumber;
  if (!caller) throw new Error('JWT does not contain a claim for the caller'); // production: Expect → 500
  const id = req.params.id;
  if (!isCommunicationId(id)) throw new FhirError(400, T.invalidId);
  const rec = ctx.store.getCommunication(id);
  if (!rec || (rec.sender !== caller && rec.recipient !== caller)) throw new FhirError(404, T.notFoundGet);
  if (rec.recipient === caller && !rec.received) {
    const now = ctx.clock.now().toISOString();
    ctx.store.markCommunicationsReceived([rec.id], now);
    rec.received = now;
  }
  return respond(200, render(rec, 'read'), req);
}

// ------------------------------------------------------------------ DELETE /Communication/{id}

async function deleteCommunication(req: FhirRequest, ctx: FhirRouteContext): Promise<FhirResponse> {
  const sender = req.auth.idNumber;
  if (!sender) throw new FhirError(400, T.noSenderClaim);
  const id = req.params.id;
  if (!isCommunicationId(id)) throw new FhirError(400, T.invalidId);
  const rec = ctx.store.getCommunication(id);
  if (!rec) throw new FhirError(404, T.notFoundDelete(id));
  if (rec.sender !== sender) throw new FhirError(401, T.notAllowedDelete(sender, id));
  ctx.store.deleteCommunication(id);
  // A_20259: tell the sender when the recipient had fetched it already
  return { status: 204, ...(rec.received ? { headers: { Warning: T.deletedWarning(fhirInstant(rec.received)) } } : {}) };
}

export const communicationRoutes: FhirRouteModule = (router) => {
  router.register(
    { method: 'POST', pattern: '/Communication', roles: OPERATION_ROLES.communication, operation: 'Communication.create', handler: postCommunication },
    { method: 'GET', pattern: '/Communication', roles: OPERATION_ROLES.communication, operation: 'Communication.search', handler: getCommunications },
    { method: 'GET', pattern: '/Communication/:id', roles: OPERATION_ROLES.communication, operation: 'Communication.read', handler: getCommunication },
    { method: 'DELETE', pattern: '/Communication/:id', roles: OPERATION_ROLES.communication, operation: 'Communication.delete', handler: deleteCommunication },
  );
};

