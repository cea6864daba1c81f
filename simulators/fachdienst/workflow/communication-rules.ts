/**
 * The rules of the Fachdienst's messages (Communication; gemSysL_eRp A_18869/A_18870/A_20261, UC 3.3,
 * 3.4, 3.8, 4.6, 4.7, 4.9) that do not need the database: message type from meta.profile, the Task
 * reference in basedOn (PrescriptionID and AccessCode), sender/recipient identities, the payload rules
 * and the JSON schemas of the DispReq/Reply payloads. Facts (texts, limits, schemas) from the
 * production Fachdienst (eRP-FD/erp-processing-context: CommunicationPostHandler, model/Communication,
 * model/CommunicationPayload, resources/production/schema/shared/json/CommunicationDispReqPayloadV1.json
 * and CommunicationReplyPayload.json); docs/fachdienst-messages.md lists them with their sources.
 *
 * Production turns every model error of a Communication into 400 "Invalid request body" with the
 * model's text as diagnostics (`invalidBody`).
 */
import { isValidPrescriptionId } from '../../lib/erezept-token';
import { isPruefidentitaetKvnr } from '../../lib/pruefkarte';
import type { FhirJson, FhirResource } from '../../lib/fhir';
import { FhirError } from '../outcome';
import type { CommunicationMessageType } from '../store';

export const COMMUNICATION_PROFILE_BASE = 'https://gematik.de/fhir/erp/StructureDefinition/';

/** Profile URL (without version) per message type in scope. */
export const COMMUNICATION_PROFILES: Readonly<Record<CommunicationMessageType, string>> = {
  DispReq: `${COMMUNICATION_PROFILE_BASE}GEM_ERP_PR_Communication_DispReq`,
  Reply: `${COMMUNICATION_PROFILE_BASE}GEM_ERP_PR_Communication_Reply`,
  Representative: `${COMMUNICATION_PROFILE_BASE}GEM_ERP_PR_Communication_Representative`,
};

/**
 * meta.profile versions accepted (workflow 1.4 as in the 2025-03 production dumps, 1.5, and 1.6 of the
 * package in ../shared/fhir-packages, against which every version is validated).
 */
export const ACCEPTED_PROFILE_VERSIONS = ['1.4', '1.5', '1.6'] as const;

/** Production's Location prefix (structure_definition::communicationLocation). */
export const COMMUNICATION_LOCATION = 'http://prescriptionserver.telematik/Communication/';

/** CommunicationPayload::maxPayloadSize (bytes of payload[0].contentString). */
export const MAX_PAYLOAD_BYTES = 10240;

/** ERP_SERVICE_COMMUNICATION_MAX_MESSAGES: Representative messages per task and pair of KVNRs (A_20229-01). */
export const MAX_REPRESENTATIVE_MESSAGES = 10;

export const NAMING = {
  kvid10: 'http://fhir.de/sid/gkv/kvid-10',
  telematikId: 'https://gematik.de/fhir/sid/telematik-id',
} as const;

/** Production texts (CommunicationPostHandler / CommunicationGetHandler / CommunicationDeleteHandler / model). */
export const COMMUNICATION_TEXT = {
  invalidBody: 'Invalid request body',
  validation: 'parsing / validation error',
  profileMissing: 'Profile missing in Communication message.',
  noSenderClaim: 'JWT does not contain a claim for the sender',
  noProfessionClaim: 'JWT does not contain a claim for the senders profession Oid',
  replySenderOid: 'Invalid sender profession oid in communication reply message',
  senderOid: 'Invalid sender profession oid in communication message',
  telematikIdFormat: 'A valid Telematic ID must contain at least one "-"',
  invalidKvnr: 'Invalid Kvnr',
  taskMissing: (id: string) => `Task for prescription id ${id} is missing`,
  taskInvalidStatus: 'Task has invalid status.',
  taskExpired: 'Task is expired.',
  taskWithoutKvnr: 'Referenced task does not contain a KVNR',
  expectedTelematikId: 'Expected TelematikId, got KVNR',
  expectedKvnr: 'Expected KVNR, got TelematikId',
  tooMany: (max: number) => `there are already ${max} KVNR to KVNR messages`,
  dispReqAccessCode: 'Dispense request must contain an access code in payload',
  representativeAccessCode: 'Representative message sent by insurant must contain an access code in payload',
  headerAccessCode: 'Header must contain an access code',
  headerAccessCodeMismatch: 'Access code of header not equal to access code of referenced task',
  representativeStatus: "Messages between KVNR's are restricted to prescriptions that are ready or in-progress",
  toSelf: 'messages to self are not permitted',
  verificationIdentity: 'KVNR verification identities may not access information from insurants and vice versa',
  invalidId: 'Invalid format of communication id',
  notFoundGet: 'no Communication found for id',
  notFoundDelete: (id: string) => `No communication found for id ${id}`,
  notAllowedDelete: (caller: string, id: string) => `${caller} is not allowed to delete communication for id ${id}`,
  deletedWarning: (receivedXs: string) => `Deleted message delivered at ${receivedXs}`,
  // model texts (diagnostics of "Invalid request body")
  referenceUnparsable: 'Failed to parse prescription ID from reference',
  payloadNotArray: "Element 'payload' must be array.",
  payloadCount: 'Must be exactly one payload item.',
  payloadNotString: "Payload type must be 'contentString'.",
  payloadTooLarge: `Payload must not exceed ${MAX_PAYLOAD_BYTES / 1000 | 0} KB.`,
  payloadInvalidJson: 'Invalid JSON in payload.contentString',
  payloadSchema: 'Invalid payload: does not conform to expected JSON schema: ',
  payloadOnPremise: "Invalid payload: Value of 'supplyOptionsType' must be 'onPremise'",
  payloadUrl: 'Invalid payload: URL not valid.',
} as const;

export function invalidBody(diagnostics: string): FhirError {
  return new FhirError(400, COMMUNICATION_TEXT.invalidBody, { diagnostics });
}

/** The profile list production names when a profile is not accepted. */
export function supportedProfileList(): string {
  return Object.values(COMMUNICATION_PROFILES)
    .flatMap((url) => ACCEPTED_PROFILE_VERSIONS.map((v) => `${url}|${v}`))
    .join(', ');
}

/** Message type from meta.profile[0] (400 "Profile missing …" / "Invalid request body: invalid profile …"). */
export function messageTypeOf(resource: FhirResource): { type: CommunicationMessageType; profile: string; version: string } {
  const profiles = (resource.meta as FhirJson | undefined)?.profile;
  const profile = Array.isArray(profiles) && typeof profiles[0] === 'string' ? (profiles[0] as string) : undefined;
  if (!profile) throw new FhirError(400, COMMUNICATION_TEXT.profileMissing);
  const [url, version = ''] = profile.split('|');
  const type = (Object.keys(COMMUNICATION_PROFILES) as CommunicationMessageType[]).find((t) => COMMUNICATION_PROFILES[t] === url);
  const majorMinor = version.split('.').slice(0, 2).join('.');
  if (!type || !(ACCEPTED_PROFILE_VERSIONS as readonly string[]).includes(majorMinor)) {
    throw invalidBody(`invalid profile ${profile} must be one of: ${supportedProfileList()}`);
  }
  return { type, profile, version };
}

export interface TaskReference {
  prescriptionId: string;
  accessCode?: string;
  /** The reference had the "$accept?ac=" form (DispReq, Representative). */
  withAccept: boolean;
}

/**
 * basedOn[0].reference: "[base/]Task/<id>" or "[base/]Task/<id>/$accept?ac=<AccessCode>" (production's
 * retrievePrescriptionIdFromReference / retrieveAccessCodeFromTaskReference).
 */
export function parseTaskReference(resource: FhirResource): TaskReference {
  const basedOn = resource.basedOn;
  const reference = Array.isArray(basedOn) ? ((basedOn[0] as FhirJson | undefined)?.reference as unknown) : undefined;
  if (typeof reference !== 'string') throw invalidBody(COMMUNICATION_TEXT.referenceUnparsable);
  const q = reference.indexOf('?');
  const pathPart = q >= 0 ? reference.slice(0, q) : reference;
  const query = new URLSearchParams(q >= 0 ? reference.slice(q + 1) : '');
  const m = /(?:^|\/)Task\/([^/]+)(\/\$accept)?$/.exec(pathPart);
  if (!m || !isValidPrescriptionId(m[1])) throw invalidBody(COMMUNICATION_TEXT.referenceUnparsable);
  const ac = query.get('ac');
  return { prescriptionId: m[1], withAccept: !!m[2], ...(ac !== null ? { accessCode: ac } : {}) };
}

/** The identity of recipient[0].identifier: KVNR (kvid-10 or pkv) or Telematik-ID. */
export function recipientOf(resource: FhirResource): { kind: 'kvnr' | 'telematikId'; value: string } {
  const rec = Array.isArray(resource.recipient) ? (resource.recipient[0] as FhirJson | undefined) : undefined;
  const id = rec?.identifier as FhirJson | undefined;
  const value = typeof id?.value === 'string' ? id.value : '';
  return { kind: id?.system === NAMING.telematikId ? 'telematikId' : 'kvnr', value };
}

/** Production's Kvnr::validFormat (letter + 9 digits). */
export function isKvnrFormat(value: string): boolean {
  return /^[A-Z][0-9]{9}$/.test(value);
}

/** Production's TelematikId::validFormat: contains at least one "-". */
export function isTelematikIdFormat(value: string): boolean {
  return value.includes('-');
}

/** Both KVNRs Prüfidentitäten, or neither (A_20752/A_20753/A_20755). */
export function sameVerificationKind(a: string, b: string): boolean {
  return isPruefidentitaetKvnr(a) === isPruefidentitaetKvnr(b);
}

/** Production's Uuid::isValidIheUuid. */
export function isCommunicationId(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

// ------------------------------------------------------------------ payload

type JsonSchema = {
  type?: 'object' | 'string' | 'array';
  enum?: readonly unknown[];
  maxLength?: number;
  format?: 'uri';
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean;
};

const SUPPLY_OPTIONS = ['onPremise', 'shipment', 'delivery'] as const;

/** CommunicationDispReqPayloadV1.json (production). */
export const DISP_REQ_PAYLOAD_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    version: { enum: [1] },
    supplyOptionsType: { enum: SUPPLY_OPTIONS },
    name: { type: 'string', maxLength: 100 },
    address: { type: 'array', items: { type: 'string', maxLength: 500 } },
    hint: { type: 'string', maxLength: 500 },
    phone: { type: 'string', maxLength: 32 },
  },
  required: ['version', 'supplyOptionsType'],
  additionalProperties: false,
};

/** CommunicationReplyPayload.json (production). */
export const REPLY_PAYLOAD_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    version: { enum: [1] },
    supplyOptionsType: { enum: SUPPLY_OPTIONS },
    info_text: { type: 'string', maxLength: 500 },
    url: { type: 'string', format: 'uri', maxLength: 500 },
    pickUpCodeHR: { type: 'string', maxLength: 8 },
    pickUpCodeDMC: { type: 'string', maxLength: 128 },
  },
  required: ['version', 'supplyOptionsType'],
  additionalProperties: false,
};

/** RFC 3986 URI (scheme ":" rest, no spaces) — the draft-04 "uri" format. */
function isUri(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/.test(s);
}

/** The first violation of `schema` by `value` ("<pointer>: <reason>"; wording ours), or undefined. */
export function schemaViolation(value: unknown, schema: JsonSchema, pointer = '#'): string | undefined {
  if (schema.enum && !schema.enum.some((e) => e === value)) return `${pointer}: value ${JSON.stringify(value)} not in enum ${JSON.stringify(schema.enum)}`;
  if (schema.type === 'string') {
    if (typeof value !== 'string') return `${pointer}: expected string`;
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return `${pointer}: string longer than ${schema.maxLength}`;
    // "format" is not checked: production's validator (RapidJSON) ignores it; the Reply url is checked afterwards.
  }
  if (schema.type === 'array') {
    if (!Array.isArray(value)) return `${pointer}: expected array`;
    for (let i = 0; i < value.length && schema.items; i++) {
      const v = schemaViolation(value[i], schema.items, `${pointer}/${i}`);
      if (v) return v;
    }
  }
  if (schema.type === 'object') {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return `${pointer}: expected object`;
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) return `${pointer}: missing required property "${r}"`;
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (!sub) {
        if (schema.additionalProperties === false) return `${pointer}: additional property "${k}" not allowed`;
        continue;
      }
      const violation = schemaViolation(v, sub, `${pointer}/${k}`);
      if (violation) return violation;
    }
  }
  return undefined;
}

/**
 * Production's Communication::verifyPayload (A_19450-01, A_23878, A_23879): no payload is fine; else
 * exactly one item with contentString of at most 10240 bytes; for DispReq and Reply the contentString
 * is JSON conforming to the payload schema; a Reply with a pick-up code needs supplyOptionsType
 * onPremise and a parsable url. Throws 400 "Invalid request body" with the model text.
 */
export function verifyPayload(resource: FhirResource, type: CommunicationMessageType): void {
  const payload = resource.payload;
  if (payload === undefined) return;
  if (!Array.isArray(payload)) throw invalidBody(COMMUNICATION_TEXT.payloadNotArray);
  if (payload.length !== 1) throw invalidBody(COMMUNICATION_TEXT.payloadCount);
  const content = (payload[0] as FhirJson | undefined)?.contentString;
  if (typeof content !== 'string') throw invalidBody(COMMUNICATION_TEXT.payloadNotString);
  if (Buffer.byteLength(content, 'utf8') > MAX_PAYLOAD_BYTES) throw invalidBody(COMMUNICATION_TEXT.payloadTooLarge);
  const schema = type === 'DispReq' ? DISP_REQ_PAYLOAD_SCHEMA : type === 'Reply' ? REPLY_PAYLOAD_SCHEMA : undefined;
  if (!schema) return;
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch {
    throw invalidBody(COMMUNICATION_TEXT.payloadInvalidJson);
  }
  const violation = schemaViolation(doc, schema);
  if (violation) throw invalidBody(COMMUNICATION_TEXT.payloadSchema + violation);
  if (type === 'Reply') {
    const o = doc as Record<string, unknown>;
    if ((o.pickUpCodeHR !== undefined || o.pickUpCodeDMC !== undefined) && o.supplyOptionsType !== 'onPremise') throw invalidBody(COMMUNICATION_TEXT.payloadOnPremise);
    if (typeof o.url === 'string' && !isUri(o.url)) throw invalidBody(COMMUNICATION_TEXT.payloadUrl);
  }
}

/** A time-ordered UUID (48-bit ms timestamp first, like production's ids that encode `sent`). */
export function newCommunicationId(sent: Date, random: Buffer): string {
  const hex = sent.getTime().toString(16).padStart(12, '0').slice(-12) + random.toString('hex').slice(0, 20);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
